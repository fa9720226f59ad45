"""Load mode's rate schedule has slots, and the record keeps each callback's slot.

Callback ``i``'s first request is scheduled at ``start + i / rate``: its ``scheduled_at``
in the record, so ``sent_at - scheduled_at`` shows how far the sender fell behind. Real
receiver on 127.0.0.1; the slots are compared on a virtual clock, and on a real one with a
callback maker that is slower than the rate (the sender must fall behind).
"""

from __future__ import annotations

import itertools
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web

from emulator.callback.factory import CallbackFactory
from emulator.callback.model import Callback
from emulator.clock import ScaledClock, VirtualClock
from emulator.record.reader import read_record
from emulator.record.writer import Recorder
from emulator.run.load import run_load
from emulator.servers.start import start_server

SECRET = "load-slots-secret"


@pytest.fixture
async def receiver_url() -> AsyncIterator[str]:
    async def ok(request: web.Request) -> web.Response:
        await request.read()
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/zego/callback", ok)
    async with await start_server(app) as server:
        yield f"{server.url}/zego/callback"


def first_attempts(record: Path) -> list[dict[str, object]]:
    lines = [line for line in read_record(record) if line["type"] == "attempt"]
    return sorted(
        (line for line in lines if line["attempt"] == 1), key=lambda line: str(line["callback_id"])
    )


async def test_each_first_request_is_scheduled_in_its_slot(
    receiver_url: str, tmp_path: Path
) -> None:
    record = tmp_path / "load.jsonl"
    clock = VirtualClock(start_epoch=1_000.0)
    with Recorder(record) as recorder:
        result = await run_load(
            receiver_url,
            rate=20,
            duration=1,
            callback_secret=SECRET,
            clock=clock,
            recorder=recorder,
            factory=CallbackFactory(seed=5),
        )
    assert result.callbacks == result.delivered == 20
    attempts = first_attempts(record)
    assert [line["scheduled_at"] for line in attempts] == [
        pytest.approx(1_000.0 + i / 20, abs=1e-6) for i in range(20)
    ]
    assert all(line["sent_at"] == line["scheduled_at"] for line in attempts)


async def test_a_sender_behind_its_schedule_shows_it_in_the_record(
    receiver_url: str, tmp_path: Path
) -> None:
    record = tmp_path / "load.jsonl"
    factory = CallbackFactory(seed=6)

    def slow_callback(number: int) -> Callback:
        time.sleep(0.004)  # each callback takes 4 ms to make: 1,000/s cannot be kept
        return factory.callback(factory.procedure(), SECRET)

    with Recorder(record) as recorder:
        result = await run_load(
            receiver_url,
            rate=1_000,
            duration=0.05,
            callback_secret=SECRET,
            clock=ScaledClock(),
            recorder=recorder,
            make_callback=slow_callback,
        )
    assert result.callbacks == result.delivered == 50
    attempts = first_attempts(record)
    scheduled = [float(str(line["scheduled_at"])) for line in attempts]
    steps = [later - earlier for earlier, later in itertools.pairwise(scheduled)]
    assert steps == [pytest.approx(0.001, abs=2e-6)] * 49  # the slots, not when they went
    lateness = [float(str(a["sent_at"])) - float(str(a["scheduled_at"])) for a in attempts]
    assert min(lateness) >= 0
    assert lateness[-1] >= 49 * 0.003  # 49 slower-than-slot callbacks before the last one
    assert result.behind_max >= 49 * 0.003
