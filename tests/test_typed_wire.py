"""Typed wire values end to end: numbers, arrays and objects cross the wire, the record and
a replay exactly as built (a 64-bit id above 2**53 included), in all three encodings.

The receivers here hash and parse what arrived with :mod:`json` and :mod:`urllib`, not
with the emulator's decoder.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote

import pytest
from aiohttp import web

from emulator.callback.model import Callback
from emulator.clock import VirtualClock
from emulator.delivery.dispatch import Delivery, Dispatcher
from emulator.record.reader import read_record
from emulator.record.writer import Recorder
from emulator.run.replay import replay
from emulator.servers.receiver import DEFAULT_PATH, Receiver
from emulator.servers.start import RunningServer, start_server
from emulator.signing import sign_fields
from emulator.wire import ENCODINGS, Encoding, WireFields

SECRET = "typed-wire-secret"
BIG_ID = 858012925204410400  # above 2**53: a double would read 858012925204410368


def typed_fields() -> WireFields:
    """A room_create-shaped body with the types ZEGO documents, plus an array and an object."""
    return sign_fields(
        {
            "appid": 1234567890,
            "event": "room_create",
            "nonce": "350176",
            "timestamp": 1499676978,
            "room_id": "rid_1242649",
            "room_session_id": BIG_ID,
            "room_create_time": "1499676978027",
            "rtmp_url": ["rtmp://a.example/live/s1", "rtmp://b.example/live/s1?k=1&j=2"],
            "Details": {"Outputs": [{"Width": 1280, "Height": 720}]},
        },
        SECRET,
    )


def parsed(body: bytes, content_type: str) -> dict[str, Any]:
    """The body as a receiver reads it with the standard library."""
    text = body.decode()
    if content_type.startswith("application/x-www-form-urlencoded"):
        return dict(parse_qsl(text, strict_parsing=True))
    if text.startswith("%7B"):
        text = unquote(text)
    value: dict[str, Any] = json.loads(text)
    return value


def digest_signature(timestamp: str, nonce: str) -> str:
    return hashlib.sha1("".join(sorted([SECRET, timestamp, nonce])).encode()).hexdigest()


class Capture:
    """Keeps every body it gets and answers 200."""

    def __init__(self) -> None:
        self.bodies: list[tuple[str, bytes]] = []

    async def handle(self, request: web.Request) -> web.Response:
        self.bodies.append((request.headers["Content-Type"], await request.read()))
        return web.Response(text="ok")

    async def start(self) -> RunningServer:
        app = web.Application()
        app.router.add_post("/cb", self.handle)
        return await start_server(app)


async def deliver_and_record(record: Path, capture: Capture) -> list[Callback]:
    callbacks = [
        Callback(f"cb-{index}", "room_create", str(BIG_ID), typed_fields(), encoding)
        for index, encoding in enumerate(ENCODINGS)
    ]
    async with await capture.start() as server:
        target = f"{server.url}/cb"
        with Recorder(record) as recorder:
            recorder.write({"type": "run", "run_id": "typed", "target": target})
            async with Dispatcher(
                clock=VirtualClock(), recorder=recorder, run_id="typed"
            ) as dispatcher:
                await dispatcher.deliver_all([Delivery(cb, target) for cb in callbacks])
    return callbacks


async def test_typed_values_arrive_with_their_types_and_sign_over_decimal_text(
    tmp_path: Path,
) -> None:
    capture = Capture()
    await deliver_and_record(tmp_path / "run.jsonl", capture)
    assert len(capture.bodies) == 3
    by_encoding = dict(zip(ENCODINGS, capture.bodies, strict=True))
    for encoding in ("json", "json-urlencoded"):
        content_type, body = by_encoding[encoding]
        fields = parsed(body, content_type)
        assert fields["room_session_id"] == BIG_ID and type(fields["room_session_id"]) is int
        assert fields["appid"] == 1234567890 and fields["timestamp"] == 1499676978
        assert fields["rtmp_url"][1] == "rtmp://b.example/live/s1?k=1&j=2"
        assert fields["Details"] == {"Outputs": [{"Width": 1280, "Height": 720}]}
        assert b"858012925204410400" in (body if encoding == "json" else unquote(body).encode())
        assert fields["signature"] == digest_signature(str(fields["timestamp"]), fields["nonce"])
    content_type, body = by_encoding["form"]
    form = parsed(body, content_type)
    assert form["room_session_id"] == "858012925204410400"
    assert form["timestamp"] == "1499676978" and form["appid"] == "1234567890"
    assert json.loads(form["rtmp_url"]) == typed_fields()["rtmp_url"]
    assert form["Details"] == '{"Outputs":[{"Width":1280,"Height":720}]}'
    assert form["signature"] == digest_signature(form["timestamp"], form["nonce"])


async def test_record_and_replay_round_trip_the_exact_typed_bodies(tmp_path: Path) -> None:
    first, again = Capture(), Capture()
    record = tmp_path / "run.jsonl"
    await deliver_and_record(record, first)
    recorded = [line["body"].encode() for line in read_record(record) if line["type"] == "callback"]
    assert recorded == [body for _, body in first.bodies]
    async with await again.start() as server:
        await replay([record], f"{server.url}/cb", record_path=tmp_path / "again.jsonl")
    assert again.bodies == first.bodies


@pytest.mark.parametrize("encoding", ENCODINGS)
async def test_a_resigned_replay_keeps_the_numeric_timestamp_a_number(
    tmp_path: Path, encoding: Encoding
) -> None:
    first, again = Capture(), Capture()
    record = tmp_path / "run.jsonl"
    await deliver_and_record(record, first)
    async with await again.start() as server:
        await replay(
            [record],
            f"{server.url}/cb",
            record_path=tmp_path / "again.jsonl",
            resign_secret=SECRET,
            clock=VirtualClock(),
        )
    index = ENCODINGS.index(encoding)
    before = parsed(first.bodies[index][1], first.bodies[index][0])
    after = parsed(again.bodies[index][1], again.bodies[index][0])
    assert type(after["timestamp"]) is type(before["timestamp"])
    assert after["room_session_id"] == before["room_session_id"]
    assert after["signature"] == digest_signature(str(after["timestamp"]), str(after["nonce"]))
    assert after["signature"] != before["signature"]


async def test_the_receiver_keeps_json_types_and_sees_one_callback_in_any_encoding() -> None:
    receiver = Receiver(callback_secret=SECRET, replay_status=200, max_age=None)
    server = await receiver.start()
    url = f"{server.url}{DEFAULT_PATH}"
    try:
        async with Dispatcher(clock=VirtualClock()) as dispatcher:
            order: list[Encoding] = ["json", "form", "json-urlencoded"]
            for index, encoding in enumerate(order):
                callback = Callback(f"cb-{index}", "room_create", "", typed_fields(), encoding)
                outcome = await dispatcher.deliver(Delivery(callback, url))
                assert outcome.delivered
    finally:
        await receiver.stop()
    first, *again = receiver.received
    assert first.fields["room_session_id"] == BIG_ID
    assert first.fields["rtmp_url"] == typed_fields()["rtmp_url"]
    assert first.event == "room_create" and first.verdict is not None and first.verdict.ok
    # the same signed callback re-sent in form and json-urlencoded: the same body, a duplicate
    assert [item.duplicate for item in again] == [True, True]
    assert again[0].fields["room_session_id"] == str(BIG_ID)  # form carries text
