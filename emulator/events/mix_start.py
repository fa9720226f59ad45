"""``mix_start``: a stream-mixing task started — zego-events.md §4.1.

Scalar fields are Strings: ``seq`` (the mix request's sequence, growing), ``task_id``
(``<appid>:<TaskId>`` as in ZEGO's example ``111111:1111``), ``channel_id`` (room id),
``publish_id`` (user id), ``mix_url`` (the RTMP output), ``mix_stream_alias`` (output
stream name), ``stream_alias``; the play URL lists ``rtmp_urls``, ``hls_urls`` and
``hdl_urls`` are JSON **arrays**. ZEGO's example also carries singular ``rtmp_url``/
``hls_url``/``hdl_url`` strings that its table does not list: ``singular_urls: true``
adds them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from emulator.events import _rtc
from emulator.events.base import (
    CallbackModel,
    Common,
    EventParams,
    EventSpec,
    Fake,
    parse_json_field,
    row,
)
from emulator.wire import WireFields, WireValue

STRING_FIELDS = (
    "seq", "task_id", "channel_id", "publish_id", "mix_url", "mix_stream_alias", "stream_alias"
)  # fmt: skip
URL_FIELDS = ("rtmp_urls", "hls_urls", "hdl_urls")


class MixStartCallback(CallbackModel):
    """A ``mix_start`` callback: every documented field, typed as on the wire."""

    event: Literal["mix_start"] = "mix_start"
    seq: str
    channel_id: str
    publish_id: str
    mix_url: str
    mix_stream_alias: str
    stream_alias: str
    rtmp_urls: list[str]
    hls_urls: list[str]
    hdl_urls: list[str]
    singular_urls: bool = False

    def event_fields(self) -> WireFields:
        fields: WireFields = {name: getattr(self, name) for name in STRING_FIELDS}
        for name in URL_FIELDS:
            fields[name] = list(getattr(self, name))
        if self.singular_urls:  # ZEGO's example: the first URL of each list, as a string
            fields.update(
                rtmp_url=self.rtmp_urls[0] if self.rtmp_urls else "",
                hls_url=self.hls_urls[0] if self.hls_urls else "",
                hdl_url=self.hdl_urls[0] if self.hdl_urls else "",
            )
        return fields


class MixParams(EventParams):
    """Scenario keys shared by ``mix_start`` and ``mix_stop``; anything absent is faked."""

    seq: _rtc.DigitText | None = None
    task_id: _rtc.Text | None = None  # the whole wire value; default <appid>:<mix task>
    channel_id: _rtc.Text | None = None  # the room id
    publish_id: _rtc.Text | None = None  # the user who started the mix
    mix_stream_alias: _rtc.Text | None = None  # the output stream
    mix_url: _rtc.Text | None = None  # default: the RTMP URL of the output stream


class MixStartParams(MixParams):
    """Scenario keys of a ``mix_start`` callback."""

    stream_alias: _rtc.Text | None = None  # default: the output stream
    rtmp_urls: _rtc.UrlList | None = None
    hls_urls: _rtc.UrlList | None = None
    hdl_urls: _rtc.UrlList | None = None
    singular_urls: bool = False


def mix_common(fake: Fake, params: MixParams, common: Common) -> dict[str, str]:
    """The fields mix_start and mix_stop share, faked where not given."""
    alias = _rtc.given(params.mix_stream_alias, lambda: f"mix_{fake.hex(6)}")
    return {
        "seq": _rtc.given(params.seq, lambda: str(fake.integer(1, 5000))),
        "task_id": _rtc.given(params.task_id, lambda: f"{common.appid}:mix_{fake.hex(8)}"),
        "channel_id": _rtc.given(params.channel_id, lambda: _rtc.room_id(fake)),
        "publish_id": _rtc.given(params.publish_id, lambda: _rtc.user_id(fake)),
        "mix_stream_alias": alias,
        "mix_url": _rtc.given(params.mix_url, lambda: _rtc.CDNS[0][0].format(s=alias)),
    }


def generate(fake: Fake, params: MixStartParams, common: Common) -> MixStartCallback:
    """A realistic ``mix_start`` callback; every given parameter wins."""
    shared = mix_common(fake, params, common)
    alias = shared["mix_stream_alias"]
    urls = _rtc.play_urls(alias)
    return MixStartCallback.model_validate(
        {
            "appid": common.appid,
            "timestamp": common.timestamp,
            "nonce": common.nonce,
            **shared,
            "stream_alias": _rtc.given(params.stream_alias, lambda: alias),
            "rtmp_urls": _rtc.given(params.rtmp_urls, lambda: urls["rtmp_url"]),
            "hls_urls": _rtc.given(params.hls_urls, lambda: urls["hls_url"]),
            "hdl_urls": _rtc.given(params.hdl_urls, lambda: urls["hdl_url"]),
            "singular_urls": params.singular_urls,
        }
    )


def describe_mix(fields: Mapping[str, WireValue]) -> list[str]:
    """Readable lines of the fields mix_start and mix_stop share."""
    return _rtc.rows(
        fields,
        {
            "seq": "seq",
            "channel_id": "room",
            "publish_id": "user",
            "mix_stream_alias": "output",
            "mix_url": "mix url",
        },
    )


def describe(fields: Mapping[str, WireValue]) -> list[str]:
    """Readable lines for a receiver's display of a ``mix_start`` callback."""
    lines = describe_mix(fields)
    urls = parse_json_field(fields, "hls_urls")
    if isinstance(urls, list) and urls:
        lines.append(row("hls", f"{urls[0]} (+{len(urls) - 1})"))
    return lines


def check(fields: Mapping[str, WireValue]) -> list[str]:
    """Problems a complete ``mix_start`` body cannot have."""
    problems = _rtc.required(fields, STRING_FIELDS + URL_FIELDS)
    for name in URL_FIELDS:
        if name in fields and not isinstance(parse_json_field(fields, name), list):
            problems.append(f"{name} is not a list of URLs")
    return problems


SPEC: EventSpec[MixStartParams] = EventSpec(
    name="mix_start",
    title="stream mixing started",
    model=MixStartCallback,
    params=MixStartParams,
    generate=generate,
    describe=describe,
    check=check,
)
