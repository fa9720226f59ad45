"""``zego-emulator demo``: the whole flow offline, end to end, sped up.

Each run starts the built-in receiver on a free port of 127.0.0.1 and delivers the demo's
three callbacks over real sockets; a high ``speed`` keeps the 62 s schedule short.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from emulator.cli.main import build_parser
from emulator.record.reader import read_record
from emulator.scenario.model import Scenario
from emulator.scenario.reader import load_scenario
from emulator.term.demo import DEMO_SCENARIO, demo_scenario, run_demo

REPO = Path(__file__).resolve().parents[2]
FAST = 300.0  # the 62 s schedule in about 0.2 s


def test_demo_runs_end_to_end_and_shows_all_three_fates(tmp_path: Path) -> None:
    out = io.StringIO()
    record = tmp_path / "demo.jsonl"

    code = run_demo(speed=FAST, record=record, stdout=out)

    text = out.getvalue()
    assert code == 0, text
    assert "receiver listening on http://127.0.0.1:" in text
    assert "delivered after 1 request " in text
    assert "delivered after 3 requests" in text
    assert "lost after 6 requests" in text
    assert text.count("✕") >= 8  # 2 refusals + 6 refusals drawn on the timeline
    assert f"record: {record}" in text
    lines = read_record(record)
    attempts = [line for line in lines if line["type"] == "attempt"]
    assert len(attempts) == 10
    by_callback: dict[str, list[int | None]] = {}
    for attempt in attempts:
        by_callback.setdefault(attempt["callback_id"], []).append(attempt["status"])
    assert sorted(by_callback.values(), key=len) == [[200], [500, 500, 200], [500] * 6]
    (summary,) = [line for line in lines if line["type"] == "summary"]
    assert summary["ok"] is True and summary["delivered"] == 2 and summary["lost"] == 1
    html = record.with_suffix(".html")
    assert f"HTML report: {html}" in text
    # the report beside the record draws every recorded attempt on the timeline
    assert html.read_text(encoding="utf-8").count('<g class="attempt ') == len(attempts)


def test_demo_on_virtual_time_takes_no_waiting(tmp_path: Path) -> None:
    out = io.StringIO()
    assert run_demo(virtual=True, record=tmp_path / "demo.jsonl", stdout=out) == 0
    assert "virtual time" in out.getvalue()


def test_demo_exits_1_when_an_expectation_fails(tmp_path: Path) -> None:
    data = dict(DEMO_SCENARIO, expect={"lost": 0})
    out = io.StringIO()

    code = run_demo(
        virtual=True,
        record=tmp_path / "demo.jsonl",
        stdout=out,
        scenario=Scenario.model_validate(data),
    )

    assert code == 1
    assert "expectation failed: lost: expected 0, observed 1" in out.getvalue()


def test_the_built_in_demo_scenario_equals_scenarios_demo_yaml() -> None:
    assert load_scenario(REPO / "scenarios" / "demo.yaml") == demo_scenario()


def test_demo_command_needs_no_arguments_and_no_fixed_port(tmp_path: Path) -> None:
    """What a fresh clone's `zego-emulator demo` does, only faster; run from an empty dir."""
    completed = subprocess.run(
        [sys.executable, "-m", "emulator", "demo", "--speed", str(FAST)],
        cwd=tmp_path,
        env={**os.environ, "COLUMNS": "100"},
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "Traceback" not in completed.stderr
    assert "lost after 6 requests" in completed.stdout
    records = list((tmp_path / "runs").glob("*-demo.jsonl"))
    assert len(records) == 1
    assert f"record: {Path('runs') / records[0].name}" in completed.stdout


def test_demo_flags() -> None:
    parser = build_parser()
    assert parser.parse_args(["demo"]).speed == 6.2
    assert parser.parse_args(["demo", "--real-time"]).real_time is True
    assert parser.parse_args(["demo", "--speed", "20", "--record", "x.jsonl"]).record == "x.jsonl"
    with pytest.raises(SystemExit):
        parser.parse_args(["demo", "--real-time", "--speed", "3"])
