"""``room_close``: a room was destroyed — zego-events.md §2.2.

Wire fields: the common ones with ``appid``/``timestamp`` as JSON numbers (as in
``room_create``), ``room_id``, ``room_session_id`` (UInt64 number), ``close_reason``
(UInt32 number: ``0`` normal close, ``1`` the last user's heartbeat timed out, ``2`` the
last user dropped offline, ``3`` the last user was kicked out by KickoutUser) and
``room_close_time`` (String, Unix ms). CloseRoom sends this only with
``RoomCloseCallback=true``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from emulator.events import _rtc
from emulator.events.base import CallbackModel, Common, EventParams, EventSpec, Fake, row, text
from emulator.events.room_create import numeric_common
from emulator.wire import WireFields, WireValue

FIELDS = ("room_id", "room_session_id", "close_reason", "room_close_time")
CloseReason = Literal[0, 1, 2, 3]
CLOSE_REASONS = {
    "0": "normal close",
    "1": "last user's heartbeat timed out",
    "2": "last user dropped offline",
    "3": "last user kicked out (KickoutUser)",
}


class RoomCloseCallback(CallbackModel):
    """A ``room_close`` callback: every documented field, typed as on the wire."""

    event: Literal["room_close"] = "room_close"
    room_id: str
    room_session_id: int
    close_reason: int
    room_close_time: str

    def common_fields(self) -> WireFields:
        return numeric_common(self)

    def event_fields(self) -> WireFields:
        return {
            "room_id": self.room_id,
            "room_session_id": self.room_session_id,
            "close_reason": self.close_reason,
            "room_close_time": self.room_close_time,
        }


class RoomCloseParams(EventParams):
    """Scenario keys of a ``room_close`` callback; anything absent is faked."""

    room_id: _rtc.Text | None = None
    room_session_id: _rtc.UInt64 | None = None
    close_reason: CloseReason = 0
    room_close_time: _rtc.DigitText | None = None  # Unix ms (default: within the timestamp)


def generate(fake: Fake, params: RoomCloseParams, common: Common) -> RoomCloseCallback:
    """A realistic ``room_close`` callback; every given parameter wins."""
    session = _rtc.given(params.room_session_id, lambda: _rtc.room_session_id(fake))
    return RoomCloseCallback(
        appid=common.appid,
        timestamp=common.timestamp,
        nonce=common.nonce,
        task_id=str(session),
        room_id=_rtc.given(params.room_id, lambda: _rtc.room_id(fake)),
        room_session_id=session,
        close_reason=params.close_reason,
        room_close_time=params.room_close_time or str(_rtc.ms_in_second(fake, common)),
    )


def describe(fields: Mapping[str, WireValue]) -> list[str]:
    """Readable lines for a receiver's display of a ``room_close`` callback."""
    lines = _rtc.rows(
        fields, {"room_id": "room", "room_session_id": "session", "room_close_time": "closed ms"}
    )
    reason = text(fields, "close_reason", "(none)")
    return [*lines, row("reason", _rtc.coded(reason, CLOSE_REASONS))]


def check(fields: Mapping[str, WireValue]) -> list[str]:
    """Problems a complete ``room_close`` body cannot have."""
    problems = _rtc.required(fields, FIELDS)
    if "room_session_id" in fields and not text(fields, "room_session_id").isdigit():
        problems.append("room_session_id is not a whole number")
    return problems


SPEC: EventSpec[RoomCloseParams] = EventSpec(
    name="room_close",
    title="room destroyed",
    model=RoomCloseCallback,
    params=RoomCloseParams,
    generate=generate,
    describe=describe,
    check=check,
    task_field="room_session_id",
)
