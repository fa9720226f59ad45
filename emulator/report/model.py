"""Record lines grouped per run and callback: the views every report renders.

    runs = load(["runs/demo.jsonl"])   # several records merge, kept apart per run_id

A torn last line is skipped; hand-edited values are coerced, never crash a report.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from emulator.errors import UsageError
from emulator.record.reader import read_record

if TYPE_CHECKING:
    pass


State = Literal["delivered", "lost", "pending"]


RecordSource = str | os.PathLike[str] | Iterable[str | os.PathLike[str]] | Iterable[dict[str, Any]]


@dataclass
class CallbackView:
    """One callback of one run: its ``callback`` line, its attempts and its outcome."""

    run_id: str
    callback_id: str
    event: str = ""
    task_id: str = ""
    target: str = ""
    tamper: str = "none"
    attempts: list[dict[str, Any]] = field(default_factory=list)
    outcome: dict[str, Any] | None = None
    sent: bool = False  # a ``callback`` line was seen

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


@dataclass
class RunView:
    """The lines of one ``run_id``: its ``run`` and ``summary`` lines and its callbacks."""

    run_id: str
    run: dict[str, Any] | None = None
    summary: dict[str, Any] | None = None
    callbacks: list[CallbackView] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)

    @property
    def scenario(self) -> str:
        return as_text((self.run or {}).get("scenario")) or "run"

    @property
    def target(self) -> str:
        target = as_text((self.run or {}).get("target"))
        return target or next((cb.target for cb in self.callbacks if cb.target), "")

    @property
    def expectations(self) -> list[dict[str, Any]]:
        found = (self.summary or {}).get("expectations")
        return [item for item in found if isinstance(item, dict)] if isinstance(found, list) else []


def group_lines(lines: Iterable[Mapping[str, Any]], source: str = "") -> list[RunView]:
    """Record lines grouped per run (first-seen order) and per callback within a run.

    A callback id seen again in the same run (a duplicate delivery) becomes a second
    view: attempts and outcomes go to the earliest open view they continue.
    """
    runs: dict[str, RunView] = {}
    open_views: dict[tuple[str, str], list[CallbackView]] = {}
    for line in lines:
        kind = line.get("type")
        run_id = as_text(line.get("run_id"))
        run = runs.get(run_id)
        if run is None:
            run = runs[run_id] = RunView(run_id)
        if source and source not in run.sources:
            run.sources.append(source)
        if kind == "run":
            run.run = dict(line)
        elif kind == "summary":
            run.summary = dict(line)
        elif kind in ("callback", "attempt", "outcome"):
            _place(run, open_views, line)
    return [run for run in runs.values() if run.run or run.summary or run.callbacks]


def _place(
    run: RunView,
    open_views: dict[tuple[str, str], list[CallbackView]],
    line: Mapping[str, Any],
) -> None:
    """Put a callback/attempt/outcome line on the callback view it belongs to."""
    callback_id = as_text(line.get("callback_id"))
    views = open_views.setdefault((run.run_id, callback_id), [])
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
        view = CallbackView(run.run_id, callback_id)
        views.append(view)
        run.callbacks.append(view)
    view.event = view.event or as_text(line.get("event"))
    view.task_id = view.task_id or as_text(line.get("task_id"))
    if kind == "callback":
        view.sent = True
        view.target = as_text(line.get("target"))
        view.tamper = as_text(line.get("tamper")) or "none"
    elif kind == "attempt":
        view.attempts.append(dict(line))
    else:
        view.outcome = dict(line)
        views.remove(view)


def load(paths: Iterable[str | os.PathLike[str]]) -> list[RunView]:
    """Read record files into runs; a missing, unreadable or empty record is a UsageError."""
    runs: list[RunView] = []
    by_id: dict[str, RunView] = {}
    for path in paths:
        lines = _read(Path(path))
        for run in group_lines(lines, str(path)):
            if run.run_id in by_id:  # the same run continued in another file (resume)
                _merge(by_id[run.run_id], run)
            else:
                by_id[run.run_id] = run
                runs.append(run)
    return runs


def _read(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        raise UsageError(f"record {path} does not exist")
    if not path.is_file():
        raise UsageError(f"record {path} is not a file")
    try:
        lines = read_record(path)
    except OSError as exc:
        raise UsageError(f"cannot read record {path}: {exc.strerror or exc}") from exc
    if not any(line.get("type") in ("run", "attempt", "outcome", "summary") for line in lines):
        raise UsageError(f"{path} holds no record lines: expected a zego-emulator record (JSONL)")
    return lines


def _merge(into: RunView, more: RunView) -> None:
    into.run = into.run or more.run
    into.summary = more.summary or into.summary
    into.callbacks.extend(more.callbacks)
    into.sources.extend(source for source in more.sources if source not in into.sources)


def runs_from(source: RecordSource) -> list[RunView]:
    """Runs from a record path, several paths, or record lines already read."""
    if isinstance(source, str | os.PathLike):
        return load([source])
    items = list(source)
    if items and all(isinstance(item, Mapping) for item in items):
        return group_lines(item for item in items if isinstance(item, Mapping))
    paths = [item for item in items if isinstance(item, str | os.PathLike)]
    if len(paths) != len(items):
        raise UsageError("expected record paths or record lines (dicts), not a mix")
    return load(paths)


def select_runs(runs: list[RunView], run_ids: Sequence[str] | None) -> list[RunView]:
    if run_ids is None:
        return runs
    chosen = [run for run in runs if run.run_id in run_ids]
    if not chosen:
        raise UsageError(f"no run {', '.join(run_ids)} in the record")
    return chosen


def write_file(path: Path, text: str) -> Path:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from exc
    return path


def as_text(value: object) -> str:
    return "" if value is None else str(value)


def as_number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def as_int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None
