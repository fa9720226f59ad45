"""Graceful Ctrl-C for the long-running commands (``run``, ``resume``, load mode).

The first Ctrl-C sets a ``stop`` event: pending deliveries are cancelled and the record
still gets its summary line (exit 130). A second Ctrl-C interrupts at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Iterator
from typing import Any

_NO_SIGNALS = (NotImplementedError, RuntimeError, ValueError)  # not the main thread, Windows


@contextlib.contextmanager
def stop_on_sigint(stop: asyncio.Event) -> Iterator[None]:
    """While inside, the first Ctrl-C sets ``stop`` (and gives SIGINT back to Python)."""
    loop = asyncio.get_running_loop()

    def on_sigint() -> None:
        stop.set()
        with contextlib.suppress(*_NO_SIGNALS):
            loop.remove_signal_handler(signal.SIGINT)

    try:
        loop.add_signal_handler(signal.SIGINT, on_sigint)
        installed = True
    except _NO_SIGNALS:
        installed = False
    try:
        yield
    finally:
        if installed:
            with contextlib.suppress(*_NO_SIGNALS):
                loop.remove_signal_handler(signal.SIGINT)


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
