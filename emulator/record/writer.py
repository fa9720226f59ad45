"""Record files: JSON Lines, one object a line, appended and flushed as things happen.

Line types (CONTRACT.md): ``run``, ``attempt``, ``outcome``, ``summary``; we add
``callback`` (written before a callback's first request: its id, target, delay, encoding,
content type and exact body text) so that ``resume`` and ``run --replay`` can re-send the
very same bytes. A record never contains a secret (a body carries only the signature).
The reader tolerates a torn last line (a run killed mid-write).
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from emulator.callback.model import Callback
from emulator.delivery.results import Attempt, Outcome
from emulator.errors import EmulatorError, UsageError
from emulator.jsontext import record_encoder
from emulator.record.lines import attempt_text, callback_line, callback_text, outcome_text

FLUSH_AT = 64 * 1024  # bytes of pending lines written at once, even in the middle of a pass


_line_text = record_encoder()


class RecordWriteError(EmulatorError):
    """The record could not be written (a full disk, an I/O error): the run stops."""


class Recorder:
    """Appends record lines to a file (use as a context manager).

    Outside an event loop each line is written to the OS before :meth:`write` returns.
    Inside one, the lines of one pass of the loop go out together in one ``write()`` at
    the end of that pass — before the loop waits on anything — so a run killed at any
    moment keeps every line but those of the instant it died in, at a third of the system
    calls (3 lines a callback cost ~8 µs of ~70 as separate writes). :meth:`flush` writes
    what is pending at once; :meth:`close` does too.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if self.path.is_fifo() or self.path.is_socket():  # opening one would wait forever
            raise UsageError(
                f"record {self.path}: not a regular file (a FIFO or socket); give a file path"
            )
        # unbuffered: our own batching is the only buffer, and flush() empties it for real
        self._file: IO[bytes] | None = self.path.open("ab", buffering=0)
        self._lock()
        self._pending: list[bytes] = []
        self._pending_bytes = 0
        self._good = self.path.stat().st_size if self.path.is_file() else 0  # whole lines
        self.error: OSError | None = None  # the first failed write; nothing is written after
        self.on_error: Callable[[OSError], None] | None = None  # e.g. stop the run

    def _lock(self) -> None:
        """Hold an exclusive lock on the record while it is open: a second run or resume of
        the same record (which would deliver twice) is a UsageError before it sends."""
        if self._file is None:
            return
        try:
            fcntl.flock(self._file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._file.close()
            self._file = None
            raise UsageError(
                f"record {self.path} is in use by another run or resume; "
                "wait for it to end (or stop it) first"
            ) from None

    def write(self, line: dict[str, Any]) -> None:
        """Append one JSON object as a line."""
        self._append(_line_text(line) + "\n")

    def _append(self, text: str) -> None:
        if self._file is None:
            raise ValueError(f"record {self.path} is closed")
        data = text.encode("utf-8")
        pending = self._pending
        pending.append(data)
        self._pending_bytes += len(data)
        if self._pending_bytes >= FLUSH_AT:  # a long pass: do not hold its lines in memory
            self.flush()
        elif len(pending) == 1:  # the first line of this pass: have the pass end with a flush
            try:
                asyncio.get_running_loop().call_soon(self.flush)
            except RuntimeError:  # no loop running: write it now
                self.flush()

    def flush(self) -> None:
        """Write every pending line to the OS now.

        A failed write (a full disk) never raises here — this runs from the event loop —
        and never leaves a torn line: the file is cut back to its last whole line,
        :attr:`error` is set, :attr:`on_error` is told, and later lines are dropped.
        :meth:`check` raises it as a :class:`RecordWriteError`."""
        if not self._pending or self._file is None:
            return
        data = b"".join(self._pending)
        self._pending.clear()
        self._pending_bytes = 0
        if self.error is not None:
            return
        try:
            size = len(data)
            written = self._file.write(data)
            while written is not None and written < len(data):  # a short write: allowed
                data = data[written:]
                written = self._file.write(data)
            self._good += size
        except OSError as exc:
            self.error = exc
            with contextlib.suppress(OSError):
                os.ftruncate(self._file.fileno(), self._good)
            if self.on_error is not None:
                self.on_error(exc)

    def check(self) -> None:
        """Raise :class:`RecordWriteError` when a write of this record failed."""
        if self.error is not None:
            reason = self.error.strerror or str(self.error)
            raise RecordWriteError(f"record {self.path}: cannot write: {reason}")

    def callback(
        self,
        callback: Callback,
        target: str,
        delay: float,
        run_id: str,
        retry: Mapping[str, Any] | None = None,
        expect: str | None = None,
    ) -> None:
        """Append a ``callback`` line (before the callback's first request)."""
        text = callback_text(callback, target, delay, run_id, retry, expect)
        if text is None:
            self.write(callback_line(callback, target, delay, run_id, retry, expect))
        else:
            self._append(text + "\n")

    def attempt(self, attempt: Attempt) -> None:
        """Append an ``attempt`` line (CONTRACT.md)."""
        self._append(attempt_text(attempt) + "\n")

    def outcome(self, outcome: Outcome) -> None:
        """Append an ``outcome`` line (CONTRACT.md)."""
        self._append(outcome_text(outcome) + "\n")

    def close(self) -> None:
        if self._file is not None:
            self.flush()
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
