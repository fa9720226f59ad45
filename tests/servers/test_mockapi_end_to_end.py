"""A sample backend runs its whole transcoding flow against the mock API, offline.

call TranscodeMedia (signed) -> get a TaskId -> receive the procedure callback with that
TaskId (signature verified) -> DescribeMediaTask agrees with the callback.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from emulator.clock import Clock, ScaledClock, VirtualClock
from emulator.record.reader import read_record
from emulator.record.writer import Recorder
from emulator.servers.api_client import ZegoApiClient
from emulator.servers.mockapi import MockApi
from emulator.servers.start import RunningServer, start_server
from emulator.verify import verify_callback

APP_ID = "1234567890"
SERVER_SECRET = "backend-server-secret"
CALLBACK_SECRET = "backend-callback-secret"
GUARD = 60  # real seconds before a hung test gives up (not a timing assertion)


class SampleBackend:
    """What a customer writes: an API client plus a callback endpoint that verifies."""

    def __init__(self, responses: list[int] | None = None) -> None:
        self.callbacks: dict[str, list[dict[str, str]]] = {}
        self.rejected: list[str] = []
        self.responses = list(responses or [])
        self._arrived = asyncio.Condition()
        self.api: ZegoApiClient | None = None

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/zego/callback", self.on_callback)
        return app

    async def on_callback(self, request: web.Request) -> web.Response:
        verdict = verify_callback(
            await request.read(), request.content_type, CALLBACK_SECRET, max_age=300
        )
        if not verdict.ok:
            self.rejected.append(verdict.reason)
            return web.Response(status=401)
        if self.responses:
            status = self.responses.pop(0)
            if status != 200:
                return web.Response(status=status)
        async with self._arrived:
            self.callbacks.setdefault(verdict.fields["task_id"], []).append(verdict.fields)
            self._arrived.notify_all()
        return web.Response(text="success")

    async def callback_for(self, task_id: str) -> dict[str, str]:
        """The first callback that arrived for ``task_id`` (waits for it)."""
        async with self._arrived:
            await asyncio.wait_for(self._arrived.wait_for(lambda: task_id in self.callbacks), GUARD)
        return self.callbacks[task_id][0]

    async def start_transcode(self, file_id: str, resolution: str) -> str:
        assert self.api is not None
        answer = await self.api.call(
            "TranscodeMedia", Vendor="Tencent", FileId=file_id, Resolution=resolution
        )
        assert answer["Code"] == 0, answer
        return str(answer["Data"]["Tencent"]["TaskId"])

    async def describe(self, task_id: str) -> dict[str, Any]:
        assert self.api is not None
        answer = await self.api.call("DescribeMediaTask", TaskId=task_id, Vendor="Tencent")
        assert answer["Code"] == 0, answer
        return dict(answer["Data"]["Tencent"])


class Stack:
    """The sample backend and the mock API, wired to each other on 127.0.0.1."""

    def __init__(self, backend: SampleBackend, api: MockApi, server: RunningServer) -> None:
        self.backend = backend
        self.api = api
        self.server = server


async def running_stack(
    clock: Clock, responses: list[int] | None = None, **options: Any
) -> AsyncIterator[Stack]:
    backend = SampleBackend(responses)
    async with await start_server(backend.app()) as backend_server:
        api = MockApi(
            app_id=APP_ID,
            server_secret=SERVER_SECRET,
            callback_url=f"{backend_server.url}/zego/callback",
            callback_secret=CALLBACK_SECRET,
            clock=clock,
            **options,
        )
        async with (
            await api.start() as api_server,
            ZegoApiClient(api_server.url, APP_ID, SERVER_SECRET) as client,
        ):
            backend.api = client
            yield Stack(backend, api, api_server)


@pytest.fixture
async def stack() -> AsyncIterator[Stack]:
    async for value in running_stack(VirtualClock(), fail_file_ids={"9990000000000000001"}):
        yield value


async def test_transcode_callback_carries_the_task_id_and_describe_agrees(stack: Stack) -> None:
    backend = stack.backend
    task_id = await backend.start_transcode("5285890813221514958", "720p")
    fields = await backend.callback_for(task_id)
    assert fields["event"] == "procedure" and fields["appid"] == APP_ID
    assert fields["status"] == "SUCCESS" and fields["file_id"] == "5285890813221514958"
    transcode = json.loads(fields["extra_params"])["media"]["transcode"]
    assert len(transcode) == 1 and transcode[0]["code"] == "0"
    assert (transcode[0]["video"]["width"], transcode[0]["video"]["height"]) == (1280, 720)
    replay_url = transcode[0]["replay_url"]
    assert replay_url.startswith("https://")
    task = await backend.describe(task_id)
    assert task["TaskId"] == task_id and task["Event"] == "transcode"
    assert task["Status"] == "FINISH" and task["ReplayUrl"] == replay_url
    assert task["FileId"] == "5285890813221514958"
    assert backend.rejected == []


async def test_a_failing_file_id_reports_fail_and_the_callback_says_failed(stack: Stack) -> None:
    backend = stack.backend
    task_id = await backend.start_transcode("9990000000000000001", "360p")
    fields = await backend.callback_for(task_id)
    assert fields["status"] == "FAILED" and fields["extra_params"] == ""
    task = await backend.describe(task_id)
    assert task["Status"] == "FAIL" and task["ReplayUrl"] == ""
    assert task["Message"]


async def test_merge_media_fires_a_compose_callback_with_the_same_task_id(stack: Stack) -> None:
    backend = stack.backend
    assert backend.api is not None
    answer = await backend.api.call(
        "MergeMedia",
        Vendor="Tencent",
        InputFileId=["5285890813221514958", "5285890813221513290"],
        OutputFileName="lesson-1",
        Format="mp4",
    )
    assert answer["Code"] == 0, answer
    task_id = answer["Data"]["Tencent"]["TaskId"]
    assert re.fullmatch(r"\d{10}-EditMedia-[0-9a-f]{32}t0", task_id)
    fields = await backend.callback_for(task_id)
    assert fields["event"] == "compose" and fields["code"] == "0"
    assert fields["replay_url"].endswith("/lesson-1.mp4")
    task = await backend.describe(task_id)
    assert (task["Event"], task["Status"]) == ("compose", "FINISH")
    assert (task["ReplayUrl"], task["FileId"]) == (fields["replay_url"], fields["file_id"])

    failing = await backend.api.call(
        "MergeMedia",
        Vendor="Tencent",
        InputFileId=["5285890813221514958", "9990000000000000001"],
        OutputFileName="lesson-2",
    )
    failed_id = failing["Data"]["Tencent"]["TaskId"]
    failed = await backend.callback_for(failed_id)
    assert failed["code"] == "60000" and failed["replay_url"] == ""
    assert (await backend.describe(failed_id))["Status"] == "FAIL"


async def test_describe_goes_waiting_processing_finish_with_the_clock() -> None:
    clock = VirtualClock()
    async for stack in running_stack(clock, processing_time=10.0):
        backend = stack.backend
        async with clock.participant():  # time moves only when this test says so
            task_id = await backend.start_transcode("5285890813221514958", "540p")
            assert (await backend.describe(task_id))["Status"] == "WAITING"
            clock.advance(3.0)
            processing = await backend.describe(task_id)
            assert processing["Status"] == "PROCESSING" and processing["ReplayUrl"] == ""
            assert task_id not in backend.callbacks
            clock.advance(7.0)
            fields = await backend.callback_for(task_id)
        task = await backend.describe(task_id)
        replay_url = json.loads(fields["extra_params"])["media"]["transcode"][0]["replay_url"]
        assert task["Status"] == "FINISH" and task["ReplayUrl"] == replay_url


async def test_callback_retries_on_zego_schedule_and_is_recorded(tmp_path: Path) -> None:
    record = tmp_path / "api.jsonl"
    with Recorder(record) as recorder:
        async for stack in running_stack(
            VirtualClock(), responses=[500, 503], recorder=recorder, run_id="api-test"
        ):
            task_id = await stack.backend.start_transcode("5285890813221514958", "360p")
            await stack.backend.callback_for(task_id)
            await stack.api.drain()
            task = stack.api.task(task_id)
            assert task is not None and task.outcome is not None
            assert task.outcome.delivered and task.outcome.attempts == 3
    lines = read_record(record)
    attempts = [line for line in lines if line["type"] == "attempt"]
    assert [a["status"] for a in attempts] == [500, 503, 200]
    assert [a["gap_s"] for a in attempts] == [None, 2.0, 4.0]
    assert {line["task_id"] for line in lines if "task_id" in line} == {task_id}
    text = record.read_text()
    assert SERVER_SECRET not in text and CALLBACK_SECRET not in text


async def test_scaled_clock_fires_the_callback_after_the_processing_time() -> None:
    async for stack in running_stack(ScaledClock(50), processing_time=5.0):
        task_id = await stack.backend.start_transcode("5285890813221514958", "720p")
        assert (await stack.backend.describe(task_id))["Status"] in ("WAITING", "PROCESSING")
        await stack.backend.callback_for(task_id)
        assert (await stack.backend.describe(task_id))["Status"] == "FINISH"


@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM])
def test_cli_prints_its_url_first_serves_and_stops_cleanly(
    tmp_path: Path, stop_signal: signal.Signals
) -> None:
    record = tmp_path / "cli.jsonl"
    env = {**os.environ, "ZEGO_SERVER_SECRET": SERVER_SECRET}
    process = subprocess.Popen(
        [sys.executable, "-m", "emulator", "api", "--port", "0", "--app-id", APP_ID,
         "--record", str(record)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        match = re.match(r"listening on (http://127\.0\.0\.1:\d+)", first)
        assert match, first

        async def call() -> dict[str, Any]:
            async with ZegoApiClient(match.group(1), APP_ID, SERVER_SECRET) as client:
                return await client.call(
                    "TranscodeMedia", Vendor="Tencent", FileId="1", Resolution="360p"
                )

        assert asyncio.run(call())["Code"] == 0
        process.send_signal(stop_signal)
        out, err = process.communicate(timeout=GUARD)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, err
    assert "stopped: 1 task started" in out
    assert SERVER_SECRET not in out + err
    assert "ZEGO_CALLBACK_SECRET" not in err  # no callback URL: no note about its secret
    kinds = [line["type"] for line in read_record(record)]
    assert kinds[0] == "run" and kinds[-1] == "summary"
