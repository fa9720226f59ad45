"""``stream_close``: a stream stopped — zego-events.md §3.2.

Every field is a String: ``room_id``, ``room_session_id``, ``user_id``, ``user_name``,
``channel_id``, ``type`` (``0`` normal stop; ``1`` heartbeat timeout, ``2`` the user
logged in again, ``3`` kicked by KickoutUser, ``4`` TCP disconnect, ``5`` the room was
cleared, ``100`` DeleteStream), ``stream_alias``, ``stream_id``, ``stream_sid``,
``stream_seq`` (must exceed its create's for ZEGO's stream-list rule), ``third_define_data``
(the stream's extra info, JSON *inside a string* in ZEGO's example), ``create_time_ms``
and ``destroy_timemillis`` (sic; Unix ms).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Literal

from emulator.events import _rtc
from emulator.events.base import (
    CallbackModel,
    Common,
    EventParams,
    EventSpec,
    Fake,
    compact_json,
    row,
    text,
)
from emulator.wire import WireFields, WireValue

FIELDS = (
    "room_id", "room_session_id", "user_id", "user_name", "channel_id", "type",
    "stream_alias", "stream_id", "stream_sid", "stream_seq", "third_define_data",
    "create_time_ms", "destroy_timemillis",
)  # fmt: skip
CloseType = Annotated[
    Literal["0", "1", "2", "3", "4", "5", "100"], _rtc.codes(0, 1, 2, 3, 4, 5, 100)
]
CLOSE_TYPES = {
    "0": "normal stop",
    "1": "heartbeat timeout",
    "2": "user logged in again",
    "3": "kicked out (KickoutUser)",
    "4": "TCP disconnect",
    "5": "room cleared",
    "100": "DeleteStream",
}


class StreamCloseCallback(CallbackModel):
    """A ``stream_close`` callback: every documented field (all strings)."""

    event: Literal["stream_close"] = "stream_close"
    room_id: str
    room_session_id: str
    user_id: str
    user_name: str
    channel_id: str
    type: str
    stream_alias: str
    stream_id: str
    stream_sid: str
    stream_seq: str
    third_define_data: str
    create_time_ms: str
    destroy_timemillis: str

    def event_fields(self) -> WireFields:
        return {name: getattr(self, name) for name in FIELDS}


class StreamCloseParams(EventParams):
    """Scenario keys of a ``stream_close`` callback; anything absent is faked."""

    room_id: _rtc.Text | None = None
    room_session_id: _rtc.DigitText | None = None
    user_id: _rtc.Text | None = None
    user_name: _rtc.Text | None = None
    channel_id: _rtc.Text | None = None  # default: the room id
    type: CloseType = "0"
    stream_id: _rtc.Text | None = None
    stream_alias: _rtc.Text | None = None  # default: the stream id
    stream_sid: _rtc.Text | None = None
    stream_seq: _rtc.DigitText | None = None
    third_define_data: _rtc.Text | None = None  # default: JSON text like ZEGO's example
    create_time_ms: _rtc.DigitText | None = None  # Unix ms (default: before the close)
    destroy_timemillis: _rtc.DigitText | None = None  # Unix ms (default: within the timestamp)


def generate(fake: Fake, params: StreamCloseParams, common: Common) -> StreamCloseCallback:
    """A realistic ``stream_close`` callback; every given parameter wins."""
    room = _rtc.given(params.room_id, lambda: _rtc.room_id(fake))
    user = _rtc.given(params.user_id, lambda: _rtc.user_id(fake))
    stream = _rtc.given(params.stream_id, lambda: _rtc.stream_id(fake, user))
    closed = _rtc.given(params.destroy_timemillis, lambda: str(_rtc.ms_in_second(fake, common)))
    lived_ms = fake.integer(10_000, 3_600_000)
    sid = _rtc.given(params.stream_sid, lambda: _rtc.stream_sid(fake))
    return StreamCloseCallback(
        appid=common.appid,
        timestamp=common.timestamp,
        nonce=common.nonce,
        task_id=sid,
        room_id=room,
        room_session_id=_rtc.given(params.room_session_id, lambda: str(_rtc.room_session_id(fake))),
        user_id=user,
        user_name=_rtc.given(params.user_name, lambda: f"{user}_name"),
        channel_id=_rtc.given(params.channel_id, lambda: room),
        type=params.type,
        stream_alias=_rtc.given(params.stream_alias, lambda: stream),
        stream_id=stream,
        stream_sid=sid,
        stream_seq=_rtc.given(params.stream_seq, lambda: str(fake.integer(2, 1000))),
        third_define_data=_rtc.given(
            params.third_define_data, lambda: compact_json({"u": fake.hex(24)})
        ),
        create_time_ms=_rtc.given(
            params.create_time_ms, lambda: str(max(0, int(closed) - lived_ms))
        ),
        destroy_timemillis=closed,
    )


def describe(fields: Mapping[str, WireValue]) -> list[str]:
    """Readable lines for a receiver's display of a ``stream_close`` callback."""
    lines = _rtc.rows(
        fields,
        {
            "room_id": "room",
            "room_session_id": "session",
            "user_id": "user",
            "stream_id": "stream",
            "stream_sid": "stream sid",
            "stream_seq": "stream seq",
            "create_time_ms": "created ms",
            "destroy_timemillis": "closed ms",
        },
    )
    kind = text(fields, "type", "(none)")
    return [*lines, row("type", _rtc.coded(kind, CLOSE_TYPES))]


def check(fields: Mapping[str, WireValue]) -> list[str]:
    """Problems a complete ``stream_close`` body cannot have."""
    return _rtc.required(fields, FIELDS)


SPEC: EventSpec[StreamCloseParams] = EventSpec(
    name="stream_close",
    title="stream closed",
    model=StreamCloseCallback,
    params=StreamCloseParams,
    generate=generate,
    describe=describe,
    check=check,
    task_field="stream_sid",
)
