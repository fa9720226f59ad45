"""Waiting schedules are timers on the clock, not tasks: they still keep ZEGO's times.

Real receivers on 127.0.0.1 (tests/scripted.py); virtual time where the schedule's times
are compared exactly; no wall-clock asserts.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from scripted import ScriptedReceiver

from emulator.callback.factory import CallbackFactory
from emulator.callback.model import Callback
from emulator.clock import ScaledClock, VirtualClock
from emulator.delivery.dispatch import Delivery, Dispatcher
from emulator.record.reader import read_record
from emulator.record.writer import Recorder
from emulator.retry import RetryPolicy

SECRET = "schedules-test-secret"
ZEGO_OFFSETS = [0.0, 2.0, 6.0, 14.0, 30.0, 62.0]


def callbacks(count: int, seed: int = 11) -> list[Callback]:
    factory = CallbackFactory(seed=seed, app_id="1234567890", timestamp=1_700_000_000)
    return [factory.callback(factory.procedure(), callback_secret=SECRET) for _ in range(count)]


async def test_virtual_timers_fire_in_order_at_their_times() -> None:
    clock = VirtualClock(start_epoch=0.0)
    fired: list[tuple[str, float]] = []
    async with clock.participant():
        for name, at in (("c", 30.0), ("a", 2.0), ("b", 6.0), ("a2", 2.0)):
            clock.call_at(at, lambda name=name: fired.append((name, clock.now())))
        cancelled = clock.call_at(4.0, lambda: fired.append(("cancelled", clock.now())))
        cancelled.cancel()
    # the participant left: time jumps from timer to timer, one loop pass apart
    for _ in range(10):
        await asyncio.sleep(0)
    assert fired == [("a", 2.0), ("a2", 2.0), ("b", 6.0), ("c", 30.0)]


async def test_virtual_time_waits_for_the_work_a_timer_starts() -> None:
    clock = VirtualClock(start_epoch=0.0)
    seen: list[float] = []

    async def work() -> None:
        async with clock.participant():
            seen.append(clock.now())
            await asyncio.sleep(0.01)  # real time in flight: virtual time must hold still
            seen.append(clock.now())

    tasks: list[asyncio.Task[None]] = []

    def start_work() -> None:
        seen.append(-1.0)
        tasks.append(asyncio.ensure_future(work()))

    clock.call_at(5.0, start_work)
    clock.call_at(9.0, lambda: seen.append(clock.now()))
    for _ in range(200):
        if len(seen) == 4:
            break
        await asyncio.sleep(0.005)
    assert seen == [-1.0, 5.0, 5.0, 9.0]


async def test_many_schedules_keep_their_own_times_on_a_virtual_clock(tmp_path: Path) -> None:
    record = tmp_path / "run.jsonl"
    clock = VirtualClock(start_epoch=1_000.0)
    delays = [0.0, 0.5, 3.0, 3.0, 7.25, 61.0]
    async with ScriptedReceiver(statuses=[500]) as receiver:
        with Recorder(record) as recorder:
            async with Dispatcher(clock=clock, recorder=recorder, concurrency=2) as dispatcher:
                outcomes = await dispatcher.deliver_all(
                    Delivery(callback, receiver.url, delay=delay)
                    for callback, delay in zip(callbacks(len(delays)), delays, strict=True)
                )
    assert len(receiver.arrivals) == 6 * len(delays)
    for outcome, delay in zip(outcomes, delays, strict=True):
        assert [a.offset_s for a in outcome.history] == ZEGO_OFFSETS
        sent = [a.sent_at - 1_000.0 for a in outcome.history]
        assert sent == [delay + offset for offset in ZEGO_OFFSETS]
        assert [a.scheduled_at for a in outcome.history] == [a.sent_at for a in outcome.history]
    lines = read_record(record)
    assert sum(1 for line in lines if line["type"] == "attempt") == 6 * len(delays)


async def test_a_waiting_schedule_holds_no_task() -> None:
    clock = ScaledClock()
    async with Dispatcher(clock=clock) as dispatcher:
        before = len(asyncio.all_tasks())
        futures = [
            dispatcher.start(Delivery(callback, "http://127.0.0.1:9/zego/callback", delay=3600))
            for callback in callbacks(300)
        ]
        await asyncio.sleep(0)
        assert len(asyncio.all_tasks()) == before  # 300 schedules waiting, no task among them
        for future in futures:
            future.cancel()
        await asyncio.sleep(0)


async def test_concurrency_bounds_requests_in_flight_across_schedules() -> None:
    async with (
        ScriptedReceiver(statuses=[200], answer_after=0.02) as receiver,
        Dispatcher(clock=ScaledClock(), concurrency=3) as dispatcher,
    ):
        outcomes = await dispatcher.deliver_all(
            Delivery(callback, receiver.url) for callback in callbacks(20)
        )
    assert all(outcome.delivered for outcome in outcomes)
    assert receiver.most_in_flight == 3


async def test_cancelling_a_started_delivery_stops_its_schedule(tmp_path: Path) -> None:
    record = tmp_path / "run.jsonl"
    clock = ScaledClock(speed=50.0)  # the 2 s retry gap is 40 ms
    async with ScriptedReceiver(statuses=[500]) as receiver:
        with Recorder(record) as recorder:
            async with Dispatcher(clock=clock, recorder=recorder) as dispatcher:
                future = dispatcher.start(Delivery(callbacks(1)[0], receiver.url))
                while not receiver.arrivals:
                    await asyncio.sleep(0.005)
                while not any(line["type"] == "attempt" for line in _lines(recorder, record)):
                    await asyncio.sleep(0.005)
                future.cancel()  # waiting for its 2nd request now
                await asyncio.sleep(0.2)  # five retry gaps: none of them goes out
    assert len(receiver.arrivals) == 1
    types = [line["type"] for line in read_record(record)]
    assert types == ["callback", "attempt"]  # no outcome: resume would pick it up
    with pytest.raises(asyncio.CancelledError):
        future.result()


def _lines(recorder: Recorder, path: Path) -> list[dict[str, object]]:
    recorder.flush()
    return read_record(path)


async def test_a_slot_is_the_first_requests_scheduled_time() -> None:
    clock = VirtualClock(start_epoch=0.0)
    async with (
        ScriptedReceiver(statuses=[200]) as receiver,
        Dispatcher(clock=clock) as dispatcher,
    ):
        outcome = await dispatcher.deliver(Delivery(callbacks(1)[0], receiver.url, at=4.5))
    assert outcome.history[0].scheduled_at == 4.5 == outcome.history[0].sent_at


async def test_released_fields_keep_the_body_and_refuse_reads() -> None:
    kept, released, resigned = callbacks(3)
    _, body = released.body()
    async with ScriptedReceiver(statuses=[500, 200], per_task=True) as receiver:
        async with Dispatcher(
            clock=VirtualClock(), release_fields=True, recorder=_NullRecorder()
        ) as dispatcher:
            await dispatcher.deliver(Delivery(released, receiver.url))
            await dispatcher.deliver(
                Delivery(resigned, receiver.url, resign=lambda callback: callback)
            )
        async with Dispatcher(clock=VirtualClock()) as dispatcher:
            await dispatcher.deliver(Delivery(kept, receiver.url))
    assert receiver.bodies_of(released.task_id) == [body, body]
    with pytest.raises(RuntimeError, match="released after encoding"):
        released.fields["task_id"]
    assert resigned.fields["task_id"] == resigned.task_id  # re-signed per retry: kept
    assert kept.fields["task_id"] == kept.task_id  # a library caller's: kept


class _NullRecorder:
    """A record sink that keeps nothing (the dispatcher releases fields after recording)."""

    def callback(
        self, callback: Callback, target: str, delay: float, run_id: str, **extra: object
    ) -> None:
        callback.body()

    def attempt(self, attempt: object) -> None:
        pass

    def outcome(self, outcome: object) -> None:
        pass


@pytest.mark.parametrize("speed", [20.0])
async def test_retries_keep_their_gaps_on_a_scaled_clock(speed: float) -> None:
    policy = RetryPolicy(intervals=(2.0, 4.0))
    async with (
        ScriptedReceiver(statuses=[500]) as receiver,
        Dispatcher(clock=ScaledClock(speed), policy=policy) as dispatcher,
    ):
        outcome = await dispatcher.deliver(Delivery(callbacks(1)[0], receiver.url))
    gaps = [attempt.gap_s for attempt in outcome.history[1:]]
    assert outcome.attempts == 3
    assert all(gap is not None and gap >= want for gap, want in zip(gaps, (2.0, 4.0), strict=True))
