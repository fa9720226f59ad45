"""The Dispatcher's worker pool: on real time an idle worker waits for the next ready
request instead of ending (no task per request), and closing the dispatcher ends them all.
"""

from __future__ import annotations

import asyncio

from scripted import ScriptedReceiver

from emulator.callback.factory import CallbackFactory
from emulator.callback.model import Callback
from emulator.clock import ScaledClock, VirtualClock
from emulator.delivery.dispatch import Delivery, Dispatcher, DispatchListener

SECRET = "workers-test-secret"


def callbacks(count: int) -> list[Callback]:
    factory = CallbackFactory(seed=3, app_id="1234567890", timestamp=1_700_000_000)
    return [
        factory.callback(factory.procedure(status="SUCCESS"), callback_secret=SECRET)
        for _ in range(count)
    ]


class Senders(DispatchListener):
    """The task each request went out from."""

    def __init__(self) -> None:
        self.tasks: list[asyncio.Task[object] | None] = []

    def attempt_started(self, callback: Callback, attempt: int) -> None:
        self.tasks.append(asyncio.current_task())


def workers() -> list[asyncio.Task[object]]:
    """The dispatcher worker tasks alive in this loop."""
    return [
        task
        for task in asyncio.all_tasks()
        if getattr(task.get_coro(), "__qualname__", "") == "Dispatcher._work"
    ]


async def test_on_real_time_one_idle_worker_sends_callbacks_that_come_one_at_a_time() -> None:
    senders = Senders()
    async with (
        ScriptedReceiver(statuses=[200]) as receiver,
        Dispatcher(clock=ScaledClock(), concurrency=4, listeners=[senders]) as dispatcher,
    ):
        for callback in callbacks(5):
            outcome = await dispatcher.deliver(Delivery(callback, receiver.url))
            assert outcome.delivered
        assert len(workers()) == 1  # waiting idle for the next one
    assert len(receiver.arrivals) == 5
    assert len(senders.tasks) == 5 and len(set(map(id, senders.tasks))) == 1
    assert workers() == []  # closing the dispatcher ended its idle worker


async def test_idle_workers_never_exceed_concurrency_and_end_when_closed() -> None:
    async with (
        ScriptedReceiver(statuses=[200], answer_after=0.02) as receiver,
        Dispatcher(clock=ScaledClock(), concurrency=3) as dispatcher,
    ):
        for _ in range(2):
            outcomes = await dispatcher.deliver_all(
                Delivery(callback, receiver.url) for callback in callbacks(10)
            )
            assert all(outcome.delivered for outcome in outcomes)
            assert 1 <= len(workers()) <= 3
        assert receiver.most_in_flight == 3
    assert len(receiver.arrivals) == 20
    assert workers() == []


async def test_on_a_virtual_clock_a_worker_with_nothing_ready_ends_so_time_can_move() -> None:
    async with (
        ScriptedReceiver(statuses=[200]) as receiver,
        Dispatcher(clock=VirtualClock(), concurrency=4) as dispatcher,
    ):
        first = await dispatcher.deliver(Delivery(callbacks(1)[0], receiver.url))
        await asyncio.sleep(0)
        assert workers() == []
        later = await dispatcher.deliver(Delivery(callbacks(1)[0], receiver.url, delay=30.0))
    assert first.delivered and later.delivered
    assert later.history[0].scheduled_at - first.history[0].scheduled_at == 30.0
