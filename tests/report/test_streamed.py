"""``report`` reads in one pass, dropping each callback once counted: its terminal, JSON and
HTML outputs are exactly those of the runs read whole (``load``), for a detail-sized
record and an aggregate-sized one with retries, duplicates, failed verdicts and pending
callbacks. The records come from real deliveries to a receiver on 127.0.0.1.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from test_report import record_run

from emulator import cli
from emulator.record.reader import read_record
from emulator.report.html import AGGREGATE_OVER, render_html
from emulator.report.model import load
from emulator.report.stats import report_data
from emulator.report.terminal import render_terminal


def hand_edit(path: Path) -> None:
    """Fail every fifth callback's verdict, deliver cb-000002 a second time under its id,
    and drop the last outcome (a callback with no outcome)."""
    lines = read_record(path)
    outcomes = [n for n, line in enumerate(lines) if line["type"] == "outcome"]
    for count, index in enumerate(outcomes):
        if count % 5 == 0:
            lines[index].update(expect="delivered", verdict="fail", why="hand-edited")
    again = [line for line in lines if line.get("callback_id") == "cb-000002"]
    del lines[outcomes[-1]]
    lines[-1:-1] = [dict(line) for line in again]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")


@pytest.mark.parametrize("callbacks", [12, AGGREGATE_OVER + 40])
async def test_streamed_report_equals_the_whole_read(
    tmp_path: Path, callbacks: int, capsys: pytest.CaptureFixture[str]
) -> None:
    first, second = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    scripts: list[list[Any]] = [[200], [500, 200], [500, 500, 500, 500, 500, 404]]
    await record_run(first, [scripts[n % 3] for n in range(callbacks)], run_id="run-a")
    await record_run(second, [[503, 200], [200]], run_id="run-b", seed=9)
    hand_edit(first)
    paths = [str(first), str(second)]
    whole = load(paths)

    assert cli.main(["report", *paths, "--json"]) == 0
    streamed = json.loads(capsys.readouterr().out)
    assert streamed.pop("skipped_lines") == {"garbled": 0, "torn": 0, "records": []}
    expected = report_data(whole)
    assert streamed == json.loads(json.dumps(expected))
    assert streamed["callbacks_failed"] > 0 and streamed["total"]["pending"] == 1

    page = tmp_path / "r.html"
    assert cli.main(["report", *paths, "--html", str(page)]) == 0
    out = capsys.readouterr().out
    assert page.read_text(encoding="utf-8") == render_html(whole)
    buffer = io.StringIO()
    console = Console(file=buffer, highlight=False)  # as the command makes it
    render_terminal(expected, console)
    terminal = out.split("HTML report:")[0]
    assert [line.rstrip() for line in terminal.splitlines()] == [
        line.rstrip() for line in buffer.getvalue().splitlines()
    ]

    xml = tmp_path / "r.xml"
    assert cli.main(["report", *paths, "--json", "--junit", str(xml)]) == 0
    kept = json.loads(capsys.readouterr().out)
    kept.pop("skipped_lines")
    assert kept == streamed  # --junit keeps every callback: the same numbers


def test_the_terminal_lists_at_most_100_runs_and_says_how_many_more(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Many runs: the first 100 rows, the rest counted in "all runs" and said as not shown;
    the same for failed expectations and failed callbacks."""
    record = tmp_path / "many.jsonl"
    lines = []
    for index in range(130):
        run_id = f"run-{index:03d}"
        lines += [
            {"type": "run", "run_id": run_id, "started_at": 1.7e9, "scenario": f"s{index}"},
            {"type": "callback", "run_id": run_id, "callback_id": "cb-1", "event": "e",
             "task_id": "t", "target": "http://127.0.0.1:9/cb", "delay": 0.0,
             "content_type": "application/json", "body": "{}"},
            {"type": "outcome", "run_id": run_id, "callback_id": "cb-1", "delivered": False,
             "lost": True, "attempts": 0, "verdict": "fail", "why": f"why {index}"},
            {"type": "summary", "run_id": run_id, "callbacks": 1, "delivered": 0, "lost": 1,
             "attempts": 0, "expectations": [{"name": "lost", "expected": 0, "observed": 1,
                                              "ok": False}]},
        ]  # fmt: skip
    record.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    assert cli.main(["report", str(record)]) == 0
    out = capsys.readouterr().out
    assert "s99 " in out and "s100 " not in out and "s129" not in out.split("Attempts")[0]
    assert "30 more runs not shown (counted in all runs" in " ".join(out.split())
    assert "all runs" in out and "130" in out.split("all runs")[1].split("\n")[0]
    assert out.count("expectation failed: callback cb-1") == 100
    assert "... and 30 more failed callbacks (report --json lists every one)" in out
    assert "30 more failed expectation(s) not shown" in " ".join(out.split())


def test_percentiles_of_many_values_equal_the_nearest_rank_of_the_sorted_list() -> None:
    """Beyond one sorted chunk the values are sorted in chunks and merged: same answer."""
    import random
    from array import array

    from emulator.report.stats import SORTED_CHUNK, Tally, percentile

    rng = random.Random(5)
    values = [round(rng.lognormvariate(1, 1), 3) for _ in range(SORTED_CHUNK * 2 + 17)]
    values += [values[0]] * 1000  # duplicates across chunks
    tally = Tally()
    tally.latencies = array("d", values)
    tally.lateness = array("d", [0.0] * 5)
    numbers = tally.result()
    assert numbers["latency_ms"] == {
        "p50": round(percentile(values, 50) or 0, 3),
        "p95": round(percentile(values, 95) or 0, 3),
        "p99": round(percentile(values, 99) or 0, 3),
        "max": round(max(values), 3),
    }
    assert numbers["lateness_ms"] == {"p50": 0.0, "p99": 0.0, "max": 0.0}
