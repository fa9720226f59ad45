"""``room_create``: a room was created (its first user logged in) — zego-events.md §2.1.

Wire fields: the common ones, with ``appid`` (UInt32) and ``timestamp`` (Int64, Unix
seconds) as JSON **numbers** (unlike every other RTC event, "for historical
compatibility"), ``room_id``, ``room_session_id`` (UInt64 JSON number, the room's
lifetime id, equal to ``room_seq`` in room_login/room_logout; faked above 2^53 so it must
be parsed exactly), ``room_create_time`` (String, Unix ms) and ``id_name`` (the creator).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from emulator.events import _rtc
from emulator.events.base import CallbackModel, Common, EventParams, EventSpec, Fake, text
from emulator.wire import WireFields, WireValue

FIELDS = ("room_id", "room_session_id", "room_create_time", "id_name")


def numeric_common(model: CallbackModel) -> WireFields:
    """The common fields of room_create/room_close: ``appid`` and ``timestamp`` as numbers
    (an app id that is not digits stays text)."""
    return {
        "appid": int(model.appid) if model.appid.isdigit() else model.appid,
        "event": model.event,
        "nonce": model.nonce,
        "signature": model.signature,
        "timestamp": int(model.timestamp) if model.timestamp.isdigit() else model.timestamp,
    }


class RoomCreateCallback(CallbackModel):
    """A ``room_create`` callback: every documented field, typed as on the wire."""

    event: Literal["room_create"] = "room_create"
    room_id: str
    room_session_id: int
    room_create_time: str
    id_name: str

    def common_fields(self) -> WireFields:
        return numeric_common(self)

    def event_fields(self) -> WireFields:
        return {
            "room_id": self.room_id,
            "room_session_id": self.room_session_id,
            "room_create_time": self.room_create_time,
            "id_name": self.id_name,
        }


class RoomCreateParams(EventParams):
    """Scenario keys of a ``room_create`` callback; anything absent is faked."""

    room_id: _rtc.Text | None = None
    room_session_id: _rtc.UInt64 | None = None
    room_create_time: _rtc.DigitText | None = None  # Unix ms (default: within the timestamp)
    id_name: _rtc.Text | None = None  # the user whose login created the room


def generate(fake: Fake, params: RoomCreateParams, common: Common) -> RoomCreateCallback:
    """A realistic ``room_create`` callback; every given parameter wins."""
    session = _rtc.given(params.room_session_id, lambda: _rtc.room_session_id(fake))
    return RoomCreateCallback(
        appid=common.appid,
        timestamp=common.timestamp,
        nonce=common.nonce,
        task_id=str(session),
        room_id=_rtc.given(params.room_id, lambda: _rtc.room_id(fake)),
        room_session_id=session,
        room_create_time=params.room_create_time or str(_rtc.ms_in_second(fake, common)),
        id_name=_rtc.given(params.id_name, lambda: _rtc.user_id(fake)),
    )


def describe(fields: Mapping[str, WireValue]) -> list[str]:
    """Readable lines for a receiver's display of a ``room_create`` callback."""
    return _rtc.rows(
        fields,
        {
            "room_id": "room",
            "room_session_id": "session",
            "room_create_time": "created ms",
            "id_name": "by user",
        },
    )


def check(fields: Mapping[str, WireValue]) -> list[str]:
    """Problems a complete ``room_create`` body cannot have."""
    problems = _rtc.required(fields, FIELDS)
    if "room_session_id" in fields and not text(fields, "room_session_id").isdigit():
        problems.append("room_session_id is not a whole number")
    return problems


SPEC: EventSpec[RoomCreateParams] = EventSpec(
    name="room_create",
    title="room created",
    model=RoomCreateCallback,
    params=RoomCreateParams,
    generate=generate,
    describe=describe,
    check=check,
    task_field="room_session_id",
)
