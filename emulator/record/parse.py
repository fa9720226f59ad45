"""Record lines from a file: raw (:func:`read_record`) or parsed and checked
(:func:`checked_lines`), the one place a record's text becomes lines.

    for line in checked_lines("runs/x.jsonl", skipped):   # a bad line: UsageError
        ...

Every line is parsed (``NaN``/``Infinity`` refused), looked at for lone surrogates and
checked against its kind's schema (:mod:`emulator.record.schema`); a bad line is a
:class:`~emulator.errors.UsageError` naming ``record:line: field: what``. Skipped instead,
and counted in :class:`Skipped`: blank lines, garbled lines (not JSON) and one torn last
line (a run killed mid-write).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from emulator.errors import UsageError
from emulator.record.schema import NonFinite, line_problem, odd_value, type_name

NOTED_LINES = 10  # garbled line numbers named per record (the rest are counted)


# --- raw lines ---------------------------------------------------------------------------


def iter_record(path: str | os.PathLike[str]) -> Iterator[dict[str, Any]]:
    """Every complete JSON object line of a record, unchecked; anything else is skipped."""
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
    """All complete lines of a record file, unchecked (see :func:`iter_record`)."""
    return list(iter_record(path))


def read_records(paths: Iterable[str | os.PathLike[str]]) -> list[dict[str, Any]]:
    """The lines of several record files, in order, unchecked."""
    return [line for path in paths for line in iter_record(path)]


# --- checked lines -----------------------------------------------------------------------


@dataclass
class Skipped:
    """Lines the readers skipped, per record: garbled ones (not JSON) and a torn last one."""

    garbled: dict[str, int] = field(default_factory=dict)
    torn: dict[str, int] = field(default_factory=dict)
    lines: dict[str, list[int]] = field(default_factory=dict)  # the first NOTED_LINES

    def note(self, record: str, number: int, *, torn: bool) -> None:
        counts = self.torn if torn else self.garbled
        counts[record] = counts.get(record, 0) + 1
        noted = self.lines.setdefault(record, [])
        if len(noted) < NOTED_LINES:
            noted.append(number)

    def notices(self) -> list[str]:
        """One line per record that had lines skipped (for stderr)."""
        out = []
        for record in self.lines:
            garbled, torn = self.garbled.get(record, 0), self.torn.get(record, 0)
            shown = ", ".join(str(n) for n in self.lines[record])
            more = "..." if garbled + torn > len(self.lines[record]) else ""
            bits = []
            if garbled:
                bits.append(f"{garbled} garbled line{'s' if garbled != 1 else ''} (not JSON)")
            if torn:
                bits.append("a torn last line (a write cut short)")
            out.append(f"{record}: skipped {' and '.join(bits)}: line {shown}{more}")
        return out

    def as_json(self) -> dict[str, Any]:
        """``report --json``'s ``skipped_lines``."""
        return {
            "garbled": sum(self.garbled.values()),
            "torn": sum(self.torn.values()),
            "records": [
                {
                    "record": record,
                    "garbled": self.garbled.get(record, 0),
                    "torn": self.torn.get(record, 0),
                    "lines": lines,
                }
                for record, lines in self.lines.items()
            ],
        }


class _Refused(Exception):
    """JSON text held NaN, Infinity or -Infinity."""


def _refuse(name: str) -> Any:
    raise _Refused(name)


def checked_lines(
    path: str | os.PathLike[str], skipped: Skipped | None = None
) -> Iterator[dict[str, Any]]:
    """Every line of one record, parsed and checked (see the module docstring).

    A missing or unreadable record, or a bad line, is a UsageError. A bad line before the
    first line of a known kind is held back: a file that never has one is "not a record"
    (the caller says so), not an error about its first line.
    """
    record = Path(path)
    name = str(path)
    if not record.exists():
        raise UsageError(f"record {record} does not exist")
    if not record.is_file():
        raise UsageError(f"record {record} is not a file")
    held: str | None = None
    known = False
    try:
        with record.open("rb") as handle:
            number = 0
            for raw in handle:
                number += 1
                line, problem = _parse(raw, name, number, skipped)
                if line is None and problem is None:
                    continue
                if line is not None and line.get("type") in _KNOWN:
                    known = True
                if problem is None and line is not None:
                    problem = line_problem(line)
                if problem is not None:
                    where, what = problem
                    error = f"{name}:{number}: {what if where == 'line' else f'{where}: {what}'}"
                    if known:
                        raise UsageError(error)
                    held = held or error
                    continue
                if held is not None and known:
                    raise UsageError(held)
                assert line is not None
                yield line
    except OSError as exc:
        raise UsageError(f"cannot read record {record}: {exc.strerror or exc}") from exc


_KNOWN = frozenset({"run", "callback", "attempt", "outcome", "summary", "resume"})


def _parse(
    raw: bytes, name: str, number: int, skipped: Skipped | None
) -> tuple[dict[str, Any] | None, tuple[str, str] | None]:
    """One raw line: (line, None), (None, problem), or (None, None) when it is skipped."""
    last = not raw.endswith(b"\n")  # only the last line of a file can lack its newline
    if not raw.strip():
        return None, None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        if last:  # a write cut short mid-character
            _skip(skipped, name, number, torn=True)
            return None, None
        return None, ("line", f"not UTF-8 text (byte {exc.start + 1})")
    try:
        value = json.loads(text, parse_constant=_refuse)
    except _Refused:
        value = json.loads(text, parse_constant=NonFinite)
        refused = odd_value(value, "") or ("line", "NaN or Infinity is not JSON")
        return (value if isinstance(value, dict) else None), refused
    except json.JSONDecodeError:
        _skip(skipped, name, number, torn=last)
        return None, None
    except (ValueError, RecursionError) as exc:  # an int of over 4300 digits, deep nesting
        return None, ("line", f"not a record line ({exc})")
    if not isinstance(value, dict):
        return None, ("line", f"expected a JSON object, got {type_name(value)}")
    if "\\ud" in text or "\\uD" in text:
        return value, odd_value(value, "")
    return value, None


def _skip(skipped: Skipped | None, name: str, number: int, *, torn: bool) -> None:
    if skipped is not None:
        skipped.note(name, number, torn=torn)


def read_lines(
    record_paths: Sequence[str | os.PathLike[str]], skipped: Skipped | None = None
) -> list[dict[str, Any]]:
    """Every checked line of the record files (see :func:`checked_lines`)."""
    return [line for path in record_paths for line in checked_lines(path, skipped)]
