"""``snapshot``: on-demand screenshots of a media file finished (spec §4).

The wire fields are the common ones plus ``task_id``, ``vendor`` (``tencent`` or ``hw``),
``field_id`` (sic — ZEGO's spelling of the source file id; Tencent only) and
``snapshot_pic_list``: JSON text of a list of ``{"url": str, "offset": float}``, ``offset``
in milliseconds into the video (ZEGO sends it for Tencent time-point screenshots; the
fake ``hw`` pictures leave it out unless a scenario gives one).

Fake data: 19-digit task and file ids like ZEGO's sample (``1253642700910365374``) for
Tencent, 32-hex task ids for Huawei; picture URLs on ``vod2.myqcloud.com``
(``snapshotByTimeOffset_10_<n>.jpg``) or an OBS bucket, at evenly spaced offsets.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

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

Vendor = Literal["tencent", "hw"]
MAX_PICTURES = 1000
SHOWN_PICTURES = 5  # pictures a receiver's display lists before "... and N more"


class SnapshotPic(BaseModel):
    """One screenshot: where it is and (Tencent) at which millisecond of the video."""

    model_config = ConfigDict(extra="forbid")

    url: str
    offset: float | None = None

    def wire(self) -> dict[str, Any]:
        """The picture as it goes into ``snapshot_pic_list``."""
        if self.offset is None:
            return {"url": self.url}
        offset = int(self.offset) if self.offset.is_integer() else self.offset
        return {"url": self.url, "offset": offset}


class SnapshotCallback(CallbackModel):
    """A ``snapshot`` callback: every documented field, typed."""

    event: Literal["snapshot"] = "snapshot"
    vendor: Vendor = "tencent"
    field_id: str = ""
    snapshot_pic_list: list[SnapshotPic] = Field(default_factory=list)

    def pictures_json(self) -> str:
        """The ``snapshot_pic_list`` JSON text; ``offset`` left out where there is none and
        written without a fraction when whole (``"offset":0``, as in ZEGO's sample)."""
        return compact_json([pic.wire() for pic in self.snapshot_pic_list])

    def event_fields(self) -> WireFields:
        return {
            "task_id": self.task_id,
            "vendor": self.vendor,
            "field_id": self.field_id,
            "snapshot_pic_list": self.pictures_json(),
        }

    @classmethod
    def from_fields(cls, fields: Mapping[str, WireValue]) -> SnapshotCallback:
        """The typed callback from decoded wire fields (odd picture entries are skipped)."""
        vendor = text(fields, "vendor", "tencent")
        return cls(
            appid=text(fields, "appid"),
            timestamp=text(fields, "timestamp"),
            nonce=text(fields, "nonce"),
            signature=text(fields, "signature"),
            task_id=text(fields, "task_id"),
            vendor=vendor if vendor in ("tencent", "hw") else "tencent",  # type: ignore[arg-type]
            field_id=text(fields, "field_id"),
            snapshot_pic_list=[SnapshotPic.model_validate(p) for p in picture_entries(fields)],
        )


class SnapshotPicParams(BaseModel):
    """Scenario keys of one screenshot; anything absent is faked."""

    model_config = ConfigDict(extra="forbid")

    url: str | None = Field(default=None, description="the screenshot's URL")
    offset: float | None = Field(
        default=None, ge=0, allow_inf_nan=False, description="milliseconds into the video"
    )


class SnapshotParams(EventParams):
    """Scenario keys of a ``snapshot`` callback."""

    vendor: Vendor = Field(default="tencent", description="tencent or hw (Huawei)")
    task_id: str | None = Field(default=None, description="the MediaThumbnails task id")
    field_id: str | None = Field(
        default=None, description="the source file id (ZEGO's spelling; Tencent only)"
    )
    count: int | None = Field(
        default=None, ge=0, le=MAX_PICTURES, description="how many screenshots to fake"
    )
    interval_ms: float | None = Field(
        default=None, gt=0, allow_inf_nan=False, description="ms between faked screenshots"
    )
    snapshot_pic_list: list[SnapshotPicParams] | None = Field(
        default=None, max_length=MAX_PICTURES, description="the screenshots, given one by one"
    )


def task_id_for(fake: Fake, vendor: str) -> str:
    """19 digits for Tencent (like ZEGO's sample), 32 hex characters for Huawei."""
    return fake.digits(19) if vendor == "tencent" else fake.hex(32)


def picture_url(vendor: str, prefix: str, index: int) -> str:
    """The URL of screenshot ``index`` under ``prefix`` (see :func:`url_prefix`)."""
    if vendor == "tencent":
        return f"{prefix}/snapshotByTimeOffset/snapshotByTimeOffset_10_{index}.jpg"
    return f"{prefix}/snapshot/{index}.jpg"


def url_prefix(fake: Fake, common: Common, vendor: str, field_id: str) -> str:
    """Where one task's screenshots live: a VOD path (Tencent) or an OBS bucket (Huawei)."""
    if vendor == "tencent":
        bucket = f"{fake.hex(8)}vodtrans{fake.choice(('gzp', 'cq', 'sh', 'bj'))}"
        tail = field_id[-10:] if field_id else fake.digits(10)
        return f"https://{common.vod_app_id}.vod2.myqcloud.com/{bucket}{common.vod_app_id}/{tail}"
    bucket = f"vod-bucket-{fake.random.randint(10, 99)}-cn-north-4"
    return f"https://{bucket}.obs.cn-north-4.myhuaweicloud.com/{fake.hex(32)}/{fake.hex(32)}"


def generate(fake: Fake, params: SnapshotParams, common: Common) -> SnapshotCallback:
    """A realistic ``snapshot`` callback; every given parameter wins."""
    vendor = params.vendor
    task_id = params.task_id or task_id_for(fake, vendor)
    field_id = params.field_id
    if field_id is None:
        field_id = fake.digits(19) if vendor == "tencent" else ""
    given = params.snapshot_pic_list
    count = (
        params.count
        if params.count is not None
        else (len(given) if given else fake.random.randint(3, 6))
    )
    interval = params.interval_ms or float(fake.choice(("5000", "10000", "30000")))
    prefix = url_prefix(fake, common, vendor, field_id)
    pictures: list[SnapshotPic] = []
    for index in range(count):
        wanted = given[index] if given and index < len(given) else SnapshotPicParams()
        offset = wanted.offset
        if offset is None and vendor == "tencent":
            offset = index * interval
        url = wanted.url or picture_url(vendor, prefix, index)
        pictures.append(SnapshotPic(url=url, offset=offset))
    return SnapshotCallback(
        appid=common.appid,
        timestamp=common.timestamp,
        nonce=common.nonce,
        task_id=task_id,
        vendor=vendor,
        field_id=field_id,
        snapshot_pic_list=pictures,
    )


def picture_entries(fields: Mapping[str, WireValue]) -> list[dict[str, Any]]:
    """The ``snapshot_pic_list`` objects that have a string ``url``; [] when absent or odd."""
    entries = parse_json_field(fields, "snapshot_pic_list")
    if not isinstance(entries, list):
        return []
    return [
        entry
        for entry in entries
        if isinstance(entry, dict)
        and isinstance(entry.get("url"), str)
        and isinstance(entry.get("offset", 0), int | float)
        and not isinstance(entry.get("offset", 0), bool)
    ]


def _offset_text(value: Any) -> str:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return f"{value / 1000:.3f} s"
    return "offset n/a"


def describe(fields: Mapping[str, WireValue]) -> list[str]:
    """Readable lines for a receiver's display of a ``snapshot`` callback."""
    pictures = picture_entries(fields)
    lines = [
        row("vendor", text(fields, "vendor", "(none)")),
        row("field id", text(fields, "field_id") or "(none)"),
        row("pictures", str(len(pictures))),
    ]
    pad = " " * len(row("", ""))
    for pic in pictures[:SHOWN_PICTURES]:
        lines.append(f"{pad}{_offset_text(pic.get('offset'))}  {pic['url']}")
    if len(pictures) > SHOWN_PICTURES:
        lines.append(f"{pad}... and {len(pictures) - SHOWN_PICTURES} more")
    return lines


def check(fields: Mapping[str, WireValue]) -> list[str]:
    """Problems a complete ``snapshot`` body cannot have."""
    problems = [
        f"missing field {name}" for name in ("task_id", "snapshot_pic_list") if name not in fields
    ]
    if "snapshot_pic_list" in fields and not isinstance(
        parse_json_field(fields, "snapshot_pic_list"), list
    ):
        problems.append("snapshot_pic_list is not the JSON text of a list")
    return problems


SPEC: EventSpec[SnapshotParams] = EventSpec(
    name="snapshot",
    title="on-demand screenshots finished",
    model=SnapshotCallback,
    params=SnapshotParams,
    generate=generate,
    describe=describe,
    check=check,
)
