"""Reading record files: one dict per complete line; a torn or garbled line is skipped."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any


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
