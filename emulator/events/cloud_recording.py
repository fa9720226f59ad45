"""``cloud_recording``: the Cloud Recording status callback — zego-events.md §12.

ZEGO's body has **no** ``event`` field; the emulator names it ``cloud_recording``
(``event: cloud_recording`` in a scenario, ``send --event cloud_recording``) and a
receiver tells it by ``app_id`` + ``event_type``. Fields: ``app_id`` (Int64 JSON
number), ``task_id`` (16 characters, e.g. ``YZ4joOE4IwmFAAAT``), ``room_id``,
``event_type`` (JSON number, see :data:`EVENT_TYPES`), ``message``, ``nonce``,
``timestamp`` (a String, Unix seconds), ``signature`` (the usual sha1 scheme),
``sequence`` (JSON number from 0) and ``detail`` (a JSON **object** by event_type: 1
``upload_status`` + ``file_info[]``; 2 ``quit_reason``; 3 ``image_type`` + ``image_url``;
6 ``stream_id``; 102 ``stream_id``, ``file_id``, ``file_url``, ``media_track_type``;
empty for 4, 5, 7, 201, 202). ZEGO retries it twice, 5 s apart, on no answer only
(retry profile ``cloud-recording``).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from emulator.events import _rtc
from emulator.events.base import (
    CLOUD_RECORDING,
    CallbackModel,
    Common,
    EventParams,
    EventSpec,
    Fake,
    parse_json_field,
    row,
    text,
)
from emulator.wire import WireFields, WireValue

FIELDS = (
    "app_id", "task_id", "room_id", "event_type", "message", "nonce", "timestamp",
    "signature", "sequence", "detail",
)  # fmt: skip
EventType = Literal[1, 2, 3, 4, 5, 6, 7, 102, 201, 202]
EVENT_TYPES: dict[int, str] = {
    1: "files uploaded",
    2: "task ended abnormally",
    3: "background or watermark image failed to download",
    4: "the room has no streams",
    5: "recording finished",
    6: "the stream to record does not exist",
    7: "recording stopped, uploading",
    102: "HLS upload in progress",
    201: "paused",
    202: "resumed",
}
TASK_ALPHABET = tuple("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
FORMAT_TRACKS = {"mp4": 3, "flv": 3, "hls": 3, "jpg": 2, "aac": 1}


class CloudRecordingCallback(CallbackModel):
    """A Cloud Recording status callback: every documented field, typed as on the wire."""

    event: Literal["cloud_recording"] = "cloud_recording"
    room_id: str
    event_type: int
    message: str
    sequence: int
    detail: dict[str, Any]

    def common_fields(self) -> WireFields:
        return {
            "app_id": int(self.appid) if self.appid.isdigit() else self.appid,
            "task_id": self.task_id,
            "room_id": self.room_id,
            "event_type": self.event_type,
            "message": self.message,
            "nonce": self.nonce,
            "timestamp": self.timestamp,
            "signature": self.signature,
            "sequence": self.sequence,
        }

    def event_fields(self) -> WireFields:
        return {"detail": self.detail}


class FileParams(BaseModel):
    """Scenario keys of one ``detail.file_info[]`` entry (event_type 1); absent = faked."""

    model_config = ConfigDict(extra="forbid")

    user_id: _rtc.Text | None = None
    user_name: _rtc.Text | None = None
    stream_id: _rtc.Text | None = None
    file_id: _rtc.Text | None = None
    video_id: _rtc.Text = ""
    file_url: _rtc.Text | None = None
    output_file_format: Literal["mp4", "flv", "hls", "jpg", "aac"] = "mp4"
    file_size: int | None = Field(default=None, ge=0)
    duration: int | None = Field(default=None, ge=0)  # ms
    resolution_width: int = Field(default=1280, ge=0)
    resolution_height: int = Field(default=720, ge=0)
    media_track_type: Literal[1, 2, 3] | None = None
    begin_timestamp: int | None = Field(default=None, ge=0)  # Unix ms
    status: Literal[3, 4, 5] = 3


class CloudRecordingParams(EventParams):
    """Scenario keys of a Cloud Recording status callback; anything absent is faked."""

    event_type: EventType = 1
    task_id: _rtc.Text | None = None
    room_id: _rtc.Text | None = None
    message: _rtc.Text | None = None
    sequence: int | None = Field(default=None, ge=0, le=2**31 - 1)
    upload_status: Literal[1, 2] | None = None  # event_type 1 (default from the files)
    files: list[FileParams] | None = Field(default=None, max_length=100)  # event_type 1
    quit_reason: int = Field(default=1, ge=0, le=9999)  # event_type 2
    image_type: Literal[1, 2, 3, 4] = 1  # event_type 3
    image_url: _rtc.Text | None = None  # event_type 3
    stream_id: _rtc.Text | None = None  # event_types 6 and 102
    file_id: _rtc.Text | None = None  # event_type 102
    file_url: _rtc.Text | None = None  # event_type 102
    media_track_type: Literal[1, 2, 3] = 3  # event_type 102
    detail: dict[str, Any] | None = None  # the raw detail object (wins over the keys above)


def task_id_for(fake: Fake) -> str:
    """A 16-character task id like ZEGO's example ``YZ4joOE4IwmFAAAT``."""
    return "".join(fake.choice(TASK_ALPHABET) for _ in range(16))


def file_url_for(file_id: str) -> str:
    """Where the customer's storage (here an OSS bucket) serves a recorded file."""
    return f"https://zego-cloud-record.oss-cn-shanghai.aliyuncs.com/record/{file_id}"


def file_entry(
    fake: Fake, task: str, room: str, common: Common, wanted: FileParams
) -> dict[str, Any]:
    """One ``file_info[]`` object, ZEGO's example shape."""
    user = _rtc.given(wanted.user_id, lambda: _rtc.user_id(fake))
    stream = _rtc.given(wanted.stream_id, lambda: user)
    duration = _rtc.given(wanted.duration, lambda: fake.integer(10_000, 3_600_000))
    begin = _rtc.given(
        wanted.begin_timestamp, lambda: max(0, _rtc.seconds(common) * 1000 - duration - 5000)
    )
    stamp = time.strftime("%Y%m%d%H%M%S", time.gmtime(begin // 1000)) + f"{begin % 1000:03d}"
    fmt = wanted.output_file_format
    file_id = _rtc.given(wanted.file_id, lambda: f"{task}_{room}_{user}_{stream}_VA_{stamp}.{fmt}")
    size = round(duration / 1000 * fake.integer(800_000, 1_500_000) / 8)
    return {
        "user_id": user,
        "user_name": _rtc.given(wanted.user_name, lambda: f"play_{user}"),
        "stream_id": stream,
        "file_id": file_id,
        "video_id": wanted.video_id,
        "file_url": _rtc.given(wanted.file_url, lambda: file_url_for(file_id)),
        "output_file_format": fmt,
        "file_size": _rtc.given(wanted.file_size, lambda: size),
        "duration": duration,
        "resolution_width": wanted.resolution_width,
        "resolution_height": wanted.resolution_height,
        "media_track_type": _rtc.given(wanted.media_track_type, lambda: FORMAT_TRACKS[fmt]),
        "begin_timestamp": begin,
        "custom_begin_timestamp": begin,
        "status": wanted.status,
    }


def detail_for(
    fake: Fake, params: CloudRecordingParams, task: str, room: str, common: Common
) -> dict[str, Any]:
    """The ``detail`` object of the event type."""
    kind = params.event_type
    if kind == 1:
        wanted = params.files if params.files is not None else [FileParams()]
        files = [file_entry(fake, task, room, common, entry) for entry in wanted]
        partial = any(entry["status"] != 3 for entry in files)
        status = _rtc.given(params.upload_status, lambda: 2 if partial else 1)
        return {"upload_status": status, "file_info": files}
    if kind == 2:
        return {"quit_reason": params.quit_reason}
    if kind == 3:
        url = _rtc.given(params.image_url, lambda: f"https://cdn.example.com/bg/{fake.hex(8)}.png")
        return {"image_type": params.image_type, "image_url": url}
    stream = _rtc.given(params.stream_id, lambda: _rtc.user_id(fake))
    if kind == 6:
        return {"stream_id": stream}
    if kind == 102:
        file_id = _rtc.given(params.file_id, lambda: f"{task}_{room}_{stream}.m3u8")
        return {
            "stream_id": stream,
            "file_id": file_id,
            "file_url": _rtc.given(params.file_url, lambda: file_url_for(file_id)),
            "media_track_type": params.media_track_type,
        }
    return {}


def generate(fake: Fake, params: CloudRecordingParams, common: Common) -> CloudRecordingCallback:
    """A realistic Cloud Recording status callback; every given parameter wins."""
    task = _rtc.given(params.task_id, lambda: task_id_for(fake))
    room = _rtc.given(params.room_id, lambda: fake.digits(4))
    detail = params.detail
    if detail is None:
        detail = detail_for(fake, params, task, room, common)
    return CloudRecordingCallback(
        appid=common.appid,
        timestamp=common.timestamp,
        nonce=common.nonce,
        task_id=task,
        room_id=room,
        event_type=params.event_type,
        message=_rtc.given(params.message, lambda: EVENT_TYPES[params.event_type]),
        sequence=_rtc.given(params.sequence, lambda: 0),
        detail=detail,
    )


def describe(fields: Mapping[str, WireValue]) -> list[str]:
    """Readable lines for a receiver's display of a Cloud Recording status callback."""
    kind = text(fields, "event_type", "(none)")
    meaning = EVENT_TYPES.get(int(kind), "") if kind.isdigit() else ""
    lines = [
        row("event type", f"{kind} ({meaning})" if meaning else kind),
        *_rtc.rows(fields, {"room_id": "room", "sequence": "sequence", "message": "message"}),
    ]
    detail = parse_json_field(fields, "detail")
    files = detail.get("file_info") if isinstance(detail, dict) else None
    if isinstance(files, list):
        lines.append(row("upload", f"status {detail.get('upload_status')}, {len(files)} file(s)"))
        for entry in files[:5]:
            if isinstance(entry, dict):
                lines.append(row("file", f"{entry.get('file_id')} status {entry.get('status')}"))
    elif isinstance(detail, dict) and detail:
        lines.append(row("detail", ", ".join(f"{key} {value}" for key, value in detail.items())))
    return lines


def check(fields: Mapping[str, WireValue]) -> list[str]:
    """Problems a complete Cloud Recording status body cannot have."""
    problems = _rtc.required(fields, FIELDS)
    if "detail" in fields and not isinstance(parse_json_field(fields, "detail"), dict):
        problems.append("detail is not an object")
    return problems


SPEC: EventSpec[CloudRecordingParams] = EventSpec(
    name=CLOUD_RECORDING,
    title="Cloud Recording status",
    model=CloudRecordingCallback,
    params=CloudRecordingParams,
    generate=generate,
    describe=describe,
    check=check,
    retry_profile="cloud-recording",
)
