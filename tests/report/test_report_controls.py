"""Control characters from a hand-edited record (an ESC, BEL or 8-bit CSI in a name, an id,
a task id, a reason) never reach any report output raw: the terminal tables and lines,
``--json``, ``--html`` and ``--junit`` write them escaped."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from emulator import cli

EVIL = "x\x1b]0;pwned\x07\x1b[2J\x9b31m\x7f"
RAW = ("\x1b", "\x07", "\x9b", "\x7f")


def evil_record(path: Path, runs: int) -> None:
    """Runs whose every text field holds control characters (a failed verdict and
    expectation, so the failure lines print too)."""
    lines = []
    for index in range(runs):
        run_id = f"run-{index}{EVIL}"
        callback = {"run_id": run_id, "callback_id": f"cb{EVIL}", "event": f"ev{EVIL}",
                    "task_id": f"task{EVIL}"}  # fmt: skip
        lines += [
            {"type": "run", "run_id": run_id, "started_at": 1.7e9, "scenario": f"s{EVIL}",
             "target": f"http://127.0.0.1:9/{EVIL}"},
            {"type": "callback", **callback, "target": f"http://127.0.0.1:9/{EVIL}",
             "delay": 0.0, "tamper": f"t{EVIL}", "content_type": "application/json",
             "body": "{}"},
            {"type": "attempt", **callback, "attempt": 1, "scheduled_at": 1.7e9,
             "sent_at": 1.7e9, "offset_s": 0.0, "gap_s": None, "status": None,
             "error": f"err{EVIL}", "latency_ms": 1.0, "response_excerpt": f"r{EVIL}",
             "error_detail": f"d{EVIL}"},
            {"type": "outcome", **callback, "delivered": False, "lost": True, "attempts": 1,
             "expect": f"e{EVIL}", "verdict": "fail", "why": f"why{EVIL}"},
            {"type": "summary", "run_id": run_id, "callbacks": 1, "delivered": 0, "lost": 1,
             "attempts": 1, "expectations": [{"name": f"n{EVIL}", "expected": 0,
                                              "observed": f"o{EVIL}", "ok": False}]},
        ]  # fmt: skip
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")


@pytest.mark.parametrize("runs", [1, 3])
def test_no_report_output_carries_a_raw_control_character(
    tmp_path: Path, runs: int, capsys: pytest.CaptureFixture[str]
) -> None:
    record = tmp_path / "evil.jsonl"
    evil_record(record, runs)
    html, xml = tmp_path / "r.html", tmp_path / "r.xml"
    assert cli.main(["report", str(record), "--html", str(html), "--junit", str(xml)]) == 0
    terminal = capsys.readouterr().out
    assert cli.main(["report", str(record), "--json"]) == 0
    as_json = capsys.readouterr().out
    outputs = {
        "terminal": terminal,
        "json": as_json,
        "html": html.read_text(encoding="utf-8"),
        "junit": xml.read_text(encoding="utf-8"),
    }
    for name, text in outputs.items():
        assert not any(raw in text for raw in RAW), name
    assert "x\\x1b]0;pwned\\x07" in terminal and "why" in terminal
    assert "x\\x1b]0;pwned\\x07" in outputs["html"] and "x\\x1b]0;pwned\\x07" in outputs["junit"]
    data = json.loads(as_json)  # escaped as JSON: the values read back whole
    assert data["runs"][0]["scenario"] == f"s{EVIL}"
    assert data["runs"][0]["failed_callbacks"][0]["why"] == f"why{EVIL}"
