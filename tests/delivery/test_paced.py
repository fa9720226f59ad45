"""A paced batch: deliveries added one at a time, counted, waited for and cancelled as a whole.

Real receivers on 127.0.0.1 (tests/scripted.py); virtual time where the schedule's times
are compared; no wall-clock asserts.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from scripted import ScriptedReceiver

from emulator.callback.factory import CallbackFactory
from emulator.callback.model import Callback
from emulator.clock import ScaledClock, VirtualClock
from emulator.delivery.dispatch import Delivery, Dispatcher, DispatchListener
from emulator.delivery.results import Attempt, Outcome
from emulator.record.reader import read_record
from emulator.record.writer import Recorder
from emulator.retry import RetryPolicy

SECRET = "paced-test-secret"


def callbacks(count: int, seed: int = 21) -> list[Callback]:
    factory = CallbackFactory(seed=seed, app_id="1234567890", timestamp=1_700_000_000)
    return [factory.callback(factory.procedure(), callback_secret=SECRET) for _ in range(count)]


class Outcomes(DispatchListener):
    def __init__(self) -> None:
        self.seen: list[Outcome] = []

    def delivery_finished(self, outcome: Outcome) -> None:
        self.seen.append(outcome)


async def test_every_delivery_added_is_sent_and_counted_delivered_or_lost(tmp_path: Path) -> None:
    record = tmp_path / "run.jsonl"
    clock = VirtualClock(start_epoch=1_000.0)
    made = callbacks(12)
    lost_ids = {callback.task_id for callback in made[::3]}  # every third one always fails
    outcomes = Outcomes()

    def answer(task_id: str, number: int) -> int:
        return 500 if task_id in lost_ids else 200

    async with ScriptedReceiver(answer=answer) as receiver:
        with Recorder(record) as recorder:
            async with Dispatcher(
                clock=clock,
                recorder=recorder,
                policy=RetryPolicy(intervals=(2.0,)),
                listeners=[outcomes],
            ) as dispatcher:
                paced = dispatcher.paced()
                async with clock.participant():
                    for number, callback in enumerate(made):
                        paced.add(Delivery(callback, receiver.url, at=number * 0.5))
                        await clock.sleep_until(number * 0.5)
                paced.seal()
                await paced.future
    assert (paced.delivered, paced.lost) == (8, 4)
    assert not paced.live
    assert sorted(receiver.counts.values()) == [1] * 8 + [2] * 4
    assert {outcome.callback_id for outcome in outcomes.seen} == {c.callback_id for c in made}
    firsts = [line for line in read_record(record) if line["type"] == "attempt"]
    firsts = [line for line in firsts if line["attempt"] == 1]
    assert sorted(float(str(line["scheduled_at"])) for line in firsts) == [
        1_000.0 + number * 0.5 for number in range(12)
    ]


async def test_a_sealed_empty_batch_is_done_at_once() -> None:
    async with Dispatcher(clock=VirtualClock()) as dispatcher:
        paced = dispatcher.paced()
        paced.seal()
        await asyncio.wait_for(paced.future, 5)
        with pytest.raises(RuntimeError, match="has ended"):
            paced.add(Delivery(callbacks(1)[0], "http://127.0.0.1:9/zego/callback"))


async def test_paced_deliveries_hold_no_future_and_no_task_while_they_wait() -> None:
    async with Dispatcher(clock=ScaledClock()) as dispatcher:
        before = len(asyncio.all_tasks())
        paced = dispatcher.paced()
        for callback in callbacks(200):
            paced.add(Delivery(callback, "http://127.0.0.1:9/zego/callback", delay=3600))
        await asyncio.sleep(0)
        assert len(asyncio.all_tasks()) == before
        assert len(paced.live) == 200
        paced.cancel()
        assert not paced.live
        assert paced.future.cancelled()


async def test_cancelling_a_paced_batch_stops_every_schedule_and_keeps_the_record_resumable(
    tmp_path: Path,
) -> None:
    record = tmp_path / "run.jsonl"
    clock = ScaledClock(speed=50.0)  # the 2 s retry gap is 40 ms
    async with ScriptedReceiver(statuses=[500]) as receiver:
        with Recorder(record) as recorder:
            async with Dispatcher(clock=clock, recorder=recorder) as dispatcher:
                paced = dispatcher.paced()
                for callback in callbacks(3):
                    paced.add(Delivery(callback, receiver.url))
                while len(receiver.arrivals) < 3:
                    await asyncio.sleep(0.005)
                recorder.flush()
                while sum(1 for line in read_record(record) if line["type"] == "attempt") < 3:
                    await asyncio.sleep(0.005)
                    recorder.flush()
                paced.cancel()  # all three wait for their 2nd request now
                await asyncio.sleep(0.2)  # five retry gaps: none of them goes out
    assert len(receiver.arrivals) == 3
    types = [line["type"] for line in read_record(record)]
    assert sorted(types) == ["attempt"] * 3 + ["callback"] * 3  # no outcome: resumable
    assert (paced.delivered, paced.lost) == (0, 0)


async def test_closing_the_dispatcher_cancels_a_paced_batch() -> None:
    async with Dispatcher(clock=ScaledClock()) as dispatcher:
        paced = dispatcher.paced()
        paced.add(Delivery(callbacks(1)[0], "http://127.0.0.1:9/zego/callback", delay=3600))
    assert paced.future.cancelled()
    assert not paced.live


async def test_a_listener_failure_fails_the_batch_and_stops_it() -> None:
    class Broken(DispatchListener):
        def attempt_finished(self, attempt: Attempt) -> None:
            raise RuntimeError("listener bug")

    async with (
        ScriptedReceiver(statuses=[200]) as receiver,
        Dispatcher(clock=ScaledClock(), listeners=[Broken()]) as dispatcher,
    ):
        paced = dispatcher.paced()
        for callback in callbacks(2):
            paced.add(Delivery(callback, receiver.url))
        with pytest.raises(RuntimeError, match="listener bug"):
            await asyncio.wait_for(paced.future, 10)
        assert not paced.live
