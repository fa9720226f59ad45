"""``transcode_start``: a cloud single-stream transcoding task started — zego-events.md §5.1.

Every key is PascalCase, the common ones too: ``Event``, ``Appid``, ``Timestamp``,
``Nonce``, ``Signature`` (signed over ``Timestamp`` and ``Nonce`` as usual), then
``TaskId``, ``UserId``, ``Sequence`` (JSON **number**, the request's sequence),
``Status`` (``TranscodeStarted``, or ``TranscodeUpdated`` when a StartCloudTranscode with
the same TaskId updates it) and ``Details`` (a JSON **object**: ``Input`` {``StreamId``,
``StreamUrl``} and ``Outputs`` [{``StreamId``, ``StreamUrl``, ``VideoEncId``,
``VideoBitrate``, ``ShortEdgeAdaption``, ``Fps``, ``Width``, ``Height``, ``GOP``}], the
numbers JSON numbers). Output templates 0-3 are 360p/540p/720p/1080p at 600/1000/1500/
2000 kbps (``VideoBitrate`` is written in bps here: the page does not give the unit).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from emulator.events import _rtc
from emulator.events.base import (
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

FIELDS = ("Event", "Appid", "Timestamp", "Nonce", "Signature", "TaskId", "UserId", "Sequence")
# template id -> (width, height, kbps) of StartCloudTranscode's built-in templates
TEMPLATES: dict[int, tuple[int, int, int]] = {
    0: (640, 360, 600),
    1: (960, 540, 1000),
    2: (1280, 720, 1500),
    3: (1920, 1080, 2000),
}


class PascalCallback(CallbackModel):
    """A callback whose every key is PascalCase (``transcode_start``/``transcode_stop``)."""

    user_id: str
    sequence: int
    status: str

    def common_fields(self) -> WireFields:
        return {
            "Event": self.event,
            "Appid": self.appid,
            "Timestamp": self.timestamp,
            "Nonce": self.nonce,
            "Signature": self.signature,
            "TaskId": self.task_id,
            "UserId": self.user_id,
            "Sequence": self.sequence,
            "Status": self.status,
        }


class TranscodeStartCallback(PascalCallback):
    """A ``transcode_start`` callback: every documented field, typed as on the wire."""

    event: Literal["transcode_start"] = "transcode_start"
    details: dict[str, Any]

    def event_fields(self) -> WireFields:
        return {"Details": self.details}


class OutputParams(BaseModel):
    """Scenario keys of one transcoding output (``Details.Outputs[]``)."""

    model_config = ConfigDict(extra="forbid")

    template: Literal[0, 1, 2, 3] | None = None
    stream_id: _rtc.Text | None = None
    stream_url: _rtc.Text = ""
    video_enc_id: int = Field(default=0, ge=0, le=10)
    video_bitrate: int | None = Field(default=None, ge=0)
    short_edge_adaption: Literal[0, 1] = 0
    fps: int | None = Field(default=None, ge=0, le=120)
    width: int | None = Field(default=None, ge=0, le=8192)
    height: int | None = Field(default=None, ge=0, le=8192)
    gop: int = Field(default=2, ge=0, le=60)


class PascalParams(EventParams):
    """Scenario keys shared by ``transcode_start`` and ``transcode_stop``."""

    task_id: _rtc.Text | None = None
    user_id: _rtc.Text | None = None
    sequence: int | None = Field(default=None, ge=0, le=2**63 - 1)


class TranscodeStartParams(PascalParams):
    """Scenario keys of a ``transcode_start`` callback; anything absent is faked."""

    status: Literal["TranscodeStarted", "TranscodeUpdated"] = "TranscodeStarted"
    input_stream_id: _rtc.Text | None = None
    input_stream_url: _rtc.Text = ""
    outputs: list[OutputParams] | None = Field(default=None, max_length=10)


def pascal_common(fake: Fake, params: PascalParams, common: Common) -> dict[str, Any]:
    """The PascalCase fields both transcode events share, faked where not given."""
    return {
        "appid": common.appid,
        "timestamp": common.timestamp,
        "nonce": common.nonce,
        "task_id": _rtc.given(params.task_id, lambda: f"transcode_{fake.hex(12)}"),
        "user_id": _rtc.given(params.user_id, lambda: _rtc.user_id(fake)),
        "sequence": _rtc.given(params.sequence, lambda: fake.integer(0, 100)),
    }


def output(fake: Fake, stream: str, index: int, params: OutputParams) -> dict[str, Any]:
    """One ``Details.Outputs[]`` object (template ``index`` mod 4 unless the entry names one)."""
    template = params.template if params.template is not None else index % len(TEMPLATES)
    width, height, kbps = TEMPLATES[template]
    return {
        "StreamId": _rtc.given(params.stream_id, lambda: f"{stream}_{height}p"),
        "StreamUrl": params.stream_url,
        "VideoEncId": params.video_enc_id,
        "VideoBitrate": _rtc.given(params.video_bitrate, lambda: kbps * 1000),
        "ShortEdgeAdaption": params.short_edge_adaption,
        "Fps": _rtc.given(params.fps, lambda: int(fake.choice(("15", "25", "30")))),
        "Width": _rtc.given(params.width, lambda: width),
        "Height": _rtc.given(params.height, lambda: height),
        "GOP": params.gop,
    }


def generate(fake: Fake, params: TranscodeStartParams, common: Common) -> TranscodeStartCallback:
    """A realistic ``transcode_start`` callback; every given parameter wins."""
    shared = pascal_common(fake, params, common)
    stream = _rtc.given(params.input_stream_id, lambda: _rtc.stream_id(fake, shared["user_id"]))
    wanted = params.outputs if params.outputs is not None else [OutputParams()]
    outputs = [output(fake, stream, index, entry) for index, entry in enumerate(wanted)]
    details = {
        "Input": {"StreamId": stream, "StreamUrl": params.input_stream_url},
        "Outputs": outputs,
    }
    return TranscodeStartCallback.model_validate(
        {**shared, "status": params.status, "details": details}
    )


def describe_pascal(fields: Mapping[str, WireValue]) -> list[str]:
    """Readable lines of the fields transcode_start and transcode_stop share."""
    return _rtc.rows(fields, {"UserId": "user", "Sequence": "sequence", "Status": "status"})


def describe(fields: Mapping[str, WireValue]) -> list[str]:
    """Readable lines for a receiver's display of a ``transcode_start`` callback."""
    lines = describe_pascal(fields)
    details = parse_json_field(fields, "Details")
    details = details if isinstance(details, dict) else {}
    source = details.get("Input")
    if isinstance(source, dict):
        lines.append(row("input", str(source.get("StreamId") or source.get("StreamUrl"))))
    outputs = details.get("Outputs")
    for entry in outputs if isinstance(outputs, list) else []:
        if isinstance(entry, dict):
            size = f"{entry.get('Width')}x{entry.get('Height')}"
            lines.append(
                row("output", f"{entry.get('StreamId')} {size} {entry.get('VideoBitrate')} bps")
            )
    return lines


def check_pascal(fields: Mapping[str, WireValue]) -> list[str]:
    """What a complete PascalCase transcode body cannot lack."""
    problems = _rtc.required(fields, (*FIELDS, "Status"))
    if "Sequence" in fields and not text(fields, "Sequence").isdigit():
        problems.append("Sequence is not a whole number")
    return problems


def check(fields: Mapping[str, WireValue]) -> list[str]:
    """Problems a complete ``transcode_start`` body cannot have."""
    problems = check_pascal(fields)
    if "Details" not in fields:
        problems.append("missing field Details")
    elif not isinstance(parse_json_field(fields, "Details"), dict):
        problems.append("Details is not an object")
    return problems


SPEC: EventSpec[TranscodeStartParams] = EventSpec(
    name="transcode_start",
    title="cloud transcoding started",
    model=TranscodeStartCallback,
    params=TranscodeStartParams,
    generate=generate,
    describe=describe,
    check=check,
    task_field="TaskId",
)
