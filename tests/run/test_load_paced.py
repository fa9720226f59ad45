"""Load mode's sender: a stall is caught up, every callback starts once, the pacing never spins.

A real receiver on 127.0.0.1; stalls are made on a virtual clock (exact and instant) by
moving its time on while the sender makes a callback, so no wall-clock assert is needed.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from aiohttp import web

from emulator.callback.factory import CallbackFactory
from emulator.callback.model import Callback
from emulator.clock import VirtualClock
from emulator.delivery.dispatch import DispatchListener
from emulator.delivery.results import Attempt
from emulator.record.reader import read_record
from emulator.record.writer import Recorder
from emulator.run.load import procedure_callbacks, run_load
from emulator.run.pacing import SHORTEST_WAIT
from emulator.servers.start import start_server

SECRET = "load-paced-secret"
START = 1_000.0


class Seen:
    """The task ids the receiver got, and how often each."""

    def __init__(self) -> None:
        self.task_ids: Counter[str] = Counter()
        self.fail_first = False  # answer 500 to each callback's first request, 200 after


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[str, Seen]]:
    seen = Seen()

    async def ok(request: web.Request) -> web.Response:
        body = await request.json()
        task_id = str(body["task_id"])
        seen.task_ids[task_id] += 1
        if seen.fail_first and seen.task_ids[task_id] == 1:
            return web.Response(status=500, text="no")
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/zego/callback", ok)
    async with await start_server(app) as server:
        yield f"{server.url}/zego/callback", seen


class _Ok(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def receiver_url_thread() -> Iterator[str]:
    """A receiver in its own thread, for a command run in a child process."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Ok)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/zego/callback"
    finally:
        server.shutdown()
        server.server_close()


def first_requests(record: Path) -> list[tuple[float, float]]:
    """``(slot, sent)`` of every first request, in emulated seconds since the start, by slot."""
    lines = [line for line in read_record(record) if line["type"] == "attempt"]
    return sorted(
        (float(str(line["scheduled_at"])) - START, float(str(line["sent_at"])) - START)
        for line in lines
        if line["attempt"] == 1
    )


def stalling(
    clock: VirtualClock, at: int, seconds: float
) -> tuple[list[int], Callable[[int], Callback]]:
    """A callback maker that holds the sender up for ``seconds`` while it makes callback
    ``at`` (time moves on under it, as a busy or descheduled process's would)."""
    made: list[int] = []
    make = procedure_callbacks(CallbackFactory(seed=9), SECRET)

    def maker(number: int) -> Callback:
        made.append(number)
        if number == at:
            clock.advance(seconds)
        return make(number)

    return made, maker


@pytest.mark.parametrize("window", [100, 7])
async def test_a_stall_is_caught_up_and_later_slots_go_out_on_time(
    receiver: tuple[str, Seen], tmp_path: Path, window: int
) -> None:
    url, seen = receiver
    record = tmp_path / "load.jsonl"
    clock = VirtualClock(start_epoch=START)
    made, maker = stalling(clock, at=50, seconds=0.5)  # slot 0.5: 50 slots overdue after
    with Recorder(record) as recorder:
        result = await run_load(
            url,
            rate=100,
            duration=2,
            window=window,
            callback_secret=SECRET,
            clock=clock,
            recorder=recorder,
            make_callback=maker,
        )
    assert made == list(range(200))  # each callback made, and started, once
    assert (result.callbacks, result.delivered, result.lost) == (200, 200, 0)
    assert sorted(seen.task_ids.values()) == [1] * 200
    firsts = first_requests(record)
    assert [slot for slot, _ in firsts] == [pytest.approx(i / 100, abs=1e-6) for i in range(200)]
    on_time = [sent for slot, sent in firsts if slot < 0.5 - 1e-9 or slot > 1.0 + 1e-9]
    assert on_time == [slot for slot, _ in firsts if slot < 0.5 - 1e-9 or slot > 1.0 + 1e-9]
    caught_up = [sent for slot, sent in firsts if 0.5 - 1e-9 < slot < 1.0 + 1e-9]
    assert caught_up == [pytest.approx(1.0, abs=1e-6)] * 51  # all at once, as the stall ended
    assert result.behind_max == pytest.approx(0.5, abs=1e-6)
    assert result.achieved_rate == pytest.approx(100)


@pytest.mark.parametrize("window", [3, 1])
async def test_a_stall_on_a_full_window_is_caught_up_while_retries_wait(
    receiver: tuple[str, Seen], tmp_path: Path, window: int
) -> None:
    url, seen = receiver
    seen.fail_first = True  # every callback has a retry waiting 2 s after its first request
    record = tmp_path / "load.jsonl"
    clock = VirtualClock(start_epoch=START)
    made, maker = stalling(clock, at=20, seconds=0.5)
    with Recorder(record) as recorder:
        result = await run_load(
            url,
            rate=100,
            duration=1,
            window=window,
            callback_secret=SECRET,
            clock=clock,
            recorder=recorder,
            make_callback=maker,
        )
    assert made == list(range(100))
    assert (result.callbacks, result.delivered, result.lost, result.requests) == (100, 100, 0, 200)
    assert sorted(seen.task_ids.values()) == [2] * 100
    firsts = first_requests(record)
    # the 51 slots overdue when the stall ended went out then, a window at a time; time did
    # not move on to the waiting retries meanwhile, and every later slot went out on time
    late = [sent for slot, sent in firsts if 0.2 - 1e-9 < slot < 0.7 + 1e-9]
    assert late == [pytest.approx(0.7, abs=1e-6)] * 51
    rest = [(slot, sent) for slot, sent in firsts if not 0.2 - 1e-9 < slot < 0.7 + 1e-9]
    assert [sent for _, sent in rest] == [pytest.approx(slot, abs=1e-6) for slot, _ in rest]
    assert result.behind_max == pytest.approx(0.5, abs=1e-6)


async def test_a_failing_listener_ends_the_load_with_its_error(
    receiver: tuple[str, Seen],
) -> None:
    url, _ = receiver

    class Broken(DispatchListener):
        def attempt_finished(self, attempt: Attempt) -> None:
            if attempt.callback_id == "cb-000003":
                raise RuntimeError("listener bug")

    with pytest.raises(RuntimeError, match="listener bug"):
        await run_load(
            url,
            rate=10,
            duration=100,
            callback_secret=SECRET,
            clock=VirtualClock(),
            listeners=[Broken()],
        )


class SteppingClock:
    """A clock of finite speed (a real clock's kind) whose time moves only when the sender
    sleeps: to the time it asked for, or — ``coarse``, as a loop with millisecond timers
    does (uvloop) — barely at all when it asked for less than half a millisecond."""

    def __init__(self, speed: float, coarse: bool = False) -> None:
        self.speed = speed
        self.coarse = coarse
        self._now = 0.0
        self.waits: list[float] = []  # real seconds asked for

    def now(self) -> float:
        return self._now

    def epoch(self, emulated: float) -> float:
        return START + emulated / self.speed

    async def sleep_until(self, emulated: float) -> None:
        asked = (emulated - self._now) / self.speed
        self.waits.append(asked)
        if self.coarse and asked < 0.0005:
            self._now += 1e-6 * self.speed  # a pass of the loop, and no wait
        else:
            self._now = max(self._now, emulated)
        await asyncio.sleep(0)

    def call_at(self, emulated: float, callback: Callable[[], None]) -> asyncio.Handle:
        return asyncio.get_running_loop().call_soon(callback)

    def participant(self) -> contextlib.AbstractAsyncContextManager[None]:
        return contextlib.nullcontext()


@pytest.mark.parametrize("speed", [1.0, 20.0])
async def test_the_sender_sleeps_until_each_next_slot_on_precise_timers(
    receiver: tuple[str, Seen], tmp_path: Path, speed: float
) -> None:
    url, seen = receiver
    record = tmp_path / "load.jsonl"
    clock = SteppingClock(speed)
    with Recorder(record) as recorder:
        result = await run_load(
            url,
            rate=5_000 / speed,
            duration=0.02 * speed,
            callback_secret=SECRET,
            clock=clock,
            recorder=recorder,
        )
    assert (result.callbacks, result.delivered) == (100, 100)
    assert sorted(seen.task_ids.values()) == [1] * 100
    assert clock.waits == [pytest.approx(0.2e-3)] * 99  # slots 0.2 ms apart, each kept
    firsts = [line for line in read_record(record) if line["type"] == "attempt"]
    assert all(line["sent_at"] == pytest.approx(line["scheduled_at"]) for line in firsts)


@pytest.mark.parametrize("speed", [1.0, 20.0])
async def test_the_sender_does_not_spin_on_a_loop_whose_timers_are_coarse(
    receiver: tuple[str, Seen], speed: float
) -> None:
    url, seen = receiver
    clock = SteppingClock(speed, coarse=True)
    result = await run_load(
        url, rate=5_000 / speed, duration=0.02 * speed, callback_secret=SECRET, clock=clock
    )
    assert (result.callbacks, result.delivered) == (100, 100)
    assert sorted(seen.task_ids.values()) == [1] * 100
    # slots 0.2 ms apart, a 0.2 ms wait runs at once: spinning until each slot would ask
    # ~200 waits a slot; woken early once, the sender waits SHORTEST_WAIT from then on and
    # starts every slot due by then
    assert clock.waits[0] == pytest.approx(0.2e-3)
    assert clock.waits[1:] == [pytest.approx(SHORTEST_WAIT)] * (len(clock.waits) - 1)
    assert len(clock.waits) <= 100 * 0.2e-3 / SHORTEST_WAIT + 2


def test_load_mode_on_uvloop_keeps_every_slot(receiver_url_thread: str, tmp_path: Path) -> None:
    record = tmp_path / "load.jsonl"
    argv = [sys.executable, "-m", "emulator", "run", "--target", receiver_url_thread]
    argv += ["--rate", "400", "--duration", "0.25", "--loop", "uvloop", "--json", "--no-live"]
    argv += ["--record", str(record)]
    env = dict(os.environ, ZEGO_CALLBACK_SECRET=SECRET)
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert (summary["callbacks"], summary["delivered"], summary["attempts"]) == (100, 100, 100)
    attempts = [line for line in read_record(record) if line["type"] == "attempt"]
    slots = sorted(float(str(line["scheduled_at"])) for line in attempts)
    steps = [later - earlier for earlier, later in itertools.pairwise(slots)]
    assert steps == [pytest.approx(1 / 400, abs=2e-6)] * 99  # the slots, 2.5 ms apart
    # a request never leaves before its slot (a loop's early timer does not send it early)
    assert all(line["sent_at"] >= line["scheduled_at"] for line in attempts)
