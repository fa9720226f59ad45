"""The one reader model: the same RecordReader gives resume its RunRecord (callback lines,
attempts by number, outcomes) and report its views (one per delivery, duplicates apart),
and, streaming, hands each complete view on and keeps none of them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from emulator.record.reader import CallbackView, RecordReader, RunRecord, read_runs
from emulator.report.model import load


def lines_of_a_run() -> list[dict[str, Any]]:
    """A run line, cb-1 delivered twice under one id (a duplicate), cb-2 still pending."""
    run = {"type": "run", "run_id": "r", "started_at": 1.7e9, "scenario": "s", "callbacks": 3}
    out: list[dict[str, Any]] = [run]
    for delivery in range(2):
        out.append({"type": "callback", "run_id": "r", "callback_id": "cb-1", "event": "e",
                    "task_id": "t", "target": "http://127.0.0.1:9/cb", "delay": 0.0,
                    "content_type": "application/json", "body": "{}"})  # fmt: skip
        for number in (1, 2):
            out.append({"type": "attempt", "run_id": "r", "callback_id": "cb-1",
                        "attempt": number, "sent_at": 1.7e9 + delivery * 10 + number,
                        "scheduled_at": 1.7e9, "offset_s": 0.0, "status": 500 + number,
                        "latency_ms": 1.0})  # fmt: skip
        out.append({"type": "outcome", "run_id": "r", "callback_id": "cb-1",
                    "delivered": delivery == 1, "lost": delivery == 0, "attempts": 2})  # fmt: skip
    out.append({"type": "callback", "run_id": "r", "callback_id": "cb-2", "event": "e",
                "task_id": "t2", "target": "http://127.0.0.1:9/cb", "delay": 5.0,
                "content_type": "application/json", "body": "{}"})  # fmt: skip
    return out


def write(path: Path, lines: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    return path


def test_resume_and_report_read_the_same_record_into_the_same_model(tmp_path: Path) -> None:
    record = write(tmp_path / "r.jsonl", lines_of_a_run())
    [resumed] = read_runs(record)
    [reported] = load([record])
    assert type(resumed) is type(reported) is RunRecord
    assert resumed.pending == ["cb-2"] and list(resumed.callbacks) == ["cb-1", "cb-2"]
    assert [a.status for a in resumed.history("cb-1")] == [501, 502]  # first per number
    assert [(v.callback_id, v.state, v.attempt_count) for v in reported.views] == [
        ("cb-1", "lost", 2),
        ("cb-1", "delivered", 2),  # the duplicate delivery is its own view
        ("cb-2", "pending", 0),
    ]
    assert reported.sources == [str(record)] and reported.target == "http://127.0.0.1:9/cb"


def test_a_streaming_reader_hands_each_view_on_and_keeps_none(tmp_path: Path) -> None:
    record = write(tmp_path / "r.jsonl", lines_of_a_run())
    seen: list[tuple[str, str, str]] = []

    def sink(run: RunRecord, view: CallbackView) -> None:
        seen.append((run.run_id, view.callback_id, view.state))

    reader = RecordReader(lines=False, on_view=sink)
    assert reader.read(record)
    [run] = reader.runs()
    assert seen == [("r", "cb-1", "lost"), ("r", "cb-1", "delivered"), ("r", "cb-2", "pending")]
    assert run.views == [] and run.callbacks == {} and run.attempts == {}
    assert run.deliveries == 3 and reader._open == {}
