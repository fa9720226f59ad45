"""A ZIM receiver written only from the digest (zego-events.md §1.2, §11) accepts every ZIM
event the emulator sends, each documented field present with its documented JSON type.

The receiver knows nothing of ``emulator``: it reads the JSON body, sorts
``[secret, str(timestamp), nonce]`` as strings (``timestamp`` is a JSON number, signed as
its decimal text), sha1s the join, compares, then checks the field table below — typed
as the digest types them — against the parsed JSON. Callbacks travel over a real socket.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web

from emulator.callback.factory import CallbackFactory
from emulator.clock import VirtualClock
from emulator.delivery.dispatch import Delivery, Dispatcher
from emulator.retry import RetryPolicy
from emulator.servers.start import RunningServer, start_server

SECRET = "zim-doc-receiver-secret"
STR, INT, ARRAY = "string", "integer", "array"
SECONDS, MILLIS = "s", "ms"

COMMON = {"appid": STR, "event": STR, "nonce": STR, "signature": STR, "timestamp": INT}
# event -> (fields always present with their JSON type, unit of timestamp) — from §11
DOCUMENTED: dict[str, tuple[dict[str, str], str]] = {
    "user_action": (
        {
            "user_id": STR,
            "user_name": STR,
            "os": STR,
            "action": INT,
            "session_id": STR,
            "login_time": INT,
            "relogin": STR,
        },
        SECONDS,
    ),
    "room_create": (
        {"room_id": STR, "operator_account": STR, "room_name": STR, "attributes": ARRAY},
        MILLIS,
    ),
    "room_destroy": ({"room_id": STR, "user_ids": ARRAY, "operator_account": STR}, MILLIS),
    "room_enter": ({"room_id": STR, "operator_account": STR}, MILLIS),
    "room_exit": (
        {"room_id": STR, "exit_type": STR, "operator_account": STR, "exit_user_ids": ARRAY},
        MILLIS,
    ),
    "call_create": (
        {
            "call_id": STR,
            "user_ids": ARRAY,
            "create_time": INT,
            "payload": STR,
            "caller": STR,
            "timeout": INT,
        },
        SECONDS,
    ),
    "call_cancel": (
        {"call_id": STR, "user_ids": ARRAY, "reason": STR, "payload": STR},
        SECONDS,
    ),
    "call_accept": ({"call_id": STR, "user_id": STR, "extend_data": STR}, SECONDS),
    "call_reject": ({"call_id": STR, "user_id": STR, "extend_data": STR}, SECONDS),
    "call_timeout": ({"call_id": STR, "user_ids": ARRAY}, SECONDS),
    "call_invite": (
        {"call_id": STR, "user_ids": ARRAY, "inviter": STR, "invite_time": INT},
        SECONDS,
    ),
    "send_msg": (
        {
            "from_user_id": STR,
            "conv_type": INT,
            "conv_id": STR,
            "msg_type": INT,
            "sub_msg_type": INT,
            "msg_body": STR,
            "msg_id": STR,
            "msg_seq": INT,
            "payload": STR,
            "msg_time": INT,
            "send_result": INT,
        },
        SECONDS,
    ),
    "before_send_msg": (
        {
            "request_id": STR,
            "from_user_id": STR,
            "conv_id": STR,
            "conv_type": INT,
            "msg_id": STR,
            "payload": STR,
            "msg_type": INT,
            "sub_msg_type": INT,
            "msg_body": STR,
        },
        SECONDS,
    ),
    "group_create": (
        {
            "group_id": STR,
            "operator_account": STR,
            "owner_account": STR,
            "group_name": STR,
            "attributes": ARRAY,
            "user_ids": ARRAY,
        },
        MILLIS,
    ),
    "group_destroy": (
        {"group_id": STR, "operator_account": STR, "owner_account": STR, "user_ids": ARRAY},
        MILLIS,
    ),
    "group_join": (
        {"group_id": STR, "operator_account": STR, "join_type": STR, "new_user_ids": ARRAY},
        MILLIS,
    ),
    "group_exit": (
        {"group_id": STR, "exit_type": STR, "operator_account": STR, "exit_user_ids": ARRAY},
        MILLIS,
    ),
}
DOCUMENTED["bot_msg"] = DOCUMENTED["send_msg"]
# fields some events carry only in some cases, with their type
OPTIONAL = {
    "logout_time": INT,
    "logout_reason": STR,
    "offline_time": INT,
    "source": INT,
    "user_list": ARRAY,
}


def json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return INT
    if isinstance(value, str):
        return STR
    if isinstance(value, list):
        return ARRAY
    return type(value).__name__


def signature_ok(body: dict[str, Any], secret: str) -> bool:
    """§1.2: sort the three strings (timestamp's decimal text), join, sha1, compare."""
    parts = sorted([secret, str(body.get("timestamp", "")), str(body.get("nonce", ""))])
    expected = hashlib.sha1("".join(parts).encode("utf-8")).hexdigest()
    return hmac.compare_digest(expected, str(body.get("signature", "")))


def problems_of(body: dict[str, Any], now: float) -> list[str]:
    """Every way ``body`` departs from the digest's field table of its event."""
    event = body.get("event")
    if event not in DOCUMENTED:
        return [f"unknown ZIM event {event!r}"]
    table, unit = DOCUMENTED[str(event)]
    problems = []
    for name, kind in {**COMMON, **table}.items():
        if name not in body:
            problems.append(f"{event}: missing {name}")
        elif json_type(body[name]) != kind:
            problems.append(f"{event}.{name}: {json_type(body[name])}, documented {kind}")
    for name, kind in OPTIONAL.items():
        if name in body and json_type(body[name]) != kind:
            problems.append(f"{event}.{name}: {json_type(body[name])}, documented {kind}")
    extra = set(body) - set(COMMON) - set(table) - set(OPTIONAL)
    if extra:
        problems.append(f"{event}: undocumented fields {sorted(extra)}")
    stamp = body.get("timestamp")
    if isinstance(stamp, int):
        seconds = stamp / 1000 if unit == MILLIS else stamp
        if abs(seconds - now) > 3600:
            problems.append(f"{event}: timestamp {stamp} is not {unit} of now")
    return problems


@dataclass
class ZimDocReceiver:
    """What a customer writes from the digest: one JSON endpoint, strict checks."""

    secret: str
    now: float
    accepted: list[dict[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    async def handle(self, request: web.Request) -> web.Response:
        body = json.loads(await request.read())
        if not isinstance(body, dict) or not signature_ok(body, self.secret):
            self.problems.append(f"bad signature: {body!r}")
            return web.Response(status=401)
        found = problems_of(body, self.now)
        self.problems.extend(found)
        if found:
            return web.Response(status=400)
        self.accepted.append(body)
        return web.Response(text="success")

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/zim", self.handle)
        return app


@pytest.fixture
async def zim_receiver() -> AsyncIterator[tuple[ZimDocReceiver, RunningServer]]:
    factory_time = 1_796_000_000.0
    receiver = ZimDocReceiver(SECRET, factory_time)
    async with await start_server(receiver.app()) as server:
        yield receiver, server


ZIM_NAMES = [f"zim.{event}" for event in DOCUMENTED]
VARIANTS: list[tuple[str, dict[str, Any]]] = [
    *((name, {}) for name in ZIM_NAMES),
    ("zim.user_action", {"action": "logout"}),
    ("zim.user_action", {"action": "offline"}),
    ("zim.room_exit", {"exit_type": "Kickout"}),
    ("zim.group_join", {"join_type": "Invited"}),
    ("zim.send_msg", {"source": 1, "user_list": ["ann", "bob"]}),
    ("zim.send_msg", {"msg_type": "video", "conv_type": "group"}),
    ("zim.before_send_msg", {"msg_type": "image", "conv_type": 3}),
]


async def test_digest_receiver_accepts_every_zim_event_with_documented_types(
    zim_receiver: tuple[ZimDocReceiver, RunningServer],
) -> None:
    receiver, server = zim_receiver
    factory = CallbackFactory(seed=16, now=lambda: receiver.now)
    deliveries = [
        Delivery(
            factory.callback(factory.build(name, params), SECRET, encoding="json"),
            server.url + "/zim",
        )
        for name, params in VARIANTS
    ]
    async with Dispatcher(policy=RetryPolicy(intervals=()), clock=VirtualClock()) as dispatcher:
        outcomes = await dispatcher.deliver_all(deliveries)
    assert receiver.problems == []
    assert [outcome.delivered for outcome in outcomes] == [True] * len(VARIANTS)
    assert {body["event"] for body in receiver.accepted} == set(DOCUMENTED)
    assert [outcome.event for outcome in outcomes] == [name for name, _ in VARIANTS]


def test_the_digest_receiver_finds_a_string_timestamp_and_a_missing_field() -> None:
    """The receiver above can fail: a seconds-sized string timestamp and a missing id."""
    body = {**dict.fromkeys(COMMON, "x"), "event": "room_enter", "timestamp": "1499676978"}
    problems = problems_of(body, 1_796_000_000.0)
    assert "room_enter.timestamp: string, documented integer" in problems
    assert "room_enter: missing room_id" in problems
