"""``compose``: a media-file merge (``MergeMedia``) finished (spec §4).

The wire fields are the common ones plus ``replay_url``, ``task_id``, ``file_id`` (the
merged file; Tencent only), ``code`` and ``message``. ``code`` is ``"0"`` on success;
ZEGO documents three failures: ``40000`` bad input parameters, ``60000`` a bad source
file, ``70000`` an internal error (retry advised). A failed merge carries no replay URL
and no file id.

Fake data: task ids shaped like Tencent VOD's edit tasks (``<vod app id>-EditMedia-<32
hex>t0``), 19-digit file ids like ZEGO's sample ``5285890813218549789``, and a
``vod2.myqcloud.com`` replay URL ending in the output file name and format.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import Field, field_validator

from emulator.events.base import (
    CallbackModel,
    Common,
    EventParams,
    EventSpec,
    Fake,
    row,
    text,
)
from emulator.wire import WireFields, WireValue

Format = Literal["mp4", "mp3", "m3u8"]

# code -> the message ZEGO's documentation gives it
CODE_MESSAGES: dict[str, str] = {
    "0": "SUCCESS",
    "40000": "input parameter is invalid, please check the input parameters",
    "60000": "source file error (e.g. the video data is corrupted), please check the source file",
    "70000": "internal service error, please retry",
}
REQUIRED_FIELDS = ("task_id", "code")


class ComposeCallback(CallbackModel):
    """A ``compose`` callback: every documented field, typed."""

    event: Literal["compose"] = "compose"
    replay_url: str = ""
    file_id: str = ""
    code: str = "0"
    message: str = "SUCCESS"

    @property
    def ok(self) -> bool:
        return self.code == "0"

    def event_fields(self) -> WireFields:
        return {
            "replay_url": self.replay_url,
            "task_id": self.task_id,
            "file_id": self.file_id,
            "code": self.code,
            "message": self.message,
        }

    @classmethod
    def from_fields(cls, fields: Mapping[str, WireValue]) -> ComposeCallback:
        """The typed callback from decoded wire fields."""
        return cls(
            appid=text(fields, "appid"),
            timestamp=text(fields, "timestamp"),
            nonce=text(fields, "nonce"),
            signature=text(fields, "signature"),
            task_id=text(fields, "task_id"),
            replay_url=text(fields, "replay_url"),
            file_id=text(fields, "file_id"),
            code=text(fields, "code"),
            message=text(fields, "message"),
        )


class ComposeParams(EventParams):
    """Scenario keys of a ``compose`` callback; anything absent is faked."""

    code: str = Field(
        default="0",
        # YAML's `code: 70000` is a number; it goes on the wire as text
        json_schema_extra={"type": ["string", "integer"]},
        description='"0" merged; 40000 bad input, 60000 bad source file, 70000 internal error',
    )
    message: str | None = Field(default=None, description="default: the code's documented text")
    task_id: str | None = Field(default=None, description="the MergeMedia task id")
    file_id: str | None = Field(default=None, description="the merged file's id (Tencent only)")
    replay_url: str | None = Field(default=None, description="playback URL of the merged file")
    format: Format | None = Field(
        default=None, description="file format of the merged file (default mp4)"
    )
    output_file_name: str | None = Field(
        default=None, min_length=1, max_length=200, description="name in the faked replay_url"
    )

    @field_validator("code", mode="before")
    @classmethod
    def _code_as_text(cls, value: Any) -> Any:
        """``code: 60000`` in YAML is a number; the wire field is text."""
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        return value


def task_id_for(fake: Fake, common: Common) -> str:
    """A merge task id shaped like Tencent VOD's: ``1500020831-EditMedia-<32 hex>t0``."""
    return f"{common.vod_app_id}-EditMedia-{fake.hex(32)}t0"


def replay_url_for(fake: Fake, common: Common, file_id: str, name: str, fmt: str) -> str:
    """A Tencent-VOD-shaped playback URL of the merged file."""
    bucket = f"{fake.hex(8)}vodtrans{fake.choice(('gzp', 'cq', 'sh', 'bj'))}{common.vod_app_id}"
    return f"https://{common.vod_app_id}.vod2.myqcloud.com/{bucket}/{file_id[-10:]}/{name}.{fmt}"


def generate(fake: Fake, params: ComposeParams, common: Common) -> ComposeCallback:
    """A realistic ``compose`` callback; every given parameter wins."""
    failed = params.code != "0"
    task_id = params.task_id or task_id_for(fake, common)
    file_id = params.file_id if params.file_id is not None else ("" if failed else fake.digits(19))
    name = params.output_file_name or f"merged-{fake.hex(6)}"
    replay_url = params.replay_url
    if replay_url is None:
        replay_url = (
            "" if failed else replay_url_for(fake, common, file_id, name, params.format or "mp4")
        )
    message = params.message
    if message is None:
        message = CODE_MESSAGES.get(params.code, "merge failed")
    return ComposeCallback(
        appid=common.appid,
        timestamp=common.timestamp,
        nonce=common.nonce,
        task_id=task_id,
        replay_url=replay_url,
        file_id=file_id,
        code=params.code,
        message=message,
    )


def describe(fields: Mapping[str, WireValue]) -> list[str]:
    """Readable lines for a receiver's display of a ``compose`` callback."""
    code = text(fields, "code", "(none)")
    outcome = "merged" if code == "0" else "FAILED"
    return [
        row("code", f"{code} ({outcome}) {fields.get('message', '')}".rstrip()),
        row("file id", text(fields, "file_id") or "(none)"),
        row("replay", text(fields, "replay_url") or "(no replay url)"),
    ]


def check(fields: Mapping[str, WireValue]) -> list[str]:
    """Problems a complete ``compose`` body cannot have."""
    return [f"missing field {name}" for name in REQUIRED_FIELDS if name not in fields]


SPEC: EventSpec[ComposeParams] = EventSpec(
    name="compose",
    title="media-file merge finished",
    model=ComposeCallback,
    params=ComposeParams,
    generate=generate,
    describe=describe,
    check=check,
)
