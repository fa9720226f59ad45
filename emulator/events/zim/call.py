"""The ZIM call-invitation family (§11.6): ``zim.call_create``, ``call_cancel``,
``call_accept``, ``call_reject``, ``call_timeout``, ``call_invite``.

``timestamp`` is in **seconds**: the pages say "server Unix time" without a unit and every
example is seconds-sized (1499676978). Fields besides the common ones:

* ``call_create``: ``call_id``, ``user_ids`` (Array: callees online when it was sent),
  ``create_time`` (Int, s), ``payload``, ``caller``, ``timeout`` (Int, s to wait).
* ``call_cancel``: ``call_id``, ``user_ids`` (Array: every callee, logged-out ones too),
  ``reason`` (``caller_cancel`` | ``timeout_cancel``), ``payload``.
* ``call_accept`` / ``call_reject``: ``call_id``, ``user_id`` (who answered), ``extend_data``.
* ``call_timeout``: ``call_id``, ``user_ids`` (Array: who did not answer).
* ``call_invite``: ``call_id``, ``user_ids`` (Array: invited during the call),
  ``inviter``, ``invite_time`` (Int, **ms**).

Which of these a call produces, and when, is :mod:`emulator.scenario.calls`' job (``calls:``).
Fake data: 19-digit call ids like the sample's ``3501761173612493269``, a JSON payload
naming the call type, the sample's ``timeout`` of 90 s.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import Field

from emulator.events.base import (
    Common,
    EventParams,
    EventSpec,
    Fake,
    compact_json,
    row,
)
from emulator.events.zim._common import (
    MAX_IDS,
    ZimCallback,
    field,
    given_or,
    ids_row,
    missing,
    seconds_of,
    user_id,
    user_ids,
)
from emulator.wire import WireFields, WireValue

CancelReason = Literal["caller_cancel", "timeout_cancel"]
CALL_TYPES = ("voice", "video")
DEFAULT_TIMEOUT = 90  # seconds, as in ZEGO's call_create example


class CallParams(EventParams):
    """Scenario keys every call event takes; anything absent is faked."""

    call_id: str | None = Field(default=None, min_length=1, max_length=64)


class CallCreateParams(CallParams):
    caller: str | None = Field(default=None, min_length=1, max_length=64)
    user_ids: list[str] | None = Field(default=None, max_length=MAX_IDS)
    create_time: int | None = Field(default=None, ge=0, description="Unix seconds")
    payload: str | None = Field(default=None, max_length=4096)
    timeout: int = Field(default=DEFAULT_TIMEOUT, ge=1, le=3600, description="seconds")


class CallCancelParams(CallParams):
    user_ids: list[str] | None = Field(default=None, max_length=MAX_IDS)
    reason: CancelReason = "caller_cancel"
    payload: str | None = Field(default=None, max_length=4096)


class CallAnswerParams(CallParams):
    user_id: str | None = Field(default=None, min_length=1, max_length=64)
    extend_data: str | None = Field(default=None, max_length=4096)


class CallTimeoutParams(CallParams):
    user_ids: list[str] | None = Field(default=None, max_length=MAX_IDS)


class CallInviteParams(CallParams):
    inviter: str | None = Field(default=None, min_length=1, max_length=64)
    user_ids: list[str] | None = Field(default=None, max_length=MAX_IDS)
    invite_time: int | None = Field(default=None, ge=0, description="Unix milliseconds")


class _CallCallback(ZimCallback):
    TASK_FIELD = "call_id"

    call_id: str


class CallCreateCallback(_CallCallback):
    """A ZIM ``call_create`` callback."""

    event: Literal["call_create"] = "call_create"
    user_ids: list[str]
    create_time: int
    payload: str
    caller: str
    timeout: int

    def event_fields(self) -> WireFields:
        return {
            "call_id": self.call_id,
            "user_ids": list(self.user_ids),
            "create_time": self.create_time,
            "payload": self.payload,
            "caller": self.caller,
            "timeout": self.timeout,
        }


class CallCancelCallback(_CallCallback):
    """A ZIM ``call_cancel`` callback."""

    event: Literal["call_cancel"] = "call_cancel"
    user_ids: list[str]
    reason: CancelReason
    payload: str

    def event_fields(self) -> WireFields:
        return {
            "call_id": self.call_id,
            "user_ids": list(self.user_ids),
            "reason": self.reason,
            "payload": self.payload,
        }


class CallAcceptCallback(_CallCallback):
    """A ZIM ``call_accept`` callback."""

    event: Literal["call_accept"] = "call_accept"
    user_id: str
    extend_data: str

    def event_fields(self) -> WireFields:
        return {"call_id": self.call_id, "user_id": self.user_id, "extend_data": self.extend_data}


class CallRejectCallback(CallAcceptCallback):
    """A ZIM ``call_reject`` callback (call_accept's shape)."""

    event: Literal["call_reject"] = "call_reject"  # type: ignore[assignment]


class CallTimeoutCallback(_CallCallback):
    """A ZIM ``call_timeout`` callback."""

    event: Literal["call_timeout"] = "call_timeout"
    user_ids: list[str]

    def event_fields(self) -> WireFields:
        return {"call_id": self.call_id, "user_ids": list(self.user_ids)}


class CallInviteCallback(_CallCallback):
    """A ZIM ``call_invite`` callback."""

    event: Literal["call_invite"] = "call_invite"
    user_ids: list[str]
    inviter: str
    invite_time: int

    def event_fields(self) -> WireFields:
        return {
            "call_id": self.call_id,
            "user_ids": list(self.user_ids),
            "inviter": self.inviter,
            "invite_time": self.invite_time,
        }


def call_id(fake: Fake) -> str:
    """A 19-digit call id, like ZEGO's sample ``3501761173612493269``."""
    return fake.digits(19)


def payload(fake: Fake) -> str:
    """What apps put in a call's payload: JSON text naming the call type."""
    return compact_json({"call_type": fake.choice(CALL_TYPES), "room_id": f"call-{fake.hex(8)}"})


def _common_values(fake: Fake, params: CallParams, common: Common) -> dict[str, Any]:
    return {
        "appid": common.appid,
        "timestamp": str(seconds_of(common)),
        "nonce": common.nonce,
        "call_id": params.call_id or call_id(fake),
    }


def generate_create(fake: Fake, params: CallCreateParams, common: Common) -> CallCreateCallback:
    """A realistic ``call_create``; every given parameter wins."""
    caller = params.caller or user_id(fake)
    return CallCreateCallback(
        **_common_values(fake, params, common),
        user_ids=given_or(params.user_ids, user_ids(fake, fake.integer(1, 3), taken=[caller])),
        create_time=seconds_of(common) if params.create_time is None else params.create_time,
        payload=payload(fake) if params.payload is None else params.payload,
        caller=caller,
        timeout=params.timeout,
    )


def generate_cancel(fake: Fake, params: CallCancelParams, common: Common) -> CallCancelCallback:
    """A realistic ``call_cancel``; every given parameter wins."""
    return CallCancelCallback(
        **_common_values(fake, params, common),
        user_ids=given_or(params.user_ids, user_ids(fake, fake.integer(1, 3))),
        reason=params.reason,
        payload=payload(fake) if params.payload is None else params.payload,
    )


def generate_accept(fake: Fake, params: CallAnswerParams, common: Common) -> CallAcceptCallback:
    """A realistic ``call_accept``; every given parameter wins."""
    return CallAcceptCallback(
        **_common_values(fake, params, common),
        user_id=params.user_id or user_id(fake),
        extend_data="" if params.extend_data is None else params.extend_data,
    )


def generate_reject(fake: Fake, params: CallAnswerParams, common: Common) -> CallRejectCallback:
    """A realistic ``call_reject``; every given parameter wins."""
    extend_data = params.extend_data
    return CallRejectCallback(
        **_common_values(fake, params, common),
        user_id=params.user_id or user_id(fake),
        extend_data=compact_json({"reason": "busy"}) if extend_data is None else extend_data,
    )


def generate_timeout(fake: Fake, params: CallTimeoutParams, common: Common) -> CallTimeoutCallback:
    """A realistic ``call_timeout``; every given parameter wins."""
    return CallTimeoutCallback(
        **_common_values(fake, params, common),
        user_ids=given_or(params.user_ids, user_ids(fake, fake.integer(1, 2))),
    )


def generate_invite(fake: Fake, params: CallInviteParams, common: Common) -> CallInviteCallback:
    """A realistic ``call_invite``; every given parameter wins."""
    inviter = params.inviter or user_id(fake)
    invite_time = params.invite_time
    if invite_time is None:
        invite_time = seconds_of(common) * 1000 + fake.integer(0, 999)
    return CallInviteCallback(
        **_common_values(fake, params, common),
        user_ids=given_or(params.user_ids, user_ids(fake, 1, taken=[inviter])),
        inviter=inviter,
        invite_time=invite_time,
    )


def _call_row(fields: Mapping[str, WireValue]) -> str:
    return row("call", field(fields, "call_id"))


def describe_create(fields: Mapping[str, WireValue]) -> list[str]:
    return [
        _call_row(fields),
        row("caller", field(fields, "caller")),
        ids_row("callees", fields, "user_ids"),
        row("timeout", f"{field(fields, 'timeout')} s"),
        row("payload", field(fields, "payload")),
    ]


def describe_cancel(fields: Mapping[str, WireValue]) -> list[str]:
    return [
        _call_row(fields),
        row("reason", field(fields, "reason")),
        ids_row("callees", fields, "user_ids"),
    ]


def describe_answer(fields: Mapping[str, WireValue]) -> list[str]:
    return [
        _call_row(fields),
        row("user", field(fields, "user_id")),
        row("extend", field(fields, "extend_data")),
    ]


def describe_timeout(fields: Mapping[str, WireValue]) -> list[str]:
    return [_call_row(fields), ids_row("silent", fields, "user_ids")]


def describe_invite(fields: Mapping[str, WireValue]) -> list[str]:
    return [
        _call_row(fields),
        row("inviter", field(fields, "inviter")),
        ids_row("invited", fields, "user_ids"),
        row("at", f"{field(fields, 'invite_time')} ms"),
    ]


def _spec(
    name: str, title: str, model: type[_CallCallback], params: type[CallParams], **kw: Any
) -> EventSpec[Any]:
    required = ("call_id", *kw.pop("required"))
    return EventSpec(
        name=f"zim.{name}",
        title=title,
        model=model,
        params=params,
        check=lambda fields: missing(fields, required),
        task_field="call_id",
        **kw,
    )


SPECS: tuple[EventSpec[Any], ...] = (
    _spec(
        "call_create",
        "ZIM call invitation sent",
        CallCreateCallback,
        CallCreateParams,
        generate=generate_create,
        describe=describe_create,
        required=("user_ids", "caller", "timeout"),
    ),
    _spec(
        "call_cancel",
        "ZIM call invitation cancelled",
        CallCancelCallback,
        CallCancelParams,
        generate=generate_cancel,
        describe=describe_cancel,
        required=("user_ids", "reason"),
    ),
    _spec(
        "call_accept",
        "ZIM call invitation accepted",
        CallAcceptCallback,
        CallAnswerParams,
        generate=generate_accept,
        describe=describe_answer,
        required=("user_id",),
    ),
    _spec(
        "call_reject",
        "ZIM call invitation rejected",
        CallRejectCallback,
        CallAnswerParams,
        generate=generate_reject,
        describe=describe_answer,
        required=("user_id",),
    ),
    _spec(
        "call_timeout",
        "ZIM call invitation timed out",
        CallTimeoutCallback,
        CallTimeoutParams,
        generate=generate_timeout,
        describe=describe_timeout,
        required=("user_ids",),
    ),
    _spec(
        "call_invite",
        "ZIM users invited during a call",
        CallInviteCallback,
        CallInviteParams,
        generate=generate_invite,
        describe=describe_invite,
        required=("user_ids", "inviter", "invite_time"),
    ),
)
