"""Reading records: the lines, and the one model of a run that resume, replay and report use.

    runs = read_runs("runs/x.jsonl")     # one RunRecord per run_id, in first-seen order
    runs[0].pending                      # callback ids with no outcome line yet

A torn or garbled line is skipped (a run killed mid-write leaves at most one).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from emulator.callback.model import Callback
from emulator.delivery.results import Attempt
from emulator.errors import DecodeError, UsageError
from emulator.wire import decode


def iter_record(path: str | os.PathLike[str]) -> Iterator[dict[str, Any]]:
    """Every complete JSON object line of a record; a torn or garbled line is skipped."""
    with Path(path).open("r", encoding="utf-8", errors="replace") as handle:
        for raw in handle:
            line = raw.strip()
            if not line:
                continue
            try:
                value = json.loads(line)
            except ValueError:
                continue
            if isinstance(value, dict):
                yield value


def read_record(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """All complete lines of a record file (see :func:`iter_record`)."""
    return list(iter_record(path))


def read_records(paths: Iterable[str | os.PathLike[str]]) -> list[dict[str, Any]]:
    """The lines of several record files, in order."""
    return [line for path in paths for line in iter_record(path)]


def read_lines(record_paths: Sequence[str | os.PathLike[str]]) -> list[dict[str, Any]]:
    """Every line of the record files; a missing or unreadable one is a UsageError."""
    lines: list[dict[str, Any]] = []
    for path in record_paths:
        record = Path(path)
        if not record.is_file():
            raise UsageError(f"record {record} does not exist or is not a file")
        try:
            lines.extend(iter_record(record))
        except OSError as exc:
            raise UsageError(f"cannot read record {record}: {exc.strerror or exc}") from exc
    return lines


@dataclass
class RunRecord:
    """One run of a record as the record left it."""

    run_id: str
    run: dict[str, Any] = field(default_factory=dict)
    callbacks: dict[str, dict[str, Any]] = field(default_factory=dict)  # callback lines
    attempts: dict[str, dict[int, Attempt]] = field(default_factory=dict)  # by number
    outcomes: dict[str, dict[str, Any]] = field(default_factory=dict)  # outcome lines
    summaries: list[dict[str, Any]] = field(default_factory=list)
    resumes: list[dict[str, Any]] = field(default_factory=list)
    callback_lines: list[dict[str, Any]] = field(default_factory=list)  # all, in order

    @property
    def pending(self) -> list[str]:
        """Callback ids with a ``callback`` line and no ``outcome`` line, in record order."""
        return [cid for cid in self.callbacks if cid not in self.outcomes]

    @property
    def planned(self) -> int:
        """Deliveries the run planned (its ``run`` line), else the callbacks it recorded."""
        count = self.run.get("callbacks")
        return count if isinstance(count, int) else len(self.callbacks)

    @property
    def plan(self) -> dict[str, Any] | None:
        """The run line's ``plan`` (enough to regenerate every planned callback), if any."""
        plan = self.run.get("plan")
        return plan if isinstance(plan, dict) else None

    @property
    def unsent(self) -> int:
        """Planned callbacks with no ``callback`` line (a kill kept them from starting);
        only a run whose record holds its plan can send them later."""
        if self.plan is None:
            return 0
        return max(0, self.planned - len(self.callbacks))

    @property
    def needs_resume(self) -> bool:
        """Pending or unsent callbacks, or no final summary (none, or an interrupted one)."""
        if self.pending or self.unsent:
            return True
        last = self.summaries[-1] if self.summaries else None
        return last is None or bool(last.get("interrupted"))

    @property
    def speed(self) -> float | None:
        """The run's speed; None for a virtual-time run."""
        speed = self.run.get("speed")
        return float(speed) if isinstance(speed, int | float) and speed > 0 else None

    def history(self, callback_id: str) -> list[Attempt]:
        """The attempts recorded for a callback, in attempt order."""
        by_number = self.attempts.get(callback_id, {})
        return [by_number[number] for number in sorted(by_number)]

    def frontier(self) -> float:
        """The latest instant the record reached (virtual runs resume from it)."""
        times = [float(self.run.get("started_at") or 0.0)]
        times += [a.sent_at for by_number in self.attempts.values() for a in by_number.values()]
        return max(times)


def read_runs(path: str | Path) -> list[RunRecord]:
    """The runs of a record file, in the order their lines first appear."""
    record = Path(path)
    runs = runs_from_lines(read_lines([record]))
    if not any(run.run for run in runs):
        raise UsageError(f"{record} has no run line: expected a zego-emulator record (JSONL)")
    return [run for run in runs if run.run]


def runs_from_lines(lines: Sequence[Mapping[str, Any]]) -> list[RunRecord]:
    """Group record lines by ``run_id`` into :class:`RunRecord` objects."""
    runs: dict[str, RunRecord] = {}
    for line in lines:
        run_id = str(line.get("run_id") or "")
        state = runs.setdefault(run_id, RunRecord(run_id))
        kind = line.get("type")
        callback_id = str(line.get("callback_id") or "")
        if kind == "run":
            state.run = dict(line)
        elif kind == "callback" and callback_id:
            state.callbacks.setdefault(callback_id, dict(line))
            state.callback_lines.append(dict(line))
        elif kind == "attempt" and callback_id:
            attempt = attempt_from_line(line)
            if attempt is not None:
                state.attempts.setdefault(callback_id, {}).setdefault(attempt.attempt, attempt)
        elif kind == "outcome" and callback_id:
            state.outcomes[callback_id] = dict(line)
        elif kind == "summary":
            state.summaries.append(dict(line))
        elif kind == "resume":
            state.resumes.append(dict(line))
    return list(runs.values())


def attempt_from_line(line: Mapping[str, Any]) -> Attempt | None:
    """An :class:`Attempt` back from its record line (None when the line is unusable)."""
    try:
        number = int(line["attempt"])
        sent_at = float(line["sent_at"])
    except (KeyError, TypeError, ValueError):
        return None
    if number < 1:
        return None
    status = line.get("status")
    gap = line.get("gap_s")
    return Attempt(
        callback_id=str(line.get("callback_id")),
        event=str(line.get("event") or ""),
        task_id=str(line.get("task_id") or ""),
        attempt=number,
        scheduled_at=float(line.get("scheduled_at") or sent_at),
        sent_at=sent_at,
        offset_s=float(line.get("offset_s") or 0.0),
        gap_s=float(gap) if isinstance(gap, int | float) else None,
        status=status if isinstance(status, int) else None,
        error=line.get("error"),
        latency_ms=float(line.get("latency_ms") or 0.0),
        response_excerpt=str(line.get("response_excerpt") or ""),
        run_id=str(line.get("run_id") or ""),
        decision=line.get("decision") if isinstance(line.get("decision"), dict) else None,
        error_detail=detail if isinstance(detail := line.get("error_detail"), str) else None,
    )


def callback_from_line(line: Mapping[str, Any], record: str) -> Callback:
    """The exact callback a ``callback`` line describes (the recorded bytes, not re-signed)."""
    callback_id = str(line.get("callback_id"))
    body = line.get("body")
    content_type = line.get("content_type")
    if not isinstance(body, str) or not isinstance(content_type, str):
        raise UsageError(f"{record}: callback {callback_id}: no body to re-send in its line")
    raw = body.encode("utf-8")
    try:
        fields = decode(raw, content_type)
    except (DecodeError, ValueError):
        fields = {}
    return Callback(
        callback_id=callback_id,
        event=str(line.get("event") or ""),
        task_id=str(line.get("task_id") or ""),
        fields=fields,
        encoding=line.get("encoding") or "form",
        tamper=line.get("tamper") or "none",
        _body=(content_type, raw),
    )
