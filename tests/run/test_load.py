"""Load mode sends ``rate x duration`` signed callbacks, keeps ZEGO's retries, bounds the window.

A real aiohttp receiver on 127.0.0.1 verifies every body and answers from a script; the
load runs on a VirtualClock (exact and instant) except where real concurrency is the
point. Records are read back from the file the run wrote.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections import defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from aiohttp import web

from emulator.callback.factory import CallbackFactory
from emulator.clock import ScaledClock, VirtualClock
from emulator.delivery.dispatch import DispatchListener
from emulator.delivery.results import Attempt
from emulator.errors import UsageError
from emulator.record.reader import read_record
from emulator.record.writer import Recorder
from emulator.run.load import LoadResult, run_load
from emulator.servers.start import start_server
from emulator.settings import RunOptions, Secret
from emulator.term.commands import load_command
from emulator.verify import verify_callback

SECRET = "load-test-secret"
ZEGO_OFFSETS = [0.0, 2.0, 6.0, 14.0, 30.0, 62.0]


@dataclass
class Receiver:
    """Verifies each callback, answers ``status`` after ``hold`` real seconds, counts."""

    status: int = 200
    hold: float = 0.0
    url: str = ""
    bodies: list[bytes] = field(default_factory=list)
    bad_signatures: int = 0
    in_flight: int = 0
    most_in_flight: int = 0

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.bodies.append(body)
        if not verify_callback(body, request.headers.get("Content-Type"), SECRET).signature_ok:
            self.bad_signatures += 1
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            if self.hold:
                await asyncio.sleep(self.hold)
        finally:
            self.in_flight -= 1
        return web.Response(status=self.status, text="ok" if self.status < 300 else "no")


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    script = Receiver()
    app = web.Application()
    app.router.add_post("/zego/callback", script.handle)
    async with await start_server(app) as server:
        script.url = f"{server.url}/zego/callback"
        yield script


async def test_load_sends_rate_times_duration_signed_callbacks_at_the_asked_rate(
    receiver: Receiver,
) -> None:
    result = await run_load(
        receiver.url,
        rate=50,
        duration=2,
        callback_secret=SECRET,
        window=10,
        clock=VirtualClock(),
        factory=CallbackFactory(seed=3),
    )
    assert (result.callbacks, result.delivered, result.lost, result.requests) == (100, 100, 0, 100)
    assert len(receiver.bodies) == 100 and receiver.bad_signatures == 0
    assert len(set(receiver.bodies)) == 100  # every callback its own body
    assert result.achieved_rate == pytest.approx(50)
    assert result.behind_max == 0
    assert result.answers == {"200": 100}
    assert len(result.latencies) == 100
    p50, p95, p99 = (result.latency_ms(p) for p in (50, 95, 99))
    assert p50 is not None and p95 is not None and p99 is not None
    assert 0 < p50 <= p95 <= p99 <= max(result.latencies)


async def test_a_failing_receiver_gets_zegos_full_retry_schedule_under_load(
    receiver: Receiver, tmp_path: Path
) -> None:
    receiver.status = 500
    with Recorder(tmp_path / "load.jsonl") as recorder:
        result = await run_load(
            receiver.url,
            rate=10,
            duration=1,
            callback_secret=SECRET,
            clock=VirtualClock(),
            recorder=recorder,
            run_id="load-test",
        )
    assert (result.callbacks, result.delivered, result.lost, result.requests) == (10, 0, 10, 60)
    assert result.answers == {"500": 60}
    offsets: dict[str, list[float]] = defaultdict(list)
    firsts: list[float] = []
    for line in read_record(tmp_path / "load.jsonl"):
        if line["type"] == "attempt":
            offsets[line["callback_id"]].append(line["offset_s"])
            if line["attempt"] == 1:
                firsts.append(line["scheduled_at"])
    assert len(offsets) == 10
    for callback_offsets in offsets.values():
        assert callback_offsets == pytest.approx(ZEGO_OFFSETS)
    # the new callbacks kept coming 0.1 s apart while the retries went on
    gaps = [later - earlier for earlier, later in itertools.pairwise(firsts)]
    assert gaps == pytest.approx([0.1] * 9, abs=1e-5)


async def test_window_bounds_requests_in_flight_and_a_slow_receiver_slows_the_sender(
    receiver: Receiver,
) -> None:
    receiver.hold = 0.05  # real seconds per answer
    result = await run_load(
        receiver.url,
        rate=400,
        duration=0.05,
        callback_secret=SECRET,
        window=2,
        clock=ScaledClock(),
    )
    assert (result.callbacks, result.delivered) == (20, 20)
    assert receiver.most_in_flight <= 2
    # 20 callbacks, 2 at a time, 50 ms each: ~0.5 s instead of 0.05 s (generous margin)
    assert result.achieved_rate < 400 / 2
    assert "the sender fell behind: the window of 2 was full" in "\n".join(result.describe())
    assert result.window_full_s >= 0.5 * result.wall_seconds


async def test_stop_ends_the_load_early_and_says_it_was_interrupted(receiver: Receiver) -> None:
    receiver.status = 500
    stop = asyncio.Event()

    class StopAfterFive(DispatchListener):
        def attempt_finished(self, attempt: Attempt) -> None:
            if attempt.callback_id == "cb-000005":
                stop.set()

    result = await run_load(
        receiver.url,
        rate=10,
        duration=10,
        callback_secret=SECRET,
        clock=VirtualClock(),
        listeners=[StopAfterFive()],
        stop=stop,
    )
    assert result.interrupted
    assert 5 <= result.callbacks < 100
    assert result.delivered == 0 and result.pending > 0


@pytest.mark.parametrize(
    ("rate", "duration", "window"), [(0, 1, 1), (-1, 1, 1), (1, 0, 1), (1, 1, 0)]
)
async def test_run_load_rejects_a_rate_duration_or_window_that_cannot_run(
    rate: float, duration: float, window: int
) -> None:
    with pytest.raises(ValueError, match="must be"):
        await run_load(
            "http://127.0.0.1:9/cb",
            rate=rate,
            duration=duration,
            window=window,
            callback_secret=SECRET,
        )


def test_load_command_records_the_run_and_reports_rate_and_latency(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    async def serve_and_load() -> tuple[int, Receiver]:
        script = Receiver()
        app = web.Application()
        app.router.add_post("/cb", script.handle)
        async with await start_server(app) as server:
            options = RunOptions(
                target=f"{server.url}/cb",
                secret=Secret(SECRET, "test"),
                virtual=True,
                record=tmp_path / "load.jsonl",
                seed=1,
            )
            loop = asyncio.get_running_loop()
            code = await loop.run_in_executor(
                None, lambda: load_command(options, rate=20, duration=1, window=5)
            )
        return code, script

    code, script = asyncio.run(serve_and_load())
    assert code == 0
    assert len(script.bodies) == 20 and script.bad_signatures == 0
    lines = read_record(tmp_path / "load.jsonl")
    kinds = [line["type"] for line in lines]
    assert kinds[0] == "run" and kinds[-1] == "summary"
    assert kinds.count("callback") == kinds.count("outcome") == kinds.count("attempt") == 20
    assert lines[0]["load"] == {"rate": 20, "duration": 1, "window": 5}
    summary = lines[-1]
    assert (summary["callbacks"], summary["delivered"], summary["lost"]) == (20, 20, 0)
    assert summary["load"]["achieved_rate"] == pytest.approx(20)
    assert set(summary["load"]["latency_ms"]) == {"p50", "p95", "p99"}
    assert SECRET not in (tmp_path / "load.jsonl").read_text()
    out = capsys.readouterr().out
    assert "achieved 20.0/s" in out and "p95" in out and "load.jsonl" in out


def test_load_command_json_prints_the_summary_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    async def serve_and_load() -> int:
        script = Receiver(status=503)
        app = web.Application()
        app.router.add_post("/cb", script.handle)
        async with await start_server(app) as server:
            options = RunOptions(
                target=f"{server.url}/cb",
                secret=Secret(SECRET, "test"),
                virtual=True,
                record=tmp_path / "load.jsonl",
                json=True,
            )
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(
                None, lambda: load_command(options, rate=2, duration=1)
            )

    assert asyncio.run(serve_and_load()) == 0  # lost callbacks are an outcome, not an error
    printed = json.loads(capsys.readouterr().out)
    assert printed["type"] == "summary" and printed["lost"] == 2
    assert printed["load"]["answers"] == {"503": 12}


def test_load_command_without_a_target_is_a_usage_error(tmp_path: Path) -> None:
    options = RunOptions(secret=Secret(SECRET, "test"), record=tmp_path / "r.jsonl")
    with pytest.raises(UsageError, match="--target"):
        load_command(options, rate=1, duration=1)
    with pytest.raises(UsageError, match="greater than 0"):
        load_command(RunOptions(target="http://127.0.0.1:9/"), rate=0, duration=1)


def test_load_result_without_answers_has_no_latency() -> None:
    result = LoadResult("http://127.0.0.1:9/", rate=1, duration=1, window=1)
    assert result.latency_ms(99) is None
    assert result.to_summary()["latency_ms"] == {"p50": None, "p95": None, "p99": None}


def test_run_rate_duration_on_the_command_line_is_load_mode(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from emulator.cli.main import main

    monkeypatch.setenv("ZEGO_CALLBACK_SECRET", SECRET)

    async def serve_and_run() -> tuple[int, Receiver]:
        script = Receiver()
        app = web.Application()
        app.router.add_post("/cb", script.handle)
        async with await start_server(app) as server:
            argv = ["run", "--rate", "30", "--duration", "1", "--window", "4", "--virtual"]
            argv += ["--target", f"{server.url}/cb", "--record", str(tmp_path / "r.jsonl")]
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(None, main, argv), script

    code, script = asyncio.run(serve_and_run())
    assert code == 0 and len(script.bodies) == 30 and script.bad_signatures == 0
    assert "achieved 30.0/s" in capsys.readouterr().out
    assert main(["run", "--duration", "5", "--target", "http://127.0.0.1:9/"]) == 2


def test_load_from_a_scenario_uses_its_target_encoding_and_entries_in_turn(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    async def serve_and_load() -> tuple[int, Receiver]:
        script = Receiver()
        app = web.Application()
        app.router.add_post("/cb", script.handle)
        async with await start_server(app) as server:
            scenario = tmp_path / "load.yaml"
            scenario.write_text(
                f"name: mixed load\ntarget: {server.url}/cb\nencoding: json\nseed: 5\n"
                "callbacks:\n  - event: procedure\n    status: FAILED\n  - event: compose\n"
            )
            options = RunOptions(
                secret=Secret(SECRET, "test"), virtual=True, record=tmp_path / "r.jsonl"
            )
            loop = asyncio.get_running_loop()
            code = await loop.run_in_executor(
                None,
                lambda: load_command(options, rate=4, duration=1, scenario_paths=[str(scenario)]),
            )
        return code, script

    code, script = asyncio.run(serve_and_load())
    assert code == 0 and script.bad_signatures == 0
    callbacks = [line for line in read_record(tmp_path / "r.jsonl") if line["type"] == "callback"]
    assert [line["event"] for line in callbacks] == ["procedure", "compose"] * 2
    assert {line["content_type"] for line in callbacks} == {"application/json"}
    assert [json.loads(body)["event"] for body in script.bodies] == ["procedure", "compose"] * 2
    assert "mixed load" in read_record(tmp_path / "r.jsonl")[0]["scenario"]
