"""The mock API's room actions and stream tasks against running sessions, over real sockets.

The callback receiver verifies signatures as ZEGO's docs describe (sha1 of the sorted
secret, timestamp and nonce), the expected callbacks come from the digest (§9, §10).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from emulator.clock import VirtualClock
from emulator.servers.api_client import ZegoApiClient
from emulator.servers.mockapi import MockApi
from emulator.servers.start import start_server
from emulator.sessions import SessionEntry

APP_ID = "1234567890"
SERVER_SECRET = "rooms-server-secret"
CALLBACK_SECRET = "rooms-callback-secret"


class Callbacks:
    """A receiver from the docs: verify each signature, keep the callbacks in arrival order."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.bad = 0

    async def handle(self, request: web.Request) -> web.Response:
        fields = json.loads(await request.read())
        # transcode_* spell them Timestamp, Nonce, Signature (digest §5)
        pascal = "Event" in fields
        stamp, nonce = (
            (fields["Timestamp"], fields["Nonce"])
            if pascal
            else (
                fields["timestamp"],
                fields["nonce"],
            )
        )
        signature = fields.get("Signature" if pascal else "signature")
        parts = sorted([CALLBACK_SECRET, str(stamp), str(nonce)])
        if hashlib.sha1("".join(parts).encode()).hexdigest() != signature:
            self.bad += 1
            return web.Response(status=401)
        self.received.append(fields)
        return web.Response(text="ok")

    def take(self) -> list[dict[str, Any]]:
        taken, self.received = self.received, []
        return taken


class Ticks:
    """A monotonic clock for the rate limiter that moves only when told."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Running:
    api: MockApi
    client: ZegoApiClient
    callbacks: Callbacks
    ticks: Ticks

    async def call(self, action: str, body: dict[str, Any] | None = None, **params: Any) -> Any:
        self.ticks.now += 2  # past every rate limit's one-second window
        answer = await self.client.call(action, body, **params)
        await self.api.drain()
        return answer


async def running(sessions: list[SessionEntry]) -> AsyncIterator[Running]:
    callbacks, ticks = Callbacks(), Ticks()
    app = web.Application()
    app.router.add_post("/cb", callbacks.handle)
    async with await start_server(app) as receiver:
        api = MockApi(
            app_id=APP_ID,
            server_secret=SERVER_SECRET,
            callback_url=f"{receiver.url}/cb",
            callback_secret=CALLBACK_SECRET,
            clock=VirtualClock(),
            encoding="json",
            seed=9,
            monotonic=ticks,
            sessions=sessions,
        )
        async with (
            await api.start() as server,
            ZegoApiClient(server.url, APP_ID, SERVER_SECRET) as client,
        ):
            await api.drain()
            yield Running(api, client, callbacks, ticks)
        assert callbacks.bad == 0


@pytest.fixture
async def room() -> AsyncIterator[Running]:
    """Room r1: two users, one stream each, everyone still in."""
    async for value in running([SessionEntry(room_id="r1", users=2, streams_per_user=1)]):
        yield value


def events(callbacks: list[dict[str, Any]]) -> list[str]:
    return [fields["event"] for fields in callbacks]


def opening(callbacks: list[dict[str, Any]]) -> dict[str, Any]:
    """What the session's own callbacks said: the room session, users and streams."""
    assert events(callbacks) == ["room_create", "room_login", "room_login"] + ["stream_create"] * 2
    return {
        "session": callbacks[0]["room_session_id"],
        "users": {f["user_account"]: f["session_id"] for f in callbacks[1:3]},
        "streams": {f["stream_id"]: f for f in callbacks[3:]},
    }


@pytest.mark.parametrize("room_close_callback", [False, True])
async def test_close_room_sends_exactly_the_documented_callbacks(
    room: Running, room_close_callback: bool
) -> None:
    before = opening(room.callbacks.take())
    params = {"RoomCloseCallback": "true"} if room_close_callback else {}
    answer = await room.call("CloseRoom", RoomId="r1", CustomReason="maintenance", **params)
    assert answer["Code"] == 0, answer
    closed = room.callbacks.take()
    expected = ["stream_close"] * 2 + ["room_logout"] * 2
    assert events(closed) == expected + (["room_close"] if room_close_callback else [])
    stream_closes, logouts = closed[:2], closed[2:4]
    assert {f["stream_id"] for f in stream_closes} == set(before["streams"])
    for close in stream_closes:
        create = before["streams"][close["stream_id"]]
        assert close["type"] == "5"  # room cleared [inferred: the page names no type]
        assert close["stream_sid"] == create["stream_sid"]
        assert int(close["stream_seq"]) > int(create["stream_seq"])
        assert close["room_session_id"] == str(before["session"])
    assert {f["user_account"]: f["session_id"] for f in logouts} == before["users"]
    assert all(f["room_seq"] == str(before["session"]) for f in logouts)
    if room_close_callback:
        assert closed[-1]["room_session_id"] == before["session"]
        assert closed[-1]["close_reason"] == 0
    again = await room.call("CloseRoom", RoomId="r1")
    assert again["Code"] == 5018 and room.callbacks.take() == []


async def test_close_room_is_limited_to_one_call_a_second(room: Running) -> None:
    room.callbacks.take()
    first = await room.client.call("CloseRoom", RoomId="nowhere")
    second = await room.client.call("CloseRoom", RoomId="nowhere")
    assert (first["Code"], second["Code"]) == (5018, 6)


async def test_a_badly_signed_close_room_changes_nothing(room: Running) -> None:
    room.callbacks.take()
    wrong = ZegoApiClient(room.client.base_url, APP_ID, "not-the-server-secret")
    async with wrong:
        answer = await wrong.call("CloseRoom", RoomId="r1")
    await room.api.drain()
    assert answer["Code"] == 100000005
    assert room.callbacks.take() == [] and len(room.api.truth()["rooms"][0]["users"]) == 2


async def test_kickout_user_closes_its_streams_and_the_last_one_closes_the_room(
    room: Running,
) -> None:
    before = opening(room.callbacks.take())
    first, second = before["users"]
    answer = await room.call("KickoutUser", RoomId="r1", UserId=[first])
    assert answer["Code"] == 0
    kicked = room.callbacks.take()
    assert events(kicked) == ["stream_close", "room_logout"]
    assert kicked[0]["type"] == "3" and kicked[0]["user_id"] == first
    assert kicked[1]["reason"] == "3" and kicked[1]["session_id"] == before["users"][first]
    await room.call("KickoutUser", RoomId="r1", UserId=[second])
    last = room.callbacks.take()
    assert events(last) == ["stream_close", "room_logout", "room_close"]
    assert last[-1]["close_reason"] == 3
    assert room.api.truth() == {"rooms": []}
    too_many = await room.call("KickoutUser", RoomId="r1", UserId=[str(n) for n in range(6)])
    assert too_many["Code"] == 50011


async def test_delete_stream_closes_it_with_type_100_and_the_user_stays(room: Running) -> None:
    before = opening(room.callbacks.take())
    stream_id, create = next(iter(before["streams"].items()))
    owner = create["user_id"]
    answer = await room.call("DeleteStream", RoomId="r1", UserId=owner, StreamId=stream_id)
    assert answer["Code"] == 0
    [close] = room.callbacks.take()
    assert (close["event"], close["type"], close["stream_id"]) == ("stream_close", "100", stream_id)
    [state] = room.api.truth()["rooms"]
    assert owner in {u["user_account"] for u in state["users"]}
    assert stream_id not in {s["stream_id"] for s in state["streams"]}
    gone = await room.call("DeleteStream", RoomId="r1", UserId=owner, StreamId=stream_id)
    assert gone["Code"] == 138


async def test_start_and_stop_mix_fire_mix_start_and_mix_stop(room: Running) -> None:
    before = opening(room.callbacks.take())
    body = {
        "TaskId": "mix-1",
        "UserId": "host",
        "RoomId": "r1",
        "Sequence": 7,
        "MixInput": [{"StreamId": s, "RectInfo": {}} for s in before["streams"]],
        "MixOutput": [
            {"StreamId": "mixed", "VideoBitrate": 1_200_000, "Fps": 15, "Width": 360, "Height": 640}
        ],
    }
    started = await room.call("StartMix", body)
    assert started["Code"] == 0 and started["Data"]["PlayInfo"][0]["StreamId"] == "mixed"
    [mix_start] = room.callbacks.take()
    assert mix_start["event"] == "mix_start" and mix_start["task_id"] == f"{APP_ID}:mix-1"
    assert (mix_start["seq"], mix_start["channel_id"]) == ("7", "r1")
    assert mix_start["mix_stream_alias"] == "mixed" and mix_start["publish_id"] == "host"
    missing = await room.call("StartMix", {**body, "TaskId": "m2", "MixInput": [{"StreamId": "x"}]})
    assert missing["Code"] == 110200150
    stopped = await room.call("StopMix", {"TaskId": "mix-1", "UserId": "host", "Sequence": 8})
    assert stopped["Code"] == 0
    [mix_stop] = room.callbacks.take()
    assert (mix_stop["event"], mix_stop["task_id"], mix_stop["seq"]) == (
        "mix_stop",
        f"{APP_ID}:mix-1",
        "8",
    )
    assert (await room.call("StopMix", {"TaskId": "mix-1"}))["Code"] == 110200001
    get = await room.client.call("StartMix", TaskId="x")
    assert get["Code"] == 2  # a POST action called with GET


async def test_cloud_transcode_start_update_stop(room: Running) -> None:
    before = opening(room.callbacks.take())
    stream = next(iter(before["streams"]))
    body = {
        "TaskId": "tc-1",
        "UserId": "host",
        "Sequence": 1,
        "TranscodeInput": {"StreamId": stream},
        "TranscodeOutput": [{"StreamId": f"{stream}_720", "TemplateId": 2}],
    }
    assert (await room.call("StartCloudTranscode", body))["Code"] == 0
    assert (await room.call("StartCloudTranscode", {**body, "Sequence": 2}))["Code"] == 0
    started, updated = room.callbacks.take()
    assert (started["Event"], started["Status"], started["TaskId"]) == (
        "transcode_start",
        "TranscodeStarted",
        "tc-1",
    )
    assert updated["Status"] == "TranscodeUpdated" and updated["Sequence"] == 2
    assert started["Details"]["Input"]["StreamId"] == stream
    assert started["Details"]["Outputs"][0]["Height"] == 720
    stop = {"TaskId": "tc-1", "UserId": "host", "Sequence": 3}
    assert (await room.call("StopCloudTranscode", stop))["Code"] == 0
    [stopped] = room.callbacks.take()
    assert (stopped["Event"], stopped["StopReason"]) == ("transcode_stop", 0)
    assert (await room.call("StopCloudTranscode", stop))["Code"] == 110200151


async def test_cdn_record_stop_fires_one_record_callback_per_stream(room: Running) -> None:
    before = opening(room.callbacks.take())
    streams = sorted(before["streams"])
    started = await room.call("StartCDNRecord", StreamId=streams, Vendor="Tencent")
    assert started["Code"] == 0 and room.callbacks.take() == []
    stopped = await room.call("StopCDNRecord", StreamId=streams, Vendor="Tencent")
    assert stopped["Code"] == 0
    records = room.callbacks.take()
    assert events(records) == ["record", "record"]
    assert sorted(r["stream_alias"] for r in records) == streams
    assert all(set(json.loads(r["extra_params"])) >= {"TaskId", "FileID"} for r in records)
    again = await room.call("StopCDNRecord", StreamId=streams[:1], Vendor="Tencent")
    assert again["Code"] == 1000
    other = await room.call("StartCDNRecord", StreamId=streams[:1], Vendor="Akamai")
    assert other["Code"] == 4


async def test_the_api_command_runs_a_scenarios_sessions_and_closes_their_room(
    tmp_path: Path,
) -> None:
    import asyncio
    import os
    import re
    import signal
    import sys

    from emulator.record.reader import read_record

    scenario = tmp_path / "rooms.yaml"
    scenario.write_text("sessions:\n  - {room_id: r1, users: 2, streams_per_user: 1}\n")
    record = tmp_path / "api.jsonl"
    callbacks = Callbacks()
    app = web.Application()
    app.router.add_post("/cb", callbacks.handle)

    async def arrived(count: int) -> None:
        for _ in range(600):  # a bound, not a timing assertion
            if len(callbacks.received) >= count:
                return
            await asyncio.sleep(0.05)
        raise AssertionError(f"{len(callbacks.received)} callbacks arrived, expected {count}")

    async with await start_server(app) as receiver:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "emulator", "api", "--port", "0", "--app-id", APP_ID,
            "--sessions", str(scenario), "--callback-url", f"{receiver.url}/cb",
            "--encoding", "json", "--speed", "100", "--record", str(record),
            env={**os.environ, "ZEGO_SERVER_SECRET": SERVER_SECRET,
                 "ZEGO_CALLBACK_SECRET": CALLBACK_SECRET},
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        try:
            assert process.stdout is not None
            first = (await asyncio.wait_for(process.stdout.readline(), 60)).decode()
            match = re.match(r"listening on (http://127\.0\.0\.1:\d+)", first)
            assert match, first
            await arrived(5)
            assert events(callbacks.received)[0] == "room_create"
            async with ZegoApiClient(match.group(1), APP_ID, SERVER_SECRET) as client:
                answer = await client.call("CloseRoom", RoomId="r1", RoomCloseCallback="true")
            assert answer["Code"] == 0, answer
            await arrived(10)
            process.send_signal(signal.SIGTERM)
            out, err = await asyncio.wait_for(process.communicate(), 60)
        finally:
            if process.returncode is None:
                process.kill()
                await process.communicate()
    assert process.returncode == 0, err.decode()
    closing = events(callbacks.received[5:])
    assert closing == ["stream_close"] * 2 + ["room_logout"] * 2 + ["room_close"]
    assert "sessions         1 room(s) running" in out.decode()
    summary = [line for line in read_record(record) if line["type"] == "summary"][-1]
    assert (summary["callbacks"], summary["delivered"]) == (10, 10)
    assert callbacks.bad == 0 and SERVER_SECRET not in out.decode() + err.decode()
