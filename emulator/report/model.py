"""The runs every report renders: the shared record model (:mod:`emulator.record.reader`).

    runs = load(["runs/demo.jsonl"])   # several records merge, kept apart per run_id

A run is a :class:`~emulator.record.reader.RunRecord`; its ``views`` are its callbacks,
one :class:`~emulator.record.reader.CallbackView` per delivery. A bad line is exit 2
naming the record, line and field; garbled lines and a torn last line are skipped and
counted (``skipped``).
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from emulator.errors import UsageError
from emulator.record.reader import (
    CallbackView,
    RecordReader,
    RunRecord,
    Skipped,
    State,
    as_int,
    as_text,
)

RunView = RunRecord  # the report's name for a run of the shared model

RecordSource = str | os.PathLike[str] | Iterable[str | os.PathLike[str]] | Iterable[dict[str, Any]]

__all__ = [
    "CallbackView",
    "RecordSource",
    "RunView",
    "State",
    "as_int",
    "as_number",
    "as_text",
    "group_lines",
    "load",
    "runs_from",
    "select_runs",
    "write_file",
]


def reported(runs: Iterable[RunRecord]) -> list[RunRecord]:
    """The runs a report shows: those with a run or summary line or a callback."""
    return [run for run in runs if run.run or run.summaries or run.deliveries]


def group_lines(lines: Iterable[Mapping[str, Any]], source: str = "") -> list[RunView]:
    """Record lines already read (or made in memory) grouped per run and per delivery."""
    reader = RecordReader(lines=False, views=True)
    for line in lines:
        reader.add(line, source)
    return reported(reader.runs())


def read_into(reader: RecordReader, paths: Iterable[str | os.PathLike[str]]) -> None:
    """Read record files with ``reader``; a file with no record lines is a UsageError."""
    for path in paths:
        if not reader.read(path):
            raise UsageError(
                f"{path} holds no record lines: expected a zego-emulator record (JSONL)"
            )


def load(paths: Iterable[str | os.PathLike[str]], skipped: Skipped | None = None) -> list[RunView]:
    """Read record files into runs; a missing, unreadable or empty record, or a bad line,
    is a UsageError."""
    reader = RecordReader(lines=False, views=True, skipped=skipped)
    read_into(reader, paths)
    return reported(reader.runs())


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
    wanted = set(run_ids)
    chosen = [run for run in runs if run.run_id in wanted]
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


def as_number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None
