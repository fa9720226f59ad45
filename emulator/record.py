"""Record files: JSON Lines, one object a line, appended and flushed as things happen.

Line types (CONTRACT.md): ``run``, ``attempt``, ``outcome``, ``summary``; we add
``callback`` (written before a callback's first request: its id, target, delay, encoding,
content type and exact body text) so that ``resume`` and ``run --replay`` can re-send the
very same bytes. A record never contains a secret (a body carries only the signature).
The reader tolerates a torn last line (a run killed mid-write).
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from emulator.results import Attempt, Outcome

RECORD_DIR = "runs"
# one encoder for every line: json.dumps with options builds a new one per call
_LINE_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def default_record_path(scenario_name: str, now: float | None = None) -> Path:
    """``runs/<UTC time>-<scenario>.jsonl`` for a scenario name."""
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(now))
    slug = re.sub(r"[^A-Za-z0-9]+", "-", scenario_name).strip("-").lower()[:60] or "run"
    return Path(RECORD_DIR) / f"{stamp}-{slug}.jsonl"


class Recorder:
    """Appends record lines to a file, flushing each one (use as a context manager)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file: IO[str] | None = self.path.open("a", encoding="utf-8")

    def write(self, line: dict[str, Any]) -> None:
        """Append one JSON object as a line and flush it to the OS."""
        if self._file is None:
            raise ValueError(f"record {self.path} is closed")
        self._file.write(_LINE_ENCODER.encode(line) + "\n")
        self._file.flush()

    def callback(self, line: dict[str, Any]) -> None:
        self.write(line)

    def attempt(self, attempt: Attempt) -> None:
        self.write(attempt.to_record())

    def outcome(self, outcome: Outcome) -> None:
        self.write(outcome.to_record())

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def __enter__(self) -> Recorder:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


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
