"""The Dispatcher keeps ZEGO's retry schedule over real sockets, on every clock.

Each test starts an aiohttp receiver on 127.0.0.1 that logs when every request arrived
(and, where it matters, when it answered), delivers through a Dispatcher with a Recorder,
and compares the record and the receiver's own log with the schedule: requests at
0, 2, 6, 14, 30, 62 s against an instant failure, gaps measured from the previous
request's start, never overlapping it.
"""

from __future__ import annotations

import asyncio
import gc
import time
import weakref
from pathlib import Path

import pytest
from scripted import ScriptedReceiver

from emulator.callback.factory import CallbackFactory
from emulator.callback.model import Callback
from emulator.clock import ScaledClock, VirtualClock
from emulator.delivery import dispatch
from emulator.delivery.dispatch import Delivery, Dispatcher
from emulator.record.reader import read_record
from emulator.record.writer import Recorder
from emulator.retry import RetryPolicy
from emulator.verify import verify_callback

SECRET = "dispatch-test-secret"
ZEGO_GAPS = [2.0, 4.0, 8.0, 16.0, 32.0]
ZEGO_OFFSETS = [0.0, 2.0, 6.0, 14.0, 30.0, 62.0]
SAFE_TIMEOUT = 10.0  # real seconds; far above any healthy local answer


def callbacks(count: int, seed: int = 7) -> list[Callback]:
    factory = CallbackFactory(seed=seed, app_id="1234567890", timestamp=1_700_000_000)
    return [
        factory.callback(factory.procedure(status="SUCCESS"), callback_secret=SECRET)
        for _ in range(count)
    ]


def attempt_lines(path: Path) -> list[dict[str, object]]:
    return [line for line in read_record(path) if line["type"] == "attempt"]


async def test_always_500_makes_exactly_six_requests_with_zego_gaps_in_virtual_time(
    tmp_path: Path,
) -> None:
    record = tmp_path / "run.jsonl"
    async with ScriptedReceiver(statuses=[500]) as receiver:
        with Recorder(record) as recorder:
            async with Dispatcher(
                policy=RetryPolicy(timeout=SAFE_TIMEOUT), clock=VirtualClock(), recorder=recorder
            ) as dispatcher:
                outcome = await dispatcher.deliver(Delivery(callbacks(1)[0], receiver.url))
    assert outcome.lost and not outcome.delivered
    assert outcome.attempts == 6 and len(receiver.arrivals) == 6
    attempts = attempt_lines(record)
    assert [line["attempt"] for line in attempts] == [1, 2, 3, 4, 5, 6]
    assert [line["gap_s"] for line in attempts] == [None, *ZEGO_GAPS]
    assert [line["offset_s"] for line in attempts] == ZEGO_OFFSETS
    assert all(line["status"] == 500 and line["error"] is None for line in attempts)
    outcome_line = next(line for line in read_record(record) if line["type"] == "outcome")
    assert outcome_line["lost"] is True and outcome_line["attempts"] == 6


async def test_receiver_arrival_times_follow_the_schedule_scaled_by_speed(tmp_path: Path) -> None:
    speed = 20.0
    record = tmp_path / "run.jsonl"
    async with ScriptedReceiver(statuses=[500]) as receiver:
        with Recorder(record) as recorder:
            async with Dispatcher(
                policy=RetryPolicy(timeout=SAFE_TIMEOUT),
                clock=ScaledClock(speed),
                recorder=recorder,
            ) as dispatcher:
                outcome = await dispatcher.deliver(Delivery(callbacks(1)[0], receiver.url))
    assert outcome.lost and len(receiver.arrivals) == 6
    # the receiver's own clock, converted to emulated seconds
    seen_gaps = [
        (b - a) * speed for a, b in zip(receiver.arrivals, receiver.arrivals[1:], strict=False)
    ]
    recorded_gaps = [line["gap_s"] for line in attempt_lines(record)][1:]
    print("receiver gaps (emulated s):", [round(gap, 2) for gap in seen_gaps])
    print("recorded gaps (emulated s):", recorded_gaps)
    assert len(seen_gaps) == len(recorded_gaps) == len(ZEGO_GAPS)
    for expected, recorded in zip(ZEGO_GAPS, recorded_gaps, strict=True):
        assert isinstance(recorded, float)
        # a wait is never shorter than asked, however loaded the machine; how close to the
        # schedule the requests go out is a speed claim: bench/lateness.py measures it
        assert recorded >= expected


async def test_500_500_200_is_delivered_on_the_third_request(tmp_path: Path) -> None:
    record = tmp_path / "run.jsonl"
    async with ScriptedReceiver(statuses=[500, 500, 200]) as receiver:
        with Recorder(record) as recorder:
            async with Dispatcher(clock=VirtualClock(), recorder=recorder) as dispatcher:
                outcome = await dispatcher.deliver(Delivery(callbacks(1)[0], receiver.url))
    assert outcome.delivered and outcome.attempts == 3 and outcome.final_status == 200
    assert len(receiver.arrivals) == 3
    attempts = attempt_lines(record)
    assert [line["status"] for line in attempts] == [500, 500, 200]
    assert [line["offset_s"] for line in attempts] == [0.0, 2.0, 6.0]


async def test_retries_resend_the_identical_body(tmp_path: Path) -> None:
    async with (
        ScriptedReceiver(statuses=[500, 500, 200]) as receiver,
        Dispatcher(clock=VirtualClock()) as dispatcher,
    ):
        await dispatcher.deliver(Delivery(callbacks(1)[0], receiver.url))
    assert len(set(receiver.bodies)) == 1 and len(receiver.bodies) == 3
    verdict = verify_callback(receiver.bodies[0], receiver.content_types[0], SECRET)
    assert verdict.ok


async def test_hanging_receiver_times_out_every_attempt_without_overlap(tmp_path: Path) -> None:
    speed, timeout = 20.0, 0.3  # gaps 0.1, 0.2, 0.4, 0.8, 1.6 real s: the first two < timeout
    record = tmp_path / "run.jsonl"
    async with ScriptedReceiver(hang=True) as receiver:
        with Recorder(record) as recorder:
            async with Dispatcher(
                policy=RetryPolicy(timeout=timeout), clock=ScaledClock(speed), recorder=recorder
            ) as dispatcher:
                outcome = await dispatcher.deliver(Delivery(callbacks(1)[0], receiver.url))
    assert outcome.lost and outcome.attempts == 6 and len(receiver.arrivals) == 6
    attempts = attempt_lines(record)
    assert all(line["error"] == "timeout" and line["status"] is None for line in attempts)
    for previous, current, gap in zip(attempts[:-1], attempts[1:], ZEGO_GAPS, strict=True):
        previous_end = float(previous["sent_at"]) + float(previous["latency_ms"]) / 1000
        assert float(current["sent_at"]) >= previous_end - 0.005
        assert float(current["gap_s"]) >= gap
        assert float(current["gap_s"]) >= timeout * speed - 0.2
    # and the receiver saw each request only after the previous one had timed out
    for before, after in zip(receiver.arrivals, receiver.arrivals[1:], strict=False):
        assert after - before >= timeout - 0.02


async def test_slow_answer_longer_than_the_gap_delays_the_retry(tmp_path: Path) -> None:
    # answers 500 after 0.15 real s; at speed 40 the first gap is 0.05 real s
    speed = 40.0
    record = tmp_path / "run.jsonl"
    async with ScriptedReceiver(statuses=[500, 200], answer_after=0.15) as receiver:
        with Recorder(record) as recorder:
            async with Dispatcher(
                policy=RetryPolicy(timeout=SAFE_TIMEOUT),
                clock=ScaledClock(speed),
                recorder=recorder,
            ) as dispatcher:
                outcome = await dispatcher.deliver(Delivery(callbacks(1)[0], receiver.url))
    assert outcome.delivered and outcome.attempts == 2
    second = attempt_lines(record)[1]
    assert float(second["gap_s"]) >= 0.15 * speed - 0.2
    assert receiver.most_in_flight == 1


async def test_concurrency_bounds_requests_in_flight_across_callbacks(tmp_path: Path) -> None:
    async with (
        ScriptedReceiver(statuses=[200], answer_after=0.05) as receiver,
        Dispatcher(clock=VirtualClock(), concurrency=2) as dispatcher,
    ):
        outcomes = await dispatcher.deliver_all(
            Delivery(callback, receiver.url) for callback in callbacks(8)
        )
    assert all(outcome.delivered for outcome in outcomes)
    assert receiver.most_in_flight == 2
    assert len(receiver.arrivals) == 8


async def test_many_failing_callbacks_finish_the_whole_schedule_in_virtual_time(
    tmp_path: Path,
) -> None:
    record = tmp_path / "run.jsonl"
    started = time.perf_counter()
    async with ScriptedReceiver(statuses=[500]) as receiver:
        with Recorder(record) as recorder:
            async with Dispatcher(clock=VirtualClock(), recorder=recorder) as dispatcher:
                outcomes = await dispatcher.deliver_all(
                    Delivery(callback, receiver.url, delay=index * 0.5)
                    for index, callback in enumerate(callbacks(40))
                )
    wall = time.perf_counter() - started
    print(f"40 callbacks x 6 requests (62 emulated s each) took {wall:.3f} s of wall time")
    assert all(outcome.lost and outcome.attempts == 6 for outcome in outcomes)
    assert len(receiver.arrivals) == 240
    for outcome in outcomes:
        assert [a.offset_s for a in outcome.history] == ZEGO_OFFSETS


async def test_delay_postpones_the_first_request_in_emulated_seconds(tmp_path: Path) -> None:
    clock = VirtualClock(start_epoch=1_000.0)
    async with (
        ScriptedReceiver(statuses=[200]) as receiver,
        Dispatcher(clock=clock) as dispatcher,
    ):
        outcome = await dispatcher.deliver(Delivery(callbacks(1)[0], receiver.url, delay=7.5))
    assert outcome.history[0].sent_at == 1_007.5
    assert outcome.history[0].scheduled_at == 1_007.5


async def test_delivering_in_turn_starts_each_as_the_previous_finishes_without_a_time_jump(
    tmp_path: Path,
) -> None:
    clock = VirtualClock(start_epoch=0.0)
    failing = ScriptedReceiver(statuses=[500])
    accepting = ScriptedReceiver(statuses=[200])
    first, second, third = callbacks(3)
    async with failing, accepting, Dispatcher(clock=clock) as dispatcher:
        # a failing schedule sleeps alongside; it must not drag the chain's clock forward
        background = asyncio.ensure_future(dispatcher.deliver(Delivery(first, failing.url)))
        chain = await dispatcher.deliver_in_turn(
            [Delivery(second, accepting.url), Delivery(third, accepting.url)]
        )
        lost = await background
    assert lost.lost and lost.attempts == 6
    assert [outcome.delivered for outcome in chain] == [True, True]
    assert chain[0].history[0].sent_at == 0.0
    assert chain[1].history[0].sent_at == 0.0  # straight after, not at the next retry (2 s)


async def test_resign_gives_every_retry_a_fresh_valid_signature(tmp_path: Path) -> None:
    factory = CallbackFactory(seed=3, app_id="1234567890")
    model = factory.procedure(status="SUCCESS")
    callback = factory.callback(model, callback_secret=SECRET)
    counter = iter(range(1, 100))

    def resign(previous: Callback) -> Callback:
        fresh = model.model_copy(update={"nonce": f"90000{next(counter)}"})
        return factory.callback(fresh, SECRET, callback_id=previous.callback_id)

    async with (
        ScriptedReceiver(statuses=[500, 500, 200]) as receiver,
        Dispatcher(clock=VirtualClock()) as dispatcher,
    ):
        outcome = await dispatcher.deliver(Delivery(callback, receiver.url, resign=resign))
    assert outcome.delivered and len(receiver.bodies) == 3
    assert len(set(receiver.bodies)) == 3
    for body, content_type in zip(receiver.bodies, receiver.content_types, strict=True):
        assert verify_callback(body, content_type, SECRET).ok


class _Cycle:
    """An object in a reference cycle: only the cyclic GC can free it."""

    def __init__(self) -> None:
        self.me = self


async def test_a_library_dispatcher_leaves_the_processs_gc_alone() -> None:
    """Only the CLI's own runs pause the cyclic GC (quiet_gc); a library user's never."""
    assert gc.isenabled()
    async with (
        ScriptedReceiver(statuses=[200]) as receiver,
        Dispatcher(clock=VirtualClock()) as dispatcher,
    ):
        assert gc.isenabled()
        outcome = await dispatcher.deliver(Delivery(callbacks(1)[0], receiver.url))
        assert outcome.delivered and gc.isenabled()
    assert gc.isenabled()


async def test_cyclic_gc_is_paused_in_quiet_gc_and_collects_on_its_own_clock(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    was_enabled = gc.isenabled()
    with dispatch.quiet_gc():
        async with (
            ScriptedReceiver(statuses=[200]) as receiver,
            Dispatcher(clock=VirtualClock()) as dispatcher,
        ):
            assert not gc.isenabled()  # no automatic pauses in the middle of a schedule
            garbage = _Cycle()
            alive = weakref.ref(garbage)
            del garbage
            await dispatcher.deliver(Delivery(callbacks(1)[0], receiver.url))
            assert alive() is not None  # the last collection is less than a minute old
            monkeypatch.setattr(dispatch._quiet_gc, "next_collect", 0.0)
            await dispatcher.deliver(Delivery(callbacks(1)[0], receiver.url))
            assert alive() is None  # the periodic full collection freed the cycle
    assert gc.isenabled() == was_enabled
