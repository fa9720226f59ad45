"""A receiver written only from the digest (zego-events.md §1.2, §1.5, §2-§6, §12) verifies
every RTC catalogue event and the Cloud Recording status callback in all three encodings.

The receiver knows nothing of ``emulator``: it reads the body as a form, JSON, or JSON
percent-encoded as a whole (by its Content-Type and first byte); names the event by
``event``/``Event`` (Cloud Recording has neither: ``app_id`` + ``event_type``); sorts
``[secret, str(timestamp), str(nonce)]`` as strings (``Timestamp``/``Nonce`` in the
PascalCase transcode events), sha1s the join and compares in constant time; then checks
every documented field is present with its documented JSON type. A form carries text, so
there a number must be decimal digits and an array/object its JSON text (the project's
documented form decision). Callbacks travel over a real socket on 127.0.0.1.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote

import pytest
from aiohttp import web

from emulator.callback.factory import CallbackFactory
from emulator.clock import VirtualClock
from emulator.delivery.dispatch import Delivery, Dispatcher
from emulator.retry import RetryPolicy
from emulator.servers.start import RunningServer, start_server
from emulator.wire import Encoding

SECRET = "catalogue-doc-receiver-secret"
BIG = 858012925204410400  # the digest's room_session_id example, above 2**53
STR, INT, NUM, ARRAY, OBJECT, JSON_TEXT = "str", "int", "number", "array", "object", "json"

COMMON = {"event": STR, "appid": STR, "timestamp": STR, "nonce": STR, "signature": STR}
PASCAL = {"Event": STR, "Appid": STR, "Timestamp": STR, "Nonce": STR, "Signature": STR}
# event -> every documented field and its JSON type (optional fields left out)
DOCUMENTED: dict[str, dict[str, str]] = {
    "room_create": {  # §2.1, §1.5: appid and timestamp are numbers here
        **COMMON, "appid": INT, "timestamp": INT,
        "room_id": STR, "room_session_id": INT, "room_create_time": STR, "id_name": STR,
    },
    "room_close": {  # §2.2
        **COMMON, "appid": INT, "timestamp": INT,
        "room_id": STR, "room_session_id": INT, "close_reason": INT, "room_close_time": STR,
    },
    "room_login": {  # §2.3 (term_type is missing from the older pages)
        **COMMON, "room_id": STR, "room_name": STR, "room_seq": STR, "user_account": STR,
        "user_nickname": STR, "session_id": STR, "login_time": STR, "user_role": STR,
        "auth_level": STR, "relogin": STR, "user_update_seq": STR, "callback_data": STR,
    },
    "room_logout": {  # §2.4
        **COMMON, "room_id": STR, "room_seq": STR, "user_account": STR, "user_nickname": STR,
        "session_id": STR, "login_time": STR, "logout_time": STR, "reason": STR,
        "user_role": STR, "user_update_seq": STR,
    },
    "stream_create": {  # §3.1
        **COMMON, "room_id": STR, "room_session_id": STR, "user_id": STR, "user_name": STR,
        "channel_id": STR, "stream_id": STR, "stream_sid": STR, "title": STR,
        "stream_alias": STR, "stream_attr": JSON_TEXT, "stream_seq": STR, "create_time": STR,
        "create_time_ms": STR, "extra_info": STR, "recreate": STR, "publish_id": STR,
        "publish_name": STR, "rtmp_url": ARRAY, "hls_url": ARRAY, "hdl_url": ARRAY,
        "pic_url": ARRAY,
    },
    "stream_close": {  # §3.2
        **COMMON, "room_id": STR, "room_session_id": STR, "user_id": STR, "user_name": STR,
        "channel_id": STR, "type": STR, "stream_alias": STR, "stream_id": STR,
        "stream_sid": STR, "stream_seq": STR, "third_define_data": STR,
        "create_time_ms": STR, "destroy_timemillis": STR,
    },
    "mix_start": {  # §4.1
        **COMMON, "seq": STR, "task_id": STR, "channel_id": STR, "publish_id": STR,
        "mix_url": STR, "mix_stream_alias": STR, "stream_alias": STR, "rtmp_urls": ARRAY,
        "hls_urls": ARRAY, "hdl_urls": ARRAY,
    },
    "mix_stop": {  # §4.2
        **COMMON, "seq": STR, "task_id": STR, "channel_id": STR, "publish_id": STR,
        "mix_url": STR, "mix_stream_alias": STR,
    },
    "transcode_start": {  # §5.1
        **PASCAL, "TaskId": STR, "UserId": STR, "Sequence": INT, "Status": STR,
        "Details": OBJECT,
    },
    "transcode_stop": {  # §5.2
        **PASCAL, "TaskId": STR, "UserId": STR, "Sequence": INT, "Status": STR,
        "StopReason": INT,
    },
    "record": {  # §6.1
        **COMMON, "stream_alias": STR, "replay_url": STR, "begin_time": STR, "end_time": STR,
        "extra_params": JSON_TEXT,
    },
    "cloud_recording": {  # §12: no event field, app_id a number, timestamp a string
        "app_id": INT, "task_id": STR, "room_id": STR, "event_type": INT, "message": STR,
        "nonce": STR, "timestamp": STR, "signature": STR, "sequence": INT, "detail": OBJECT,
    },
}  # fmt: skip
OUTPUT = {
    "StreamId": STR, "StreamUrl": STR, "VideoEncId": INT, "VideoBitrate": INT,
    "ShortEdgeAdaption": INT, "Fps": INT, "Width": INT, "Height": INT, "GOP": INT,
}  # fmt: skip
VENDOR_EXTRA = {  # §6.1: extra_params by CDN vendor
    "Tencent": {"TaskId": STR, "FileID": STR, "Duration": NUM},
    "Ws": {"PersistentId": STR, "Duration": NUM},
    "Huawei": {"Duration": NUM, "ObsObject": STR, "FileSize": INT},
}
FILE_INFO = {  # §12 detail.file_info[] (event_type 1)
    "user_id": STR, "user_name": STR, "stream_id": STR, "file_id": STR, "video_id": STR,
    "file_url": STR, "output_file_format": STR, "file_size": INT, "duration": INT,
    "resolution_width": INT, "resolution_height": INT, "media_track_type": INT,
    "begin_timestamp": INT, "status": INT,
}  # fmt: skip
DETAIL: dict[int, dict[str, str]] = {  # §12 detail by event_type
    1: {"upload_status": INT, "file_info": ARRAY},
    2: {"quit_reason": INT},
    3: {"image_type": INT, "image_url": STR},
    4: {}, 5: {}, 7: {}, 201: {}, 202: {},
    6: {"stream_id": STR},
    102: {"stream_id": STR, "file_id": STR, "file_url": STR, "media_track_type": INT},
}  # fmt: skip


def read_body(body: bytes, content_type: str) -> tuple[dict[str, Any], bool]:
    """The top-level fields and whether they are typed (JSON) or text (a form)."""
    text = body.decode("utf-8")
    if content_type.startswith("application/x-www-form-urlencoded"):
        return dict(parse_qsl(text, keep_blank_values=True, strict_parsing=True)), False
    if text.startswith("%7B"):  # the JSON text percent-encoded as a whole
        text = unquote(text)
    return json.loads(text), True


def event_name(fields: dict[str, Any]) -> str:
    if "event" in fields:
        return str(fields["event"])
    if "Event" in fields:
        return str(fields["Event"])
    return "cloud_recording" if "app_id" in fields and "event_type" in fields else ""


def signature_ok(fields: dict[str, Any]) -> bool:
    """ZEGO's recipe: sha1 of the sorted strings secret, timestamp, nonce; constant time."""
    pascal = "Timestamp" in fields and "timestamp" not in fields
    stamp = fields["Timestamp" if pascal else "timestamp"]
    nonce = fields["Nonce" if pascal else "nonce"]
    joined = "".join(sorted([SECRET, str(stamp), str(nonce)]))
    expected = hashlib.sha1(joined.encode()).hexdigest()
    return hmac.compare_digest(expected, str(fields["Signature" if pascal else "signature"]))


def typed(value: Any, kind: str, is_json: bool) -> tuple[Any, str]:
    """The value as its documented type (a form's text read as such), or a problem."""
    if not is_json and kind in (INT, NUM, ARRAY, OBJECT):
        if not isinstance(value, str):
            return value, "not text"
        if kind == INT:
            return (int(value), "") if re.fullmatch(r"-?\d+", value) else (value, "not digits")
        if kind == NUM:
            try:
                return float(value), ""
            except ValueError:
                return value, "not a number"
        try:
            value = json.loads(value)
        except ValueError:
            return value, "not JSON text"
    if kind == STR:
        return value, "" if isinstance(value, str) else f"{type(value).__name__}, not a string"
    if kind == INT:
        ok = type(value) is int
        return value, "" if ok else f"{type(value).__name__}, not an integer"
    if kind == NUM:
        ok = type(value) in (int, float)
        return value, "" if ok else f"{type(value).__name__}, not a number"
    if kind == ARRAY:
        return value, "" if isinstance(value, list) else f"{type(value).__name__}, not an array"
    if kind == OBJECT:
        return value, "" if isinstance(value, dict) else f"{type(value).__name__}, not an object"
    # JSON text inside a string, in every encoding
    if not isinstance(value, str):
        return value, f"{type(value).__name__}, not JSON text in a string"
    try:
        inner = json.loads(value)
    except ValueError:
        return value, "not JSON text"
    return inner, "" if isinstance(inner, dict) else "JSON text of no object"


def check_table(
    values: dict[str, Any], table: dict[str, str], is_json: bool, where: str
) -> tuple[dict[str, Any], list[str]]:
    """Every field of ``table`` present with its type; the values read as their types."""
    problems: list[str] = []
    read: dict[str, Any] = {}
    for name, kind in table.items():
        if name not in values:
            problems.append(f"{where}{name}: missing")
            continue
        read[name], problem = typed(values[name], kind, is_json)
        if problem:
            problems.append(f"{where}{name}: {problem}")
    return read, problems


def check_nested(event: str, read: dict[str, Any]) -> list[str]:
    """The documented shapes inside arrays, objects and JSON-in-string fields."""
    problems: list[str] = []
    for name in ("rtmp_url", "hls_url", "hdl_url", "pic_url", "rtmp_urls", "hls_urls"):
        if name in read and not all(isinstance(url, str) for url in read[name]):
            problems.append(f"{name}: not a list of strings")
    if event == "transcode_start":
        details = read.get("Details") or {}
        _, found = check_table(
            details.get("Input", {}), {"StreamId": STR, "StreamUrl": STR}, True, "Details.Input."
        )
        problems += found
        for index, entry in enumerate(details.get("Outputs", [])):
            problems += check_table(entry, OUTPUT, True, f"Details.Outputs[{index}].")[1]
    if event == "record":
        extra = read.get("extra_params") or {}
        vendor = next((v for v, keys in VENDOR_EXTRA.items() if set(keys) == set(extra)), None)
        if vendor is None:
            problems.append(f"extra_params: keys {sorted(extra)} are no vendor's")
        else:
            problems += check_table(extra, VENDOR_EXTRA[vendor], True, "extra_params.")[1]
    if event == "cloud_recording":
        detail = read.get("detail") or {}
        table = DETAIL.get(read.get("event_type", -1))
        if table is None:
            problems.append(f"event_type {read.get('event_type')}: undocumented")
        else:
            nested, found = check_table(detail, table, True, "detail.")
            problems += found
            for index, entry in enumerate(nested.get("file_info") or []):
                problems += check_table(entry, FILE_INFO, True, f"file_info[{index}].")[1]
    return problems


@dataclass
class DocReceiver:
    """Accepts (200) a callback whose signature and documented fields check out."""

    accepted: list[tuple[str, bool, dict[str, Any]]] = field(default_factory=list)
    refused: list[tuple[str, list[str]]] = field(default_factory=list)

    async def handle(self, request: web.Request) -> web.Response:
        fields, is_json = read_body(await request.read(), request.content_type)
        event = event_name(fields)
        if not signature_ok(fields):
            self.refused.append((event, ["signature"]))
            return web.Response(status=401, text="bad signature")
        table = DOCUMENTED.get(event)
        if table is None:
            self.refused.append((event, ["unknown event"]))
            return web.Response(status=400, text="unknown event")
        read, problems = check_table(fields, table, is_json, "")
        problems += check_nested(event, read)
        if problems:
            self.refused.append((event, problems))
            return web.Response(status=422, text="; ".join(problems))
        self.accepted.append((event, is_json, read))
        return web.Response(text="success")


@pytest.fixture
async def doc_receiver() -> AsyncIterator[tuple[DocReceiver, RunningServer]]:
    receiver = DocReceiver()
    app = web.Application()
    app.router.add_post("/zego/callback", receiver.handle)
    async with await start_server(app) as server:
        yield receiver, server


VARIANTS: list[tuple[str, dict[str, Any]]] = [
    ("room_create", {"room_session_id": BIG}),
    ("room_close", {"room_session_id": BIG, "close_reason": 3}),
    ("room_login", {"room_seq": BIG}),
    ("room_logout", {"reason": 4}),
    ("stream_create", {"stream_seq": 1, "seq_digits": 2}),
    ("stream_close", {"type": 100}),
    ("mix_start", {"singular_urls": True}),
    ("mix_stop", {}),
    ("transcode_start", {"outputs": [{"template": 0}, {"template": 3}]}),
    ("transcode_stop", {"stop_reason": 1}),
    *[("record", {"vendor": vendor}) for vendor in ("Tencent", "Ws", "Huawei")],
    *[("cloud_recording", {"event_type": kind}) for kind in sorted(DETAIL)],
]
ENCODINGS = ("json", "form", "json-urlencoded")


async def deliver(server: RunningServer, callbacks: list[Any]) -> list[bool]:
    async with Dispatcher(policy=RetryPolicy(intervals=()), clock=VirtualClock()) as dispatcher:
        outcomes = await dispatcher.deliver_all(
            Delivery(callback, f"{server.url}/zego/callback") for callback in callbacks
        )
    return [outcome.delivered for outcome in outcomes]


@pytest.mark.parametrize("encoding", ENCODINGS)
async def test_every_catalogue_event_verifies_against_the_digest(
    doc_receiver: tuple[DocReceiver, RunningServer], encoding: Encoding
) -> None:
    receiver, server = doc_receiver
    factory = CallbackFactory(seed=8, app_id="1234567890")
    callbacks = [
        factory.callback(factory.build(event, params), SECRET, encoding)
        for event, params in VARIANTS
    ]
    delivered = await deliver(server, callbacks)
    assert receiver.refused == []
    assert all(delivered) and len(receiver.accepted) == len(VARIANTS)
    assert {event for event, _, _ in receiver.accepted} == set(DOCUMENTED)
    assert {is_json for _, is_json, _ in receiver.accepted} == {encoding != "form"}
    sessions = [
        read["room_session_id"]
        for event, _, read in receiver.accepted
        if event in ("room_create", "room_close")
    ]
    assert sessions == [BIG, BIG]  # exactly, not 858012925204410368
    assert all(type(value) is int for value in sessions)


async def test_the_digest_receiver_refuses_wrong_signatures_and_wrong_types(
    doc_receiver: tuple[DocReceiver, RunningServer],
) -> None:
    receiver, server = doc_receiver
    factory = CallbackFactory(seed=9, app_id="1234567890")
    tampered = factory.callback(factory.build("transcode_stop"), SECRET, tamper="bad_signature")
    as_text = factory.callback(
        factory.build("room_create"), SECRET, "json", extra_fields={"room_session_id": str(BIG)}
    )
    no_urls = factory.callback(
        factory.build("stream_create"), SECRET, "json", extra_fields={"rtmp_url": "rtmp://a/s"}
    )
    assert await deliver(server, [tampered, as_text, no_urls]) == [False, False, False]
    assert receiver.refused == [
        ("transcode_stop", ["signature"]),
        ("room_create", ["room_session_id: str, not an integer"]),
        ("stream_create", ["rtmp_url: str, not an array"]),
    ]
