"""The benchmark harness runs end to end (``python -m bench --quick``); no timing asserts.

It starts its own receiver processes, sends real requests and measures; here it only has
to finish, print every benchmark with the command that reproduces it, and write its JSON.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

from bench import BENCHMARKS, ROOT


def test_every_benchmark_runs_in_quick_mode_and_prints_its_figures(tmp_path: Path) -> None:
    figures_file = tmp_path / "figures.json"
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--json", str(figures_file)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert out.startswith("machine: ")
    for name in BENCHMARKS:
        assert f"\n{name}\n  reproduce: python -m bench {name}" in out
    results = {result["name"]: result for result in json.loads(figures_file.read_text())["results"]}
    assert list(results) == list(BENCHMARKS)
    for result in results.values():
        assert result["figures"], result["name"]
        for figure in result["figures"]:
            assert math.isfinite(figure["value"]), figure
    names = {figure["name"] for figure in results["throughput"]["figures"]}
    assert "dispatcher (generate+sign+encode+record+send)" in names
    lateness = [figure["name"] for figure in results["lateness"]["figures"]]
    assert lateness == [
        f"{size} callbacks: {stat}" for size in (20, 100) for stat in ("p50", "p99", "max")
    ]


def test_one_benchmark_can_be_picked_and_an_unknown_name_is_refused() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bench", "virtual", "--quick", "--callbacks", "20"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "python -m bench virtual --callbacks 20" in done.stdout
    assert "20 callbacks x 6 requests" in done.stdout
    assert "\nthroughput\n" not in done.stdout
    refused = subprocess.run(
        [sys.executable, "-m", "bench", "speed"], cwd=ROOT, capture_output=True, text=True
    )
    assert refused.returncode == 2 and "unknown benchmark 'speed'" in refused.stderr


def test_load_runs_on_uvloop_when_asked() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bench", "load", "--quick", "--loop", "uvloop"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "python -m bench load --rates 200,500 --duration 1 --loop uvloop" in done.stdout
    assert "whole processes on uvloop" in done.stdout
    assert "500/s asked: achieved" in done.stdout
