"""``procedure``: an on-demand transcoding task finished (spec §3) — the core event.

The wire fields are the common ones plus ``task_id``, ``status``, ``file_id`` and
``extra_params`` (JSON text of ``{"media": {"transcode": [...]}}``, empty on FAILED).
Fake data follows ZEGO's default templates: 360p/540p/720p MP4, H.264, ~400/1000/1800 kbps,
25 fps, AAC; ``size`` agrees with bitrate x duration.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from emulator.events.base import (
    ROW_LABEL_WIDTH,
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

Resolution = Literal["360p", "540p", "720p"]
Status = Literal["SUCCESS", "FAILED"]

# resolution -> (width, height, video kbps)
TEMPLATES: dict[str, tuple[int, int, int]] = {
    "360p": (640, 360, 400),
    "540p": (960, 540, 1000),
    "720p": (1280, 720, 1800),
}
RESOLUTIONS = tuple(TEMPLATES)
# Tencent VOD transcoding template ids (the ``v.f<id>.mp4`` / ``v.f<id>.m3u8`` in replay URLs)
TEMPLATE_IDS = {"360p": "100020", "540p": "100030", "720p": "100040"}
HLS_TEMPLATE_IDS = {"360p": "100220", "540p": "100230", "720p": "100240"}
AUDIO_BITRATES = ("48000", "64000", "96000", "128000")
VOD_REGIONS = ("gzp", "cq", "sh", "bj", "gz")
# failure codes of the media-file family (spec §4) and the text that goes with them
FAILURE_MESSAGES = {
    "40000": "invalid input parameter",
    "60000": "source file error: the media data cannot be decoded",
    "70000": "internal error, please retry",
}


class Video(BaseModel):
    model_config = ConfigDict(extra="forbid")

    height: int
    width: int
    bitrate: int
    codec: str
    fps: int


class Audio(BaseModel):
    model_config = ConfigDict(extra="forbid")

    bitrate: int
    codec: str
    sampling_rate: int


class Transcode(BaseModel):
    """One transcoded output in ``extra_params.media.transcode``."""

    model_config = ConfigDict(extra="forbid")

    code: str = "0"
    message: str = "SUCCESS"
    replay_url: str
    size: int
    duration: float
    video: Video
    audio: Audio


class ProcedureCallback(CallbackModel):
    """A ``procedure`` callback: every documented field, typed."""

    event: Literal["procedure"] = "procedure"
    status: Status
    file_id: str
    transcode: list[Transcode] = Field(default_factory=list)

    def extra_params(self) -> str:
        """The ``extra_params`` JSON text; empty when the task FAILED (spec §3)."""
        if self.status == "FAILED":
            return ""
        return compact_json({"media": {"transcode": self.transcode}})

    def event_fields(self) -> WireFields:
        return {
            "task_id": self.task_id,
            "status": self.status,
            "file_id": self.file_id,
            "extra_params": self.extra_params(),
        }

    @classmethod
    def from_fields(cls, fields: Mapping[str, WireValue]) -> ProcedureCallback:
        """The typed callback from decoded wire fields (``fileId`` accepted for ``file_id``)."""
        entries = transcode_entries(fields)
        return cls(
            appid=text(fields, "appid"),
            timestamp=text(fields, "timestamp"),
            nonce=text(fields, "nonce"),
            signature=text(fields, "signature"),
            task_id=text(fields, "task_id"),
            status=text(fields, "status", "FAILED"),  # type: ignore[arg-type]
            file_id=text(fields, "file_id", text(fields, "fileId")),
            transcode=[Transcode.model_validate(entry) for entry in entries],
        )


class VideoParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    height: int | None = Field(default=None, ge=1, description="pixels (default: the template's)")
    width: int | None = Field(default=None, ge=1, description="pixels (default: the template's)")
    bitrate: int | None = Field(
        default=None, ge=0, description="bits per second (default: near the template's)"
    )
    codec: str | None = Field(default=None, description="e.g. h264 (default) or hevc")
    fps: int | None = Field(default=None, ge=1, description="frames per second (default 25)")


class AudioParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    bitrate: int | None = Field(default=None, ge=0, description="bits per second")
    codec: str | None = Field(default=None, description="e.g. aac (default)")
    sampling_rate: int | None = Field(default=None, ge=1, description="Hz, e.g. 44100")


class TranscodeParams(BaseModel):
    """Scenario keys of one transcode output; anything absent is faked from the template."""

    model_config = ConfigDict(extra="forbid")

    resolution: Resolution | None = Field(
        default=None, description="ZEGO's default template: 360p, 540p or 720p (default random)"
    )
    code: str | None = Field(
        default=None, description='this output\'s result: "0" succeeded, anything else failed'
    )
    message: str | None = Field(default=None, description="SUCCESS, or the failure text")
    replay_url: str | None = Field(default=None, description="playback URL of this output")
    container: Literal["mp4", "m3u8"] | None = Field(
        default=None, description="file format of the output (default mp4)"
    )
    size: int | None = Field(default=None, ge=0, description="bytes (default: bitrate x duration)")
    duration: float | None = Field(default=None, ge=0, description="seconds")
    video: VideoParams | None = Field(default=None, description="the output's video stream")
    audio: AudioParams | None = Field(default=None, description="the output's audio stream")


class ProcedureParams(EventParams):
    """Scenario keys of a ``procedure`` callback."""

    status: Status = Field(
        default="SUCCESS",
        description="SUCCESS or FAILED (the whole task; FAILED carries an empty extra_params)",
    )
    task_id: str | None = Field(
        default=None, description="the TranscodeMedia task id (default: faked, ZEGO-shaped)"
    )
    file_id: str | None = Field(default=None, description="the source file id (19 digits)")
    transcode: list[TranscodeParams] | None = Field(
        default=None,
        description="the outputs in extra_params.media.transcode (default: one, random template)",
    )


def task_id_for(fake: Fake, common: Common) -> str:
    """A task id shaped like ZEGO's: ``1500020831-procedurev2-<32 hex>tt0``."""
    return f"{common.vod_app_id}-procedurev2-{fake.hex(32)}tt0"


def file_id_for(fake: Fake) -> str:
    """A 19-digit VOD file id, like ZEGO's sample ``3270835010897125368``."""
    return fake.digits(19)


def media_base_url(fake: Fake, common: Common, file_id: str) -> str:
    """Where a source file's outputs live on Tencent VOD (one directory per file)."""
    bucket = f"{fake.hex(8)}vodtrans{fake.choice(VOD_REGIONS)}{common.vod_app_id}"
    return f"https://{common.vod_app_id}.vod2.myqcloud.com/{bucket}/{fake.hex(8)}{file_id}"


def replay_url_for(base_url: str, resolution: str, container: str) -> str:
    """The playback URL of one output: ``<base>/v.f100040.mp4`` or ``<base>/v.f100240.m3u8``."""
    if container == "m3u8":
        return f"{base_url}/v.f{HLS_TEMPLATE_IDS[resolution]}.m3u8"
    return f"{base_url}/v.f{TEMPLATE_IDS[resolution]}.mp4"


def failure_message(code: str) -> str:
    """The ``message`` of a transcode output that failed with ``code``."""
    return FAILURE_MESSAGES.get(code, f"transcode failed (code {code})")


def _given(value: Any, default: Any) -> Any:
    """``value`` when the scenario gave it (even 0 or ""), else ``default``."""
    return default if value is None else value


# what a scenario entry that says nothing stands for (never mutated, so shared)
NO_VIDEO = VideoParams()
NO_AUDIO = AudioParams()
ONE_FAKED_OUTPUT = (TranscodeParams(),)


def fake_transcode(
    fake: Fake,
    common: Common,
    file_id: str,
    params: TranscodeParams,
    duration: float,
    *,
    base_url: str | None = None,
) -> dict[str, Any]:
    """The fields of one output (a :class:`Transcode`), faked where the scenario did not say.

    A failed output (``code`` not ``"0"``) has no replay URL, size 0 and duration 0
    unless the scenario says otherwise. ``base_url`` is the source file's VOD directory.
    """
    resolution = params.resolution or fake.choice(RESOLUTIONS)
    width, height, kbps = TEMPLATES[resolution]
    vp = params.video or NO_VIDEO
    ap = params.audio or NO_AUDIO
    video_bitrate = vp.bitrate if vp.bitrate is not None else round(fake.near(kbps * 1000, 0.1))
    audio_bitrate = ap.bitrate if ap.bitrate is not None else int(fake.choice(AUDIO_BITRATES))
    code = _given(params.code, "0")
    failed = code != "0"
    # each output's length differs from the source's by a few milliseconds
    own_duration = 0.0 if failed else max(0, round(duration * 1000) + fake.integer(-40, 40)) / 1000
    seconds = _given(params.duration, own_duration)
    # bytes = bits/s x s / 8, plus ~2% container overhead
    size = params.size
    if size is None:
        size = round((video_bitrate + audio_bitrate) * seconds / 8 * fake.near(1.02, 0.01))
    replay_url = params.replay_url
    if replay_url is None:
        base = base_url or media_base_url(fake, common, file_id)
        replay_url = "" if failed else replay_url_for(base, resolution, params.container or "mp4")
    return {
        "code": code,
        "message": _given(params.message, failure_message(code) if failed else "SUCCESS"),
        "replay_url": replay_url,
        "size": size,
        "duration": seconds,
        "video": {
            "height": _given(vp.height, height),
            "width": _given(vp.width, width),
            "bitrate": video_bitrate,
            "codec": _given(vp.codec, "h264"),
            "fps": _given(vp.fps, 25),
        },
        "audio": {
            "bitrate": audio_bitrate,
            "codec": _given(ap.codec, "aac"),
            "sampling_rate": _given(ap.sampling_rate, 44100),
        },
    }


def generate(fake: Fake, params: ProcedureParams, common: Common) -> ProcedureCallback:
    """A realistic ``procedure`` callback; every given parameter wins.

    The fields are gathered as plain data and validated once, nested models and all
    (~1 µs less than validating each model on its own).
    """
    task_id = params.task_id if params.task_id is not None else task_id_for(fake, common)
    file_id = params.file_id if params.file_id is not None else file_id_for(fake)
    duration = fake.integer(15_000, 600_000) / 1000  # whole milliseconds
    wanted = params.transcode if params.transcode is not None else ONE_FAKED_OUTPUT
    transcode: list[dict[str, Any]] = []
    if params.status != "FAILED":
        base_url = media_base_url(fake, common, file_id)
        transcode = [
            fake_transcode(fake, common, file_id, entry, duration, base_url=base_url)
            for entry in wanted
        ]
    return ProcedureCallback.model_validate(
        {
            "appid": common.appid,
            "timestamp": common.timestamp,
            "nonce": common.nonce,
            "task_id": task_id,
            "status": params.status,
            "file_id": file_id,
            "transcode": transcode,
        }
    )


def transcode_entries(fields: Mapping[str, WireValue]) -> list[dict[str, Any]]:
    """The ``extra_params.media.transcode`` objects of decoded fields; [] when absent/odd."""
    extra = parse_json_field(fields, "extra_params")
    media = extra.get("media") if isinstance(extra, dict) else None
    entries = media.get("transcode") if isinstance(media, dict) else None
    if not isinstance(entries, list):
        return []
    return [entry for entry in entries if isinstance(entry, dict)]


def check(fields: Mapping[str, WireValue]) -> list[str]:
    """What a complete ``procedure`` body cannot lack: its fields, a parseable extra_params."""
    problems = [f"no {name} field" for name in ("task_id", "status") if name not in fields]
    if "file_id" not in fields and "fileId" not in fields:
        problems.append("no file_id field")
    if "extra_params" not in fields:
        if fields.get("status") != "FAILED":
            problems.append("no extra_params field")
    elif extra := text(fields, "extra_params"):
        try:
            parsed = json.loads(extra)
        except ValueError:
            problems.append("extra_params is not valid JSON (cut short?)")
        else:
            media = parsed.get("media") if isinstance(parsed, dict) else None
            if not isinstance(media, dict) or not isinstance(media.get("transcode"), list):
                problems.append("extra_params has no media.transcode list")
    return problems


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, dict) else {}


def _kbps(value: Any) -> str:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return f"{value / 1000:.0f} kbps"
    return f"{value} bps"


def _megabytes(value: Any) -> str:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return f"{value / 1_000_000:.1f} MB"
    return f"{value} bytes"


def _transcode_lines(index: int, total: int, entry: Mapping[str, Any]) -> list[str]:
    video = _mapping(entry.get("video"))
    audio = _mapping(entry.get("audio"))
    height = video.get("height")
    label = f"{height}p" if isinstance(height, int) else "?"
    pad = " " * (ROW_LABEL_WIDTH + 1)
    return [
        row(
            "transcode",
            f"{index} of {total}: {label} {video.get('width')}x{height} {video.get('codec')} "
            f"{_kbps(video.get('bitrate'))} {video.get('fps')} fps, audio {audio.get('codec')} "
            f"{_kbps(audio.get('bitrate'))} {audio.get('sampling_rate')} Hz",
        ),
        f"{pad}code {entry.get('code')} {entry.get('message')}, {entry.get('duration')} s, "
        f"{_megabytes(entry.get('size'))}",
        f"{pad}{entry.get('replay_url') or '(no replay url)'}",
    ]


def describe(fields: Mapping[str, WireValue]) -> list[str]:
    """Readable lines for a receiver's display of a ``procedure`` callback."""
    lines = [
        row("status", text(fields, "status", "(none)")),
        row("file id", text(fields, "file_id", text(fields, "fileId", "(none)"))),
    ]
    entries = transcode_entries(fields)
    raw = text(fields, "extra_params")
    if not entries:
        if not raw:
            lines.append(row("transcode", "none (extra_params is empty)"))
        else:
            lines.append(row("extra", f"{raw[:200]} (no media.transcode list in it)"))
    for index, entry in enumerate(entries, 1):
        lines.extend(_transcode_lines(index, len(entries), entry))
    return lines


SPEC: EventSpec[ProcedureParams] = EventSpec(
    name="procedure",
    title="on-demand transcoding finished",
    model=ProcedureCallback,
    params=ProcedureParams,
    generate=generate,
    describe=describe,
    check=check,
)
