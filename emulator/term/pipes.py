"""A standard output that a closed pipe cannot break (``zego-emulator report r.jsonl | head``).

When the reader of stdout goes away, writing raises ``BrokenPipeError``. Left alone, that
aborts the command midway (rich even exits 1, which reads as "an expectation failed").
Every command instead treats a closed stdout the same way: the rest of its output is
dropped, its work goes on to the end, and its exit code is the one it would have had.
"""

from __future__ import annotations

import os
import sys
from typing import Any, TextIO


class PipeTolerantStdout:
    """Wraps a text stream; once its reader has gone, output is silently discarded."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self.reader_gone = False

    def write(self, text: str) -> int:
        if not self.reader_gone:
            try:
                return self._stream.write(text)
            except BrokenPipeError:
                self._discard()
        return len(text)

    def flush(self) -> None:
        if not self.reader_gone:
            try:
                self._stream.flush()
            except BrokenPipeError:
                self._discard()

    def _discard(self) -> None:
        """Point the file descriptor at /dev/null: the interpreter's own final flush of
        what is still buffered then succeeds instead of printing an error at exit."""
        self.reader_gone = True
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, self._stream.fileno())
            os.close(devnull)
        except (OSError, ValueError):  # no descriptor (a test's StringIO): nothing buffered
            pass

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def tolerate_closed_stdout() -> None:
    """Install :class:`PipeTolerantStdout` as ``sys.stdout`` (once)."""
    if not isinstance(sys.stdout, PipeTolerantStdout):
        sys.stdout = PipeTolerantStdout(sys.stdout)
