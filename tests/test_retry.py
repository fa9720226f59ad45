"""The retry policy and the clocks: ZEGO's schedule, scaled time, virtual time."""

from __future__ import annotations

import asyncio

from aiohttp import web

from emulator.callback.factory import CallbackFactory
from emulator.clock import ScaledClock, VirtualClock, spawn_participants
from emulator.delivery.dispatch import Delivery, Dispatcher
from emulator.retry import RetryPolicy
from emulator.servers.start import start_server


def test_zego_policy_offsets_are_0_2_6_14_30_62() -> None:
    policy = RetryPolicy()
    assert policy.max_attempts == 6
    assert policy.offsets() == [0, 2, 6, 14, 30, 62]
    assert [policy.retry_gap(n) for n in range(1, 7)] == [2, 4, 8, 16, 32, None]


async def test_virtual_clock_jumps_to_each_deadline_in_order() -> None:
    clock = VirtualClock(start_epoch=1000.0)
    woke: list[tuple[str, float]] = []

    async def sleeper(name: str, until: float) -> None:
        async with clock.participant():
            await clock.sleep_until(until)
            woke.append((name, clock.now()))

    await asyncio.gather(
        *await spawn_participants(
            clock, [sleeper("late", 62), sleeper("early", 2), sleeper("mid", 14)]
        )
    )
    assert woke == [("early", 2.0), ("mid", 14.0), ("late", 62.0)]
    assert clock.epoch(62) == 1062.0


async def test_virtual_time_stands_still_while_a_participant_is_busy() -> None:
    clock = VirtualClock()
    seen: list[float] = []
    busy_done = asyncio.Event()

    async def busy() -> None:
        async with clock.participant():
            for _ in range(20):  # real work / I/O: not asleep on the clock
                await asyncio.sleep(0.001)
            seen.append(clock.now())
            busy_done.set()

    async def sleeper() -> None:
        async with clock.participant():
            await clock.sleep_until(30)
            seen.append(clock.now())

    await asyncio.gather(*await spawn_participants(clock, [busy(), sleeper()]))
    assert seen == [0.0, 30.0]


async def test_scaled_clock_divides_waits_by_speed() -> None:
    clock = ScaledClock(speed=100)
    loop = asyncio.get_running_loop()
    started = loop.time()
    await clock.sleep_until(2.0)  # 2 emulated seconds = 20 ms real
    real = loop.time() - started
    assert clock.now() >= 2.0
    assert real >= 0.019


async def test_deliveries_created_together_keep_their_own_delays_in_virtual_time() -> None:
    """A delivery not yet started must hold virtual time still (delays [5, 0] -> 5 and 0)."""
    arrivals: list[str] = []

    async def accept(request: web.Request) -> web.Response:
        arrivals.append(str((await request.post()).get("task_id", "")))
        return web.Response(status=200)

    app = web.Application()
    app.router.add_post("/cb", accept)
    factory = CallbackFactory(seed=3)
    # form, so the handler can read it with request.post() (json is the default since issue 15)
    late = factory.callback(factory.procedure(task_id="late"), "s", encoding="form")
    early = factory.callback(factory.procedure(task_id="early"), "s", encoding="form")
    async with await start_server(app) as server:
        clock = VirtualClock()
        async with Dispatcher(clock=clock) as dispatcher:
            outcomes = await dispatcher.deliver_all(
                [
                    Delivery(late, f"{server.url}/cb", delay=5),
                    Delivery(early, f"{server.url}/cb", delay=0),
                ]
            )
    assert arrivals == ["early", "late"]
    sent = {o.task_id: o.history[0].sent_at - clock.epoch(0) for o in outcomes}
    assert sent == {"early": 0.0, "late": 5.0}
