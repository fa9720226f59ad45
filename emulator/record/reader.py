"""Reading records: the one model of a run that resume, replay and report share.

    runs = read_runs("runs/x.jsonl")     # one RunRecord per run_id, in first-seen order
    runs[0].pending                      # callback ids with no outcome line yet

Lines come from :mod:`emulator.record.parse` (:func:`checked_lines`: parsed and checked,
a bad line exit 2 naming record, line and field; garbled and torn lines counted in
:class:`Skipped`). :class:`RecordReader` groups them into :class:`RunRecord` objects:
resume's view (callback lines, attempts by number, outcomes) and report's
(:class:`CallbackView` per delivery, a duplicate delivery of one id its own view).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from emulator.callback.model import Callback
from emulator.delivery.results import Attempt
from emulator.errors import DecodeError, UsageError
from emulator.record.parse import (
    Skipped,
    checked_lines,
    iter_record,
    read_lines,
    read_record,
    read_records,
)
from emulator.wire import decode

__all__ = [
    "CallbackView",
    "RecordReader",
    "RunRecord",
    "Skipped",
    "attempt_from_line",
    "callback_from_line",
    "checked_lines",
    "iter_record",
    "read_lines",
    "read_record",
    "read_records",
    "read_runs",
    "runs_from_lines",
]

REPORT_KINDS = frozenset({"run", "attempt", "outcome", "summary"})
State = Literal["delivered", "lost", "pending"]


# --- the model: runs and their callbacks --------------------------------------------------


@dataclass(eq=False)
class CallbackView:
    """One delivery of one callback in one run: its ``callback`` line's facts, its
    attempt lines and its outcome line (a duplicate delivery of an id is its own view)."""

    run_id: str
    callback_id: str
    event: str = ""
    task_id: str = ""
    target: str = ""
    tamper: str = "none"
    attempts: list[dict[str, Any]] = field(default_factory=list)
    outcome: dict[str, Any] | None = None
    sent: bool = False  # a ``callback`` line was seen
    seq: int = 0  # the order views were first seen in, over every record read

    @property
    def state(self) -> State:
        if self.outcome is None:
            return "pending"
        return "delivered" if self.outcome.get("delivered") else "lost"

    @property
    def attempt_count(self) -> int:
        return len(self.attempts)

    @property
    def retried(self) -> bool:
        return self.attempt_count > 1 or self.state == "lost"

    @property
    def expect(self) -> str:
        """The per-callback expectation its outcome was judged by ("" when not judged)."""
        return as_text((self.outcome or {}).get("expect"))

    @property
    def broken(self) -> bool:
        """True when its per-callback expectation (``expect:``) did not hold."""
        return (self.outcome or {}).get("verdict") == "fail"

    @property
    def why(self) -> str:
        """The verdict's one-line reason ("" when not judged)."""
        return as_text((self.outcome or {}).get("why"))


@dataclass(eq=False)
class RunRecord:
    """One run as its record left it: resume's view (``callbacks``, ``attempts``,
    ``outcomes``) and report's (``views``), whichever the reader kept."""

    run_id: str
    run: dict[str, Any] = field(default_factory=dict)
    callbacks: dict[str, dict[str, Any]] = field(default_factory=dict)  # first line per id
    attempts: dict[str, dict[int, Attempt]] = field(default_factory=dict)  # by number
    outcomes: dict[str, dict[str, Any]] = field(default_factory=dict)  # outcome lines
    summaries: list[dict[str, Any]] = field(default_factory=list)
    resumes: list[dict[str, Any]] = field(default_factory=list)
    views: list[CallbackView] = field(default_factory=list)  # report: one per delivery
    sources: list[str] = field(default_factory=list)  # the records it was read from
    index: int = 0  # the order runs were first seen in
    run_source: str | None = None  # the record its run line came from
    deliveries: int = 0  # report: the callback views placed (kept in ``views`` or not)
    first_target: str = ""  # report: the first callback line's target

    # -- resume --
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

    # -- report --
    @property
    def summary(self) -> dict[str, Any] | None:
        """The run's last ``summary`` line."""
        return self.summaries[-1] if self.summaries else None

    @property
    def scenario(self) -> str:
        return as_text(self.run.get("scenario")) or "run"

    @property
    def target(self) -> str:
        target = as_text(self.run.get("target"))
        return target or next((cb.target for cb in self.views if cb.target), self.first_target)

    @property
    def expectations(self) -> list[dict[str, Any]]:
        found = (self.summary or {}).get("expectations")
        return [item for item in found if isinstance(item, dict)] if isinstance(found, list) else []


ViewSink = Callable[[RunRecord, CallbackView], None]


class RecordReader:
    """Places record lines on runs (first-seen order), for resume and for report.

    ``lines``: keep what resume needs (each id's callback line, attempts by number,
    outcomes). ``views``: keep report's :class:`CallbackView` per delivery. ``on_view``
    gets each view once it is complete (its outcome, or the end of its record) and then
    it is not kept: a report of a huge record holds only the views still open.
    """

    def __init__(
        self,
        *,
        lines: bool = True,
        views: bool = False,
        on_view: ViewSink | None = None,
        skipped: Skipped | None = None,
    ) -> None:
        self.keep_lines = lines
        self.keep_views = views or on_view is not None
        self.on_view = on_view
        self.skipped = skipped if skipped is not None else Skipped()
        self.by_id: dict[str, RunRecord] = {}
        self._open: dict[tuple[str, str], list[CallbackView]] = {}
        self._seq = 0

    def read(self, path: str | os.PathLike[str], *, want: frozenset[str] = REPORT_KINDS) -> bool:
        """Read one record file; True when it held a line of a kind in ``want``."""
        source = str(path)
        found = False
        for line in checked_lines(path, self.skipped):
            found = found or line.get("type") in want
            self.add(line, source)
        self.end_source()
        return found

    def add(self, line: Mapping[str, Any], source: str = "") -> None:
        """Place one line (already checked, or from memory) on its run."""
        run_id = as_text(line.get("run_id"))
        state = self.by_id.get(run_id)
        if state is None:
            state = self.by_id[run_id] = RunRecord(run_id, index=len(self.by_id))
        if source and source not in state.sources:
            state.sources.append(source)
        kind = line.get("type")
        if kind == "run":
            if not state.run or state.run_source == source:  # a later record's is a copy
                state.run = dict(line)
                state.run_source = source
        elif kind == "summary":
            state.summaries.append(dict(line))
        elif kind == "resume":
            state.resumes.append(dict(line))
        elif kind in ("callback", "attempt", "outcome"):
            if self.keep_lines:
                _keep_line(state, line)
            if self.keep_views:
                self._place(state, line)

    def end_source(self) -> None:
        """A record ends: its open views (no outcome) are complete as pending."""
        if self.on_view is not None:
            for views in self._open.values():
                for view in views:
                    self.on_view(self.by_id[view.run_id], view)
        self._open.clear()

    def runs(self) -> list[RunRecord]:
        """Every run read, in first-seen order."""
        return list(self.by_id.values())

    def _place(self, run: RunRecord, line: Mapping[str, Any]) -> None:
        """Put a callback/attempt/outcome line on the view it belongs to: a callback id
        seen again (a duplicate delivery) is a new view; attempts and outcomes go to the
        earliest open view they continue."""
        callback_id = as_text(line.get("callback_id"))
        views = self._open.setdefault((run.run_id, callback_id), [])
        kind = line.get("type")
        view: CallbackView | None = None
        if kind == "callback":
            view = next((v for v in views if not v.sent and not v.attempts), None)
        elif kind == "attempt":
            number = as_int(line.get("attempt")) or 0
            view = next((v for v in views if v.attempt_count == number - 1), None)
            view = view or (views[-1] if views else None)  # continued elsewhere (resume)
        else:
            count = as_int(line.get("attempts"))
            view = next((v for v in views if count is None or v.attempt_count == count), None)
            view = view or (views[0] if views else None)
        if view is None:
            self._seq += 1
            view = CallbackView(run.run_id, callback_id, seq=self._seq)
            run.deliveries += 1
            views.append(view)
            if self.on_view is None:
                run.views.append(view)
        view.event = view.event or as_text(line.get("event"))
        view.task_id = view.task_id or as_text(line.get("task_id"))
        if kind == "callback":
            view.sent = True
            view.target = as_text(line.get("target"))
            view.tamper = as_text(line.get("tamper")) or "none"
            run.first_target = run.first_target or view.target
        elif kind == "attempt":
            view.attempts.append(dict(line))
        else:
            view.outcome = dict(line)
            views.remove(view)
            if not views:
                del self._open[(run.run_id, callback_id)]
            if self.on_view is not None:
                self.on_view(run, view)


def _keep_line(state: RunRecord, line: Mapping[str, Any]) -> None:
    kind = line.get("type")
    callback_id = as_text(line.get("callback_id"))
    if not callback_id:
        return
    if kind == "callback":
        state.callbacks.setdefault(callback_id, dict(line))
    elif kind == "attempt":
        attempt = attempt_from_line(line)
        if attempt is not None:
            state.attempts.setdefault(callback_id, {}).setdefault(attempt.attempt, attempt)
    else:
        state.outcomes[callback_id] = dict(line)


def read_runs(path: str | Path, skipped: Skipped | None = None) -> list[RunRecord]:
    """The runs of a record file that have a ``run`` line, in the order they first appear;
    a bad line is a UsageError (see :func:`checked_lines`)."""
    reader = RecordReader(skipped=skipped)
    if not reader.read(path, want=frozenset({"run"})):
        raise UsageError(f"{path} has no run line: expected a zego-emulator record (JSONL)")
    return [run for run in reader.runs() if run.run]


def runs_from_lines(lines: Iterable[Mapping[str, Any]]) -> list[RunRecord]:
    """Group record lines (already read) by ``run_id`` into :class:`RunRecord` objects."""
    reader = RecordReader()
    for line in lines:
        reader.add(line)
    return reader.runs()


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


def as_text(value: object) -> str:
    """A record value as text ("" for null)."""
    return "" if value is None else str(value)


def as_int(value: object) -> int | None:
    """A record value as an int (None for anything that is not a whole number)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None
