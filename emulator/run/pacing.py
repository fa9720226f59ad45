"""Load mode's sender: callback ``i`` in its slot ``start + i / rate``, a window of first requests.

    sender = Sender(dispatcher, dispatcher.paced(), rate=200, duration=30, window=100,
                    target=url, make_callback=make)
    await sender.run()  # every callback started; then wait on the paced batch

Every slot due by now starts at once (one batch per pass of the loop) through the
Dispatcher's paced batch, its slot as the first request's ``scheduled_at``; then one pass
of the loop, or a wait for the next slot (at least :data:`SHORTEST_WAIT` on a loop whose
timers are coarser). A new callback starts only while fewer than ``window`` first requests
are unanswered; on a full window the sender parks until an answer frees a slot.

A sender that fell behind catches up because a batch costs less per callback the larger
it is: 20,000/s asked of ``python -m bench load``'s receiver achieved ~14,000/s (72 us of
CPU a callback) where 10,000/s on time costs ~100 us a callback, the loop never idle. So
it takes up its backlog in big batches, a window at a time. Starting the next callback
from each answer instead (a request per answer, in the pass that read it) was tried and
measured worse: requests in lockstep with the answers, ~10,000/s at most.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable, Sequence

from emulator.callback.model import Callback
from emulator.delivery.dispatch import Delivery, Dispatcher
from emulator.delivery.results import AnswerReader
from emulator.delivery.schedules import Paced
from emulator.delivery.verdict import Expectation
from emulator.events import answer_reader
from emulator.retry import RetryPolicy

# A loop may run a sleep shorter than its timers' resolution at once (uvloop's are
# milliseconds: a 0.3 ms sleep is no sleep, and a timer may fire a little early), so a
# sender that woke before the time it slept for would spin until its slot. Once that has
# happened it waits at least this long (real seconds) between passes. (asyncio's timers
# never fire early: there it sleeps until the next slot, as lateness is least that way.)
SHORTEST_WAIT = 0.001


class Sender:
    """Starts ``rate x duration`` callbacks in their slots, at most ``window`` first requests
    unanswered; what it did is in its counters (``started``, ``behind_max`` ...)."""

    def __init__(
        self,
        dispatcher: Dispatcher,
        paced: Paced,
        *,
        rate: float,
        duration: float,
        window: int,
        target: str,
        make_callback: Callable[[int], Callback],
        expectations: Sequence[Expectation | None] = (),
        policies: Sequence[RetryPolicy | None] = (),
    ) -> None:
        self.clock = dispatcher.clock
        self.paced = paced
        self.target = target
        self.make_callback = make_callback
        self.expectations = expectations
        self.policies = policies
        self.count = max(1, round(rate * duration))
        self.interval = 1.0 / rate
        self.free = window  # first requests that may still start
        self.number = 0  # the next callback's number: as many started
        self.start = 0.0  # emulated time of slot 0
        self.behind_max = 0.0  # emulated seconds behind the slots at most
        self.send_seconds = 0.0  # emulated seconds from slot 0 to the last start, plus 1/rate
        self.window_full_s = 0.0  # real seconds parked on a full window
        self._readers: dict[str, AnswerReader | None] = {}  # event -> its answer reader
        self._parked: asyncio.Future[None] | None = None

    async def run(self) -> None:
        """Pace until every callback has started (or the task is cancelled).

        The sender is a clock participant while it paces (virtual time must not jump past
        its next slot) and leaves the clock only while it is parked on a full window.
        """
        clock = self.clock
        shortest = 0.0  # emulated: SHORTEST_WAIT once the loop woke the sender early
        coarse = SHORTEST_WAIT * clock.speed if math.isfinite(clock.speed) else 0.0
        self.start = clock.now()
        count = self.count
        while self.number < count:
            async with clock.participant():
                while self.number < count and self.free > 0:
                    self.start_due()
                    slot = self.start + self.number * self.interval
                    if self.number < count and self.free > 0 and slot > clock.now():
                        until = max(slot, clock.now() + shortest)
                        await clock.sleep_until(until)
                        if clock.now() < until:  # woken early: the loop's timers are coarse
                            shortest = coarse
                    else:
                        await asyncio.sleep(0)  # the batch's requests go out, answers come in
            if self.number < count:
                await self._park()

    def answered(self) -> None:
        """A first request was answered: its window slot is free, and a sender parked on a
        full window resumes (in the loop's next pass, with every slot that frees meanwhile)."""
        self.free += 1
        parked = self._parked
        if parked is not None and not parked.done():
            self._parked = None
            self._wake(parked)

    def start_due(self) -> None:
        """Start every slot due by now while the window has room, each its slot as its first
        request's scheduled time."""
        clock = self.clock
        now = clock.now()
        first = self.number
        interval, start, count = self.interval, self.start, self.count
        expectations, policies = self.expectations, self.policies
        judged, retried = len(expectations), len(policies)
        readers = self._readers
        add = self.paced.add
        number = first
        slot = start + number * interval
        while slot <= now and number < count and self.free > 0:
            callback = self.make_callback(number)
            event = callback.event
            if event not in readers:
                readers[event] = answer_reader(event)
            self.free -= 1
            self.number = number + 1
            add(
                Delivery(
                    callback,
                    self.target,
                    expect=expectations[number % judged] if judged else None,
                    at=slot,
                    read_answer=readers[event],
                    policy=policies[number % retried] if retried else None,
                )
            )
            number += 1
            slot = start + number * interval
        if number > first:  # the batch's first and last started this far behind
            first_behind = now - (start + first * interval)
            last_behind = clock.now() - (start + (number - 1) * interval)
            self.behind_max = max(self.behind_max, first_behind, last_behind)
            self.send_seconds = clock.now() - start + interval

    async def _park(self) -> None:
        """Wait (off the clock) while the window is full; :meth:`answered` refills it."""
        waited = time.monotonic()
        parked = self._parked = asyncio.get_running_loop().create_future()
        try:
            await parked
        finally:
            self._parked = None
            self.window_full_s += time.monotonic() - waited

    def _wake(self, parked: asyncio.Future[None]) -> None:
        """Resume the parked sender. A clock whose time jumps (virtual) is held still until
        it has resumed, so that no slot is overtaken while it was off the clock: a timer
        due now counts as running until the loop's next pass."""
        if math.isfinite(self.clock.speed):
            parked.set_result(None)
        else:
            self.clock.call_at(self.clock.now(), lambda: _resolve(parked))


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)
