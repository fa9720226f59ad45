"""``stream_create``: a stream was published — zego-events.md §3.1.

Every scalar field is a String (``room_session_id`` too, unlike room_create); the play
URL lists ``rtmp_url``, ``hls_url``, ``hdl_url`` and ``pic_url`` are JSON **arrays** of
strings; ``stream_attr`` is JSON *inside a string* (``{"cid":0}``, cid = codec: 0 H.264,
1 H.264 SVC, 2 VP8, 3 H.265). ``stream_seq`` grows by one on every stream change;
``create_time`` is Unix seconds, ``create_time_ms`` Unix ms; ``recreate`` ``1`` is an SDK
re-publish within 90 s of a network blip (the server kept the stream), ``0`` a new stream.
``channel_id`` is the room id, ``stream_alias`` the stream id, ``publish_id``/
``publish_name`` the user's id/name (as the field table says).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Literal

from pydantic import Field

from emulator.events import _rtc
from emulator.events.base import (
    CallbackModel,
    Common,
    EventParams,
    EventSpec,
    Fake,
    compact_json,
    parse_json_field,
    row,
    text,
)
from emulator.wire import WireFields, WireValue

STRING_FIELDS = (
    "room_id", "room_session_id", "user_id", "user_name", "channel_id", "stream_id",
    "stream_sid", "title", "stream_alias", "stream_attr", "stream_seq", "create_time",
    "create_time_ms", "extra_info", "recreate", "publish_id", "publish_name",
)  # fmt: skip
URL_FIELDS = ("rtmp_url", "hls_url", "hdl_url", "pic_url")
CODECS = {"0": "H.264", "1": "H.264 SVC", "2": "VP8", "3": "H.265"}


class StreamCreateCallback(CallbackModel):
    """A ``stream_create`` callback: every documented field, typed as on the wire."""

    event: Literal["stream_create"] = "stream_create"
    room_id: str
    room_session_id: str
    user_id: str
    user_name: str
    channel_id: str
    stream_id: str
    stream_sid: str
    title: str
    stream_alias: str
    stream_attr: str
    stream_seq: str
    create_time: str
    create_time_ms: str
    extra_info: str
    recreate: str
    publish_id: str
    publish_name: str
    rtmp_url: list[str]
    hls_url: list[str]
    hdl_url: list[str]
    pic_url: list[str]

    def event_fields(self) -> WireFields:
        fields: WireFields = {name: getattr(self, name) for name in STRING_FIELDS}
        for name in URL_FIELDS:
            fields[name] = list(getattr(self, name))
        return fields


class StreamCreateParams(EventParams):
    """Scenario keys of a ``stream_create`` callback; anything absent is faked."""

    room_id: _rtc.Text | None = None
    room_session_id: _rtc.DigitText | None = None
    user_id: _rtc.Text | None = None
    user_name: _rtc.Text | None = None
    channel_id: _rtc.Text | None = None  # default: the room id
    stream_id: _rtc.Text | None = None
    stream_sid: _rtc.Text | None = None
    title: _rtc.Text | None = None
    stream_alias: _rtc.Text | None = None  # default: the stream id
    codec: Annotated[Literal["0", "1", "2", "3"], _rtc.codes(0, 1, 2, 3)] = "0"  # stream_attr's cid
    stream_attr: _rtc.Text | None = None  # the raw JSON text (wins over codec)
    stream_seq: _rtc.DigitText | None = None
    create_time_ms: _rtc.DigitText | None = None  # Unix ms; create_time is its seconds
    extra_info: _rtc.Text = ""
    recreate: Annotated[Literal["0", "1"], _rtc.codes(0, 1)] = "0"
    publish_id: _rtc.Text | None = None  # default: the user id
    publish_name: _rtc.Text | None = None  # default: the user name
    rtmp_url: _rtc.UrlList | None = None
    hls_url: _rtc.UrlList | None = None
    hdl_url: _rtc.UrlList | None = None
    pic_url: _rtc.UrlList | None = None
    seq_digits: int = Field(default=0, ge=0, le=20)  # zero-pad stream_seq ("01", as ZEGO's example)


def generate(fake: Fake, params: StreamCreateParams, common: Common) -> StreamCreateCallback:
    """A realistic ``stream_create`` callback; every given parameter wins."""
    room = _rtc.given(params.room_id, lambda: _rtc.room_id(fake))
    user = _rtc.given(params.user_id, lambda: _rtc.user_id(fake))
    name = _rtc.given(params.user_name, lambda: f"{user}_name")
    stream = _rtc.given(params.stream_id, lambda: _rtc.stream_id(fake, user))
    alias = _rtc.given(params.stream_alias, lambda: stream)
    created_ms = _rtc.given(params.create_time_ms, lambda: str(_rtc.ms_in_second(fake, common)))
    seq = _rtc.given(params.stream_seq, lambda: str(fake.integer(1, 999)))
    urls = _rtc.play_urls(alias)
    sid = _rtc.given(params.stream_sid, lambda: _rtc.stream_sid(fake))
    return StreamCreateCallback(
        appid=common.appid,
        timestamp=common.timestamp,
        nonce=common.nonce,
        task_id=sid,
        room_id=room,
        room_session_id=_rtc.given(params.room_session_id, lambda: str(_rtc.room_session_id(fake))),
        user_id=user,
        user_name=name,
        channel_id=_rtc.given(params.channel_id, lambda: room),
        stream_id=stream,
        stream_sid=sid,
        title=_rtc.given(params.title, lambda: f"{name}'s live"),
        stream_alias=alias,
        stream_attr=_rtc.given(
            params.stream_attr, lambda: compact_json({"cid": int(params.codec)})
        ),
        stream_seq=seq.zfill(params.seq_digits),
        create_time=str(int(created_ms) // 1000),
        create_time_ms=created_ms,
        extra_info=params.extra_info,
        recreate=params.recreate,
        publish_id=_rtc.given(params.publish_id, lambda: user),
        publish_name=_rtc.given(params.publish_name, lambda: name),
        rtmp_url=_rtc.given(params.rtmp_url, lambda: urls["rtmp_url"]),
        hls_url=_rtc.given(params.hls_url, lambda: urls["hls_url"]),
        hdl_url=_rtc.given(params.hdl_url, lambda: urls["hdl_url"]),
        pic_url=_rtc.given(params.pic_url, lambda: urls["pic_url"]),
    )


def describe(fields: Mapping[str, WireValue]) -> list[str]:
    """Readable lines for a receiver's display of a ``stream_create`` callback."""
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
            "recreate": "recreate",
        },
    )
    attr = parse_json_field(fields, "stream_attr")
    cid = str(attr.get("cid")) if isinstance(attr, dict) else "?"
    lines.append(row("codec", _rtc.coded(cid, CODECS)))
    for name in ("rtmp_url", "hls_url"):
        urls = parse_json_field(fields, name)
        if isinstance(urls, list) and urls:
            lines.append(row(name.split("_")[0], f"{urls[0]} (+{len(urls) - 1})"))
    return lines


def check(fields: Mapping[str, WireValue]) -> list[str]:
    """Problems a complete ``stream_create`` body cannot have."""
    problems = _rtc.required(fields, STRING_FIELDS + URL_FIELDS)
    for name in URL_FIELDS:
        if name in fields and not isinstance(parse_json_field(fields, name), list):
            problems.append(f"{name} is not a list of URLs")
    if text(fields, "stream_attr") and parse_json_field(fields, "stream_attr") is None:
        problems.append("stream_attr is not JSON text (cut short?)")
    return problems


SPEC: EventSpec[StreamCreateParams] = EventSpec(
    name="stream_create",
    title="stream created",
    model=StreamCreateCallback,
    params=StreamCreateParams,
    generate=generate,
    describe=describe,
    check=check,
    task_field="stream_sid",
)
