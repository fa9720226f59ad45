"""What the Dispatcher keeps per delivery between its requests, and what callers wait on.

A waiting schedule is a :class:`Schedule` (a dozen slots) and one timer on the clock — no
task, no coroutine: the Dispatcher's bounded pool of workers sends whichever requests are
due. A :class:`Batch` is the chains of deliveries one caller waits for together
(``deliver_chains``/``deliver_all``), a :class:`Single` one delivery (``start``), a
:class:`Paced` the deliveries a load sender adds one at a time (``paced``): no future or
done-callback per delivery, its outcomes counted but not kept.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from emulator.clock import Timer
from emulator.delivery.results import Outcome

if TYPE_CHECKING:
    from emulator.delivery.dispatch import Delivery, Dispatcher


class Schedule:
    """One delivery's state between its requests: what a waiting schedule costs."""

    __slots__ = (
        "batch",
        "callback",
        "cancelled",
        "chain",
        "delivery",
        "first_sent",
        "number",
        "outcome",
        "position",
        "previous_sent",
        "scheduled",
        "timer",
        "worker",
    )

    def __init__(
        self, batch: Batch | Single | Paced, chain: int, position: int, delivery: Delivery
    ) -> None:
        callback = delivery.callback
        self.batch = batch
        self.chain = chain
        self.position = position
        self.delivery = delivery
        self.callback = callback
        self.outcome = Outcome(callback.callback_id, callback.event, callback.task_id, False)
        self.outcome.run_id = batch.dispatcher.run_id
        self.number = 1  # the next request's number
        self.scheduled = 0.0  # emulated time the next request is due
        self.first_sent: float | None = None
        self.previous_sent: float | None = None
        self.timer: Timer | None = None
        self.worker: asyncio.Task[None] | None = None
        self.cancelled = False

    def due(self) -> None:
        self.batch.dispatcher._due(self)

    def cancel(self) -> None:
        self.cancelled = True
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        if self.worker is not None:
            self.worker.cancel()


class _Group:
    """What :class:`Batch` and :class:`Paced` share: a future their caller waits on and the
    schedules started and not yet finished, stopped together."""

    __slots__ = ()
    dispatcher: Dispatcher
    future: asyncio.Future[Any]
    live: set[Schedule]

    def fail(self, exc: BaseException) -> None:
        if not self.future.done():
            self.future.set_exception(exc)
        self.cancel()

    def cancel(self) -> None:
        """Stop every delivery still going (nothing more of them is recorded)."""
        self.dispatcher._batches.discard(self)
        for schedule in list(self.live):
            schedule.cancel()
        self.live.clear()
        if not self.future.done():
            self.future.cancel()


class Batch(_Group):
    """Chains of deliveries a caller waits for together; its future gets their outcomes."""

    __slots__ = ("chains", "dispatcher", "future", "left", "live", "outcomes", "sealed")
    future: asyncio.Future[list[list[Outcome]]]

    def __init__(
        self,
        chains: list[Sequence[Delivery]],
        future: asyncio.Future[list[list[Outcome]]],
        dispatcher: Dispatcher,
    ) -> None:
        self.dispatcher = dispatcher
        self.future = future
        self.chains = chains
        self.outcomes: list[list[Outcome]] = [[] for _ in chains]
        self.left = len(chains)  # chains not finished yet
        self.live: set[Schedule] = set()  # started, not finished
        self.sealed = bool(chains)  # no more chains will be added

    def add(self, chain: Sequence[Delivery]) -> None:
        """Add a chain and start its first delivery."""
        self.chains.append(chain)
        self.outcomes.append([])
        self.left += 1
        self.begin(len(self.chains) - 1, announce_chain=len(chain) > 1)

    def begin(self, index: int, announce_chain: bool) -> None:
        chain = self.chains[index]
        if not chain:
            self.left -= 1
            return
        if announce_chain:  # a chain's callback lines all go in the record at its start
            for delivery in chain:
                self.dispatcher._announce(delivery)
        self._start(index, 0, announced=announce_chain)

    def _start(self, index: int, position: int, announced: bool) -> None:
        schedule = Schedule(self, index, position, self.chains[index][position])
        self.live.add(schedule)
        self.dispatcher._begin(schedule, announced)

    def finished(self, schedule: Schedule) -> None:
        """A delivery ended: start the next of its chain, or count the chain done."""
        self.live.discard(schedule)
        self.outcomes[schedule.chain].append(schedule.outcome)
        if schedule.position + 1 < len(self.chains[schedule.chain]):
            self._start(schedule.chain, schedule.position + 1, announced=True)
            return
        self.chains[schedule.chain] = ()  # its deliveries (and bodies) are not kept
        self.left -= 1
        self.settle()

    def settle(self) -> None:
        if self.sealed and self.left == 0 and not self.future.done():
            self.dispatcher._batches.discard(self)
            self.future.set_result(self.outcomes)


class Single:
    """One delivery a caller waits for alone (:meth:`Dispatcher.start`): a batch of one."""

    __slots__ = ("delivery", "dispatcher", "future", "schedule")

    def __init__(self, dispatcher: Dispatcher, delivery: Delivery) -> None:
        self.dispatcher = dispatcher
        self.delivery = delivery
        self.future: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
        self.future.add_done_callback(self._done)
        self.schedule: Schedule | None = None

    def begin(self) -> None:
        self.schedule = Schedule(self, 0, 0, self.delivery)
        self.dispatcher._begin(self.schedule, announced=False)

    def finished(self, schedule: Schedule) -> None:
        self.schedule = None
        if not self.future.done():
            self.future.set_result(schedule.outcome)

    def fail(self, exc: BaseException) -> None:
        if not self.future.done():
            self.future.set_exception(exc)

    def cancel(self) -> None:
        self.future.cancel()

    def _done(self, future: asyncio.Future[Outcome]) -> None:
        """Its future is done: a cancelled one stops the delivery."""
        self.dispatcher._batches.discard(self)
        schedule, self.schedule = self.schedule, None
        if schedule is not None:
            schedule.cancel()


class Paced(_Group):
    """Deliveries a sender adds one at a time (load mode), waited for and cancelled as a whole.

    Per delivery only its :class:`Schedule`: no future, no done-callback, no outcome kept
    (the listeners and the record see each one). :attr:`future` is done once the sender
    sealed it (:meth:`seal`) and every delivery added has ended.
    """

    __slots__ = ("delivered", "dispatcher", "future", "live", "lost", "sealed")
    future: asyncio.Future[None]

    def __init__(self, dispatcher: Dispatcher) -> None:
        self.dispatcher = dispatcher
        self.future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.live: set[Schedule] = set()  # started, not finished
        self.delivered = 0
        self.lost = 0
        self.sealed = False  # no more deliveries will be added

    def add(self, delivery: Delivery) -> None:
        """Start ``delivery`` (its first request timed at ``delivery.at`` or its delay)."""
        if self.future.done():
            raise RuntimeError("deliveries added to a paced batch that has ended")
        schedule = Schedule(self, 0, 0, delivery)
        self.live.add(schedule)
        self.dispatcher._begin(schedule, announced=False)

    def seal(self) -> None:
        """No more deliveries: :attr:`future` is done once the live ones end."""
        self.sealed = True
        self.settle()

    def finished(self, schedule: Schedule) -> None:
        self.live.discard(schedule)
        if schedule.outcome.delivered:
            self.delivered += 1
        else:
            self.lost += 1
        self.settle()

    def settle(self) -> None:
        if self.sealed and not self.live and not self.future.done():
            self.dispatcher._batches.discard(self)
            self.future.set_result(None)
