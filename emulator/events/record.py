"""``record``: a CDN recording file was generated — zego-events.md §6.1.

Every field is a String: ``stream_alias``, ``replay_url``, ``begin_time`` and
``end_time`` (Unix seconds) and ``extra_params``, JSON *inside a string* whose keys
depend on the CDN vendor (the page shows only a placeholder; JSON text is our reading):

* Tencent: ``TaskId`` (String), ``FileID`` (String, sic), ``Duration`` (Float, s)
* Ws (Wangsu): ``PersistentId`` (String), ``Duration`` (Float)
* Huawei: ``Duration`` (Float, s), ``ObsObject`` (String, the OBS path), ``FileSize``
  (UInt32, bytes)

With two recording formats selected, ZEGO sends one callback per file.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

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

FIELDS = ("stream_alias", "replay_url", "begin_time", "end_time", "extra_params")
Vendor = Literal["Tencent", "Ws", "Huawei"]
Format = Literal["mp4", "flv", "m3u8", "mp3"]
VENDOR_KEYS: dict[str, tuple[str, ...]] = {
    "Tencent": ("TaskId", "FileID", "Duration"),
    "Ws": ("PersistentId", "Duration"),
    "Huawei": ("Duration", "ObsObject", "FileSize"),
}


class RecordCallback(CallbackModel):
    """A ``record`` callback: every documented field (all strings)."""

    event: Literal["record"] = "record"
    stream_alias: str
    replay_url: str
    begin_time: str
    end_time: str
    extra_params: str

    def event_fields(self) -> WireFields:
        return {name: getattr(self, name) for name in FIELDS}


class RecordParams(EventParams):
    """Scenario keys of a ``record`` callback; anything absent is faked."""

    vendor: Vendor = "Tencent"
    format: Format = "mp4"
    stream_alias: _rtc.Text | None = None
    replay_url: _rtc.Text | None = None
    begin_time: _rtc.DigitText | None = None  # Unix s (default: duration before end_time)
    end_time: _rtc.DigitText | None = None  # Unix s (default: just before the timestamp)
    duration: float | None = Field(default=None, ge=0, le=86400, allow_inf_nan=False)
    task_id: _rtc.Text | None = None  # Tencent's TaskId
    file_id: _rtc.Text | None = None  # Tencent's FileID
    persistent_id: _rtc.Text | None = None  # Wangsu's PersistentId
    obs_object: _rtc.Text | None = None  # Huawei's ObsObject
    file_size: int | None = Field(default=None, ge=0, le=2**32 - 1)  # Huawei's FileSize
    extra_params: _rtc.Text | None = None  # the raw JSON text (wins over the keys above)


def vendor_extra(
    fake: Fake, params: RecordParams, stream: str, begin: str, duration: float
) -> dict[str, Any]:
    """The ``extra_params`` object of the vendor."""
    if params.vendor == "Tencent":
        return {
            "TaskId": _rtc.given(params.task_id, lambda: fake.hex(32)),
            "FileID": _rtc.given(params.file_id, lambda: fake.digits(19)),
            "Duration": duration,
        }
    if params.vendor == "Ws":
        return {
            "PersistentId": _rtc.given(params.persistent_id, lambda: f"z1.{fake.hex(24)}"),
            "Duration": duration,
        }
    size = round(duration * fake.integer(800_000, 2_000_000) / 8)  # ~0.8-2 Mbps
    return {
        "Duration": duration,
        "ObsObject": _rtc.given(
            params.obs_object, lambda: f"record/live/{stream}/{begin}.{params.format}"
        ),
        "FileSize": _rtc.given(params.file_size, lambda: min(size, 2**32 - 1)),
    }


def replay_url_for(fake: Fake, common: Common, params: RecordParams, extra: dict[str, Any]) -> str:
    """Where the vendor serves the recorded file."""
    if params.vendor == "Tencent":
        vod = common.vod_app_id
        return (
            f"https://{vod}.vod2.myqcloud.com/{fake.hex(8)}vodcq{vod}/"
            f"{fake.hex(8)}{extra['FileID']}/f0.{params.format}"
        )
    if params.vendor == "Ws":
        return f"http://wsrecord.zego.im/live/{extra['PersistentId']}.{params.format}"
    return f"https://zego-record.obs.cn-north-4.myhuaweicloud.com/{extra['ObsObject']}"


def generate(fake: Fake, params: RecordParams, common: Common) -> RecordCallback:
    """A realistic ``record`` callback; every given parameter wins."""
    stream = _rtc.given(params.stream_alias, lambda: _rtc.stream_id(fake, _rtc.user_id(fake)))
    duration = _rtc.given(params.duration, lambda: fake.integer(60_000, 7_200_000) / 1000)
    end = _rtc.given(
        params.end_time, lambda: str(max(0, _rtc.seconds(common) - fake.integer(1, 5)))
    )
    begin = _rtc.given(params.begin_time, lambda: str(max(0, int(end) - round(duration))))
    extra = vendor_extra(fake, params, stream, begin, duration)
    replay_url = _rtc.given(params.replay_url, lambda: replay_url_for(fake, common, params, extra))
    return RecordCallback(
        appid=common.appid,
        timestamp=common.timestamp,
        nonce=common.nonce,
        task_id=replay_url,
        stream_alias=stream,
        replay_url=replay_url,
        begin_time=begin,
        end_time=end,
        extra_params=_rtc.given(params.extra_params, lambda: compact_json(extra)),
    )


def describe(fields: Mapping[str, WireValue]) -> list[str]:
    """Readable lines for a receiver's display of a ``record`` callback."""
    lines = _rtc.rows(
        fields,
        {
            "stream_alias": "stream",
            "begin_time": "begin s",
            "end_time": "end s",
            "replay_url": "replay",
        },
    )
    extra = parse_json_field(fields, "extra_params")
    if isinstance(extra, dict):
        lines.append(row("extra", ", ".join(f"{key} {value}" for key, value in extra.items())))
    else:
        lines.append(row("extra", text(fields, "extra_params", "(none)")[:200]))
    return lines


def check(fields: Mapping[str, WireValue]) -> list[str]:
    """Problems a complete ``record`` body cannot have."""
    problems = _rtc.required(fields, FIELDS)
    if text(fields, "extra_params") and parse_json_field(fields, "extra_params") is None:
        problems.append("extra_params is not JSON text (cut short?)")
    return problems


SPEC: EventSpec[RecordParams] = EventSpec(
    name="record",
    title="CDN recording file generated",
    model=RecordCallback,
    params=RecordParams,
    generate=generate,
    describe=describe,
    check=check,
    task_field="replay_url",
)
