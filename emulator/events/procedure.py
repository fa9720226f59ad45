"""``procedure``: an on-demand transcoding task finished (spec §3) — the core event.

The wire fields are the common ones plus ``task_id``, ``status``, ``file_id`` and
``extra_params`` (JSON text of ``{"media": {"transcode": [...]}}``, empty on FAILED).
Fake data follows ZEGO's default templates: 360p/540p/720p MP4, H.264, ~400/1000/1800 kbps,
25 fps, AAC; ``size`` agrees with bitrate x duration.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from emulator.events.base import (
    CallbackModel,
    Common,
    EventParams,
    EventSpec,
    Fake,
    compact_json,
    parse_json_field,
)

Resolution = Literal["360p", "540p", "720p"]
Status = Literal["SUCCESS", "FAILED"]

# resolution -> (width, height, video kbps)
TEMPLATES: dict[str, tuple[int, int, int]] = {
    "360p": (640, 360, 400),
    "540p": (960, 540, 1000),
    "720p": (1280, 720, 1800),
}
# Tencent VOD transcoding template ids (the ``v.f<id>.mp4`` in replay URLs)
TEMPLATE_IDS = {"360p": "100020", "540p": "100030", "720p": "100040"}
AUDIO_BITRATES = ("48000", "64000", "96000", "128000")


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
        media = {"media": {"transcode": [t.model_dump() for t in self.transcode]}}
        return compact_json(media)

    def event_fields(self) -> dict[str, str]:
        return {
            "task_id": self.task_id,
            "status": self.status,
            "file_id": self.file_id,
            "extra_params": self.extra_params(),
        }

    @classmethod
    def from_fields(cls, fields: Mapping[str, str]) -> ProcedureCallback:
        """The typed callback from decoded wire fields (``fileId`` accepted for ``file_id``)."""
        extra = parse_json_field(fields, "extra_params") or {}
        entries = extra.get("media", {}).get("transcode", []) if isinstance(extra, dict) else []
        return cls(
            appid=fields.get("appid", ""),
            timestamp=fields.get("timestamp", ""),
            nonce=fields.get("nonce", ""),
            signature=fields.get("signature", ""),
            task_id=fields.get("task_id", ""),
            status=fields.get("status", "FAILED"),  # type: ignore[arg-type]
            file_id=fields.get("file_id", fields.get("fileId", "")),
            transcode=[Transcode.model_validate(entry) for entry in entries],
        )


class VideoParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    height: int | None = Field(default=None, ge=1)
    width: int | None = Field(default=None, ge=1)
    bitrate: int | None = Field(default=None, ge=0)
    codec: str | None = None
    fps: int | None = Field(default=None, ge=1)


class AudioParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    bitrate: int | None = Field(default=None, ge=0)
    codec: str | None = None
    sampling_rate: int | None = Field(default=None, ge=1)


class TranscodeParams(BaseModel):
    """Scenario keys of one transcode output; anything absent is faked from the template."""

    model_config = ConfigDict(extra="forbid")

    resolution: Resolution | None = None
    code: str | None = None
    message: str | None = None
    replay_url: str | None = None
    container: Literal["mp4", "m3u8"] | None = None
    size: int | None = Field(default=None, ge=0)
    duration: float | None = Field(default=None, ge=0)
    video: VideoParams | None = None
    audio: AudioParams | None = None


class ProcedureParams(EventParams):
    """Scenario keys of a ``procedure`` callback."""

    status: Status = "SUCCESS"
    task_id: str | None = None
    file_id: str | None = None
    transcode: list[TranscodeParams] | None = None


def task_id_for(fake: Fake, common: Common) -> str:
    """A task id shaped like ZEGO's: ``1500020831-procedurev2-<32 hex>tt0``."""
    return f"{common.vod_app_id}-procedurev2-{fake.hex(32)}tt0"


def file_id_for(fake: Fake) -> str:
    """A 19-digit VOD file id, like ZEGO's sample ``3270835010897125368``."""
    return fake.digits(19)


def replay_url_for(
    fake: Fake, common: Common, file_id: str, resolution: str, container: str
) -> str:
    """A Tencent-VOD-shaped playback URL for one transcoded output."""
    bucket = f"{fake.hex(8)}vodtrans{fake.choice(('gzp', 'cq', 'sh', 'bj'))}{common.vod_app_id}"
    name = "master_playlist.m3u8" if container == "m3u8" else f"v.f{TEMPLATE_IDS[resolution]}.mp4"
    return f"https://{common.vod_app_id}.vod2.myqcloud.com/{bucket}/{file_id[-10:]}/{name}"


def fake_transcode(
    fake: Fake, common: Common, file_id: str, params: TranscodeParams, duration: float
) -> Transcode:
    """One output, faked from its template where the scenario did not say."""
    resolution = params.resolution or fake.choice(tuple(TEMPLATES))
    width, height, kbps = TEMPLATES[resolution]
    vp = params.video or VideoParams()
    ap = params.audio or AudioParams()
    video = Video(
        width=vp.width or width,
        height=vp.height or height,
        bitrate=vp.bitrate if vp.bitrate is not None else round(fake.near(kbps * 1000, 0.1)),
        codec=vp.codec or "h264",
        fps=vp.fps or 25,
    )
    audio = Audio(
        bitrate=ap.bitrate if ap.bitrate is not None else int(fake.choice(AUDIO_BITRATES)),
        codec=ap.codec or "aac",
        sampling_rate=ap.sampling_rate or 44100,
    )
    seconds = params.duration if params.duration is not None else duration
    # bytes = bits/s x s / 8, plus ~2% container overhead
    size = params.size
    if size is None:
        size = round((video.bitrate + audio.bitrate) * seconds / 8 * fake.near(1.02, 0.01))
    failed = params.code is not None and params.code != "0"
    container = params.container or "mp4"
    return Transcode(
        code=params.code if params.code is not None else "0",
        message=params.message or ("transcode failed" if failed else "SUCCESS"),
        replay_url=params.replay_url
        if params.replay_url is not None
        else ("" if failed else replay_url_for(fake, common, file_id, resolution, container)),
        size=0 if failed and params.size is None else size,
        duration=round(seconds, 3),
        video=video,
        audio=audio,
    )


def generate(fake: Fake, params: ProcedureParams, common: Common) -> ProcedureCallback:
    """A realistic ``procedure`` callback; every given parameter wins."""
    task_id = params.task_id or task_id_for(fake, common)
    file_id = params.file_id or file_id_for(fake)
    duration = round(fake.random.uniform(15.0, 600.0), 3)
    wanted = params.transcode if params.transcode is not None else [TranscodeParams()]
    transcode = (
        []
        if params.status == "FAILED"
        else [fake_transcode(fake, common, file_id, entry, duration) for entry in wanted]
    )
    return ProcedureCallback(
        appid=common.appid,
        timestamp=common.timestamp,
        nonce=common.nonce,
        task_id=task_id,
        status=params.status,
        file_id=file_id,
        transcode=transcode,
    )


def describe(fields: Mapping[str, str]) -> list[str]:
    """Readable lines for a receiver's display of a ``procedure`` callback."""
    lines = [
        f"task {fields.get('task_id', '?')}  status {fields.get('status', '?')}  "
        f"file {fields.get('file_id', fields.get('fileId', '?'))}"
    ]
    extra = parse_json_field(fields, "extra_params")
    entries = extra.get("media", {}).get("transcode", []) if isinstance(extra, dict) else []
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, dict):
            continue
        video = entry.get("video") or {}
        audio = entry.get("audio") or {}
        lines.append(
            f"  code {entry.get('code')}  {video.get('width')}x{video.get('height')} "
            f"{video.get('codec')} {video.get('bitrate')} bps {video.get('fps')} fps  "
            f"audio {audio.get('codec')} {audio.get('bitrate')} bps  {entry.get('replay_url')}"
        )
    return lines


SPEC: EventSpec[ProcedureParams] = EventSpec(
    name="procedure",
    title="on-demand transcoding finished",
    model=ProcedureCallback,
    params=ProcedureParams,
    generate=generate,
    describe=describe,
)
