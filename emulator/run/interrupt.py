"""Graceful stops for the long-running commands: Ctrl-C (SIGINT) and SIGTERM alike.

``timeout``, CI cancellation and container stops send SIGTERM; it is handled here, the
one place, exactly as the first Ctrl-C: a ``stop`` event is set, pending deliveries are
cancelled and the record still gets its summary line (exit 130). After the first
signal the defaults come back: a second Ctrl-C interrupts at once, a second SIGTERM
ends the process.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Iterator
from typing import Any

_NO_SIGNALS = (NotImplementedError, RuntimeError, ValueError)  # not the main thread, Windows
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


@contextlib.contextmanager
def stop_on_signals(stop: asyncio.Event) -> Iterator[None]:
    """While inside, the first SIGINT or SIGTERM sets ``stop`` (and gives both back to
    their default handling)."""
    loop = asyncio.get_running_loop()
    installed: list[signal.Signals] = []

    def restore() -> None:
        while installed:
            with contextlib.suppress(*_NO_SIGNALS):
                loop.remove_signal_handler(installed.pop())

    def on_signal() -> None:
        stop.set()
        restore()

    for signum in STOP_SIGNALS:
        try:
            loop.add_signal_handler(signum, on_signal)
        except _NO_SIGNALS:
            continue
        installed.append(signum)
    try:
        yield
    finally:
        restore()


stop_on_sigint = stop_on_signals  # the name it had before SIGTERM was handled too


async def cancel_and_wait(work: asyncio.Future[Any]) -> None:
    """Cancel ``work`` and wait until it has finished cancelling."""
    work.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await work


async def until_done_or_stopped(work: asyncio.Future[Any], stop: asyncio.Event | None) -> bool:
    """Wait for ``work``; True when ``stop`` was set first (``work`` is then cancelled)."""
    if stop is None:
        await work
        return False
    stopper: asyncio.Future[Any] = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait([work, stopper], return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopper.cancel()
    if work.done():
        work.result()
        return False
    await cancel_and_wait(work)
    return True
