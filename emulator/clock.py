"""The clocks every wait in the emulator goes through; they measure *emulated* seconds.

* :class:`ScaledClock` — real time divided by ``speed`` (``speed=1`` is real time);
* :class:`VirtualClock` — no real waiting at all: time jumps to the next deadline as soon
  as every participant is asleep on the clock. Requests in flight take zero virtual time
  (their per-request timeout stays in real seconds).
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from collections.abc import AsyncIterator, Callable, Coroutine, Iterable
from contextlib import AbstractAsyncContextManager, asynccontextmanager, nullcontext
from typing import Any, Protocol, TypeVar

T = TypeVar("T")


SPAWN_BATCH = 256  # tasks started per pass of the loop by spawn_participants


class Clock(Protocol):
    """Emulated time. ``now()`` is emulated seconds since the clock started."""

    speed: float

    def now(self) -> float: ...

    def epoch(self, emulated: float) -> float:
        """Unix time of an emulated instant (what the record stores)."""
        ...

    async def sleep_until(self, emulated: float) -> None: ...

    def call_at(self, emulated: float, callback: Callable[[], None]) -> Timer:
        """Call ``callback`` (from the loop) at emulated time ``at`` or soon after: a timer
        that holds no task. On a virtual clock time does not move on past it until the
        work it starts has joined the clock (a participant entered in the loop's next pass).
        """
        ...

    def participant(self) -> AbstractAsyncContextManager[None]:
        """Held by each concurrent schedule while it runs (virtual time needs to know)."""
        ...


class Timer(Protocol):
    """What :meth:`Clock.call_at` returns: it can be cancelled before it fires."""

    def cancel(self) -> None: ...


class ScaledClock:
    """Real time divided by ``speed``: ``speed=10`` runs the 62 s schedule in 6.2 s."""

    def __init__(self, speed: float = 1.0) -> None:
        if speed <= 0:
            raise ValueError("speed must be greater than 0")
        self.speed = speed
        self._start_mono = time.monotonic()
        self._start_epoch = time.time()

    def now(self) -> float:
        return (time.monotonic() - self._start_mono) * self.speed

    def epoch(self, emulated: float) -> float:
        return self._start_epoch + emulated / self.speed

    async def sleep_until(self, emulated: float) -> None:
        remaining = (emulated - self.now()) / self.speed
        if remaining > 0:
            await asyncio.sleep(remaining)

    def call_at(self, emulated: float, callback: Callable[[], None]) -> Timer:
        loop = asyncio.get_running_loop()
        return loop.call_at(loop.time() + (emulated - self.now()) / self.speed, callback)

    def participant(self) -> AbstractAsyncContextManager[None]:
        return _NOT_COUNTED  # real time needs no count (and a shared one costs nothing)


# reusable and reentrant: one for every schedule on a ScaledClock
_NOT_COUNTED: AbstractAsyncContextManager[None] = nullcontext()


class VirtualClock:
    """Time that jumps: when every participant sleeps, ``now`` moves to the earliest deadline.

    Deterministic and instant. ``epoch()`` maps virtual seconds onto the wall time at
    which the clock was made, so records look like a real run that started then.
    """

    speed = float("inf")

    def __init__(self, start_epoch: float | None = None) -> None:
        self._now = 0.0
        self._start_epoch = time.time() if start_epoch is None else start_epoch
        self._running = 0
        self._sleepers: list[tuple[float, int, asyncio.Future[None] | _VirtualTimer]] = []
        self._order = itertools.count()

    def now(self) -> float:
        return self._now

    def epoch(self, emulated: float) -> float:
        return self._start_epoch + emulated

    def advance(self, seconds: float) -> None:
        """Move time forward by hand (for code that does not sleep on the clock)."""
        self._now += max(0.0, seconds)
        self._wake_due()

    async def sleep_until(self, emulated: float) -> None:
        if emulated <= self._now:
            await asyncio.sleep(0)
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (emulated, next(self._order), future))
        self._running -= 1
        try:
            self._maybe_advance()
            await future
        except BaseException:
            if not future.done():
                future.cancel()
                self._running += 1
            raise

    def call_at(self, emulated: float, callback: Callable[[], None]) -> Timer:
        timer = _VirtualTimer(callback)
        heapq.heappush(self._sleepers, (emulated, next(self._order), timer))
        if emulated <= self._now:
            self._wake_due()
        else:
            self._maybe_advance()
        return timer

    @asynccontextmanager
    async def participant(self) -> AsyncIterator[None]:
        self._running += 1
        try:
            yield
        finally:
            self._running -= 1
            self._maybe_advance()

    def _maybe_advance(self) -> None:
        while self._running <= 0 and self._sleepers:
            self._drop_cancelled()
            if not self._sleepers:
                return
            self._now = max(self._now, self._sleepers[0][0])
            self._wake_due()

    def _drop_cancelled(self) -> None:
        while self._sleepers and self._sleepers[0][2].done():
            heapq.heappop(self._sleepers)

    def _wake_due(self) -> None:
        while self._sleepers and self._sleepers[0][0] <= self._now:
            _, _, sleeper = heapq.heappop(self._sleepers)
            if sleeper.done():
                continue
            self._running += 1
            if isinstance(sleeper, _VirtualTimer):
                # it counts as running until the loop's next pass, by when the tasks the
                # callback started (scheduled before this) have entered the clock themselves
                sleeper.fire()
                asyncio.get_running_loop().call_soon(self._timer_done)
            else:
                sleeper.set_result(None)

    def _timer_done(self) -> None:
        self._running -= 1
        self._maybe_advance()


class _VirtualTimer:
    """A :meth:`VirtualClock.call_at` timer in the clock's heap of sleepers."""

    __slots__ = ("_callback", "_cancelled")

    def __init__(self, callback: Callable[[], None]) -> None:
        self._callback: Callable[[], None] | None = callback
        self._cancelled = False

    def cancel(self) -> None:
        self._cancelled = True
        self._callback = None

    def done(self) -> bool:
        return self._cancelled or self._callback is None

    def fire(self) -> None:
        callback, self._callback = self._callback, None
        if callback is not None:
            callback()


async def spawn_participants(
    clock: Clock, coroutines: Iterable[Coroutine[Any, Any, T]]
) -> list[asyncio.Task[T]]:
    """Start tasks that each take part on ``clock``, without letting time slip meanwhile.

    A task that is created but has not run yet holds no place on the clock, so a virtual
    clock would jump past its deadlines. This holds a place while the tasks start and run
    to their first wait (one pass of the loop), then lets go. They start ``SPAWN_BATCH``
    at a time, so that requests already due go out in between: 10,000 started in one pass
    held the loop for ~120 ms.
    """
    tasks: list[asyncio.Task[T]] = []
    try:
        async with clock.participant():
            for coroutine in coroutines:
                tasks.append(asyncio.ensure_future(coroutine))
                if len(tasks) % SPAWN_BATCH == 0:
                    await asyncio.sleep(0)  # those run to their first wait; due timers fire
            await asyncio.sleep(0)
    except BaseException:  # cancelled while starting: stop what did start
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise
    return tasks


def make_clock(speed: float | None = None, virtual: bool = False) -> Clock:
    """The clock for a run: virtual, or real time divided by ``speed`` (default 1)."""
    if virtual:
        return VirtualClock()
    return ScaledClock(speed or 1.0)
