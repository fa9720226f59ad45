"""What every ZIM callback shares (§11): the common fields as ZIM types them, fake ids, helpers.

``timestamp`` is held as the decimal text that is signed (§1.2: "use its decimal string
form") and goes on the wire as a JSON number. Events whose docs say milliseconds get
``seconds * 1000 + ms`` of the factory's time (:func:`zim_timestamp`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import ClassVar, Literal

from pydantic import model_validator

from emulator.events.base import (
    CallbackModel,
    Common,
    Fake,
    compact_json,
    parse_json_field,
    row,
    text,
)
from emulator.wire import WireFields, WireValue

PREFIX = "zim."
TimestampUnit = Literal["s", "ms"]
ExitType = Literal["Quit", "Kickout"]
_INTEGER = re.compile(r"-?[0-9]{1,19}\Z")
MAX_IDS = 500  # users in one id list of a scenario entry


class ZimCallback(CallbackModel):
    """A ZIM callback: ``appid``/``nonce`` strings, ``timestamp`` a JSON number on the wire.

    ``TASK_FIELD`` names the id that stands for the callback's task (records, the built-in
    receiver's per-callback scripts): ZIM callbacks have no ``task_id``.
    """

    TASK_FIELD: ClassVar[str] = ""

    @model_validator(mode="after")
    def _task_from_id(self) -> ZimCallback:
        if self.TASK_FIELD and not self.task_id:
            self.task_id = str(getattr(self, self.TASK_FIELD))
        return self

    def catalogue_name(self) -> str:
        return PREFIX + self.event

    def event_fields(self) -> WireFields:
        raise NotImplementedError

    def common_fields(self) -> WireFields:
        """The common fields, ``timestamp`` as the JSON number ZIM sends."""
        fields = super().common_fields()
        fields["timestamp"] = wire_number(self.timestamp)
        return fields


def wire_number(text: str) -> int | str:
    """``"1499676978"`` -> ``1499676978``; text that is not an integer stays text."""
    return int(text) if _INTEGER.match(text) else text


def seconds_of(common: Common) -> int:
    """The factory's time of this callback, whole Unix seconds."""
    try:
        return int(common.timestamp)
    except ValueError:
        return 0


def zim_timestamp(fake: Fake, common: Common, unit: TimestampUnit) -> str:
    """The signed ``timestamp`` text in ``unit`` (ms: the second plus a random millisecond)."""
    seconds = seconds_of(common)
    if unit == "s":
        return str(seconds)
    return str(seconds * 1000 + fake.integer(0, 999))


def user_id(fake: Fake) -> str:
    """A ZIM user id as apps pick them: ``lena_4821``."""
    name = "".join(ch for ch in fake.faker.first_name().lower() if ch.isalnum()) or "user"
    return f"{name}_{fake.digits(4)}"


def user_ids(fake: Fake, count: int, taken: Iterable[str] = ()) -> list[str]:
    """``count`` distinct user ids, none of them in ``taken``."""
    seen = set(taken)
    found: list[str] = []
    while len(found) < count:
        candidate = user_id(fake)
        if candidate not in seen:
            seen.add(candidate)
            found.append(candidate)
    return found


def given_or(value: Sequence[str] | None, fallback: list[str]) -> list[str]:
    """A given id list (copied), else the faked one."""
    return list(value) if value is not None else fallback


# --- reading received fields (display, shape checks) ---------------------------------------


def id_list(fields: Mapping[str, WireValue], name: str) -> list[str]:
    """A JSON-array field as a list of texts ([] when absent or not an array)."""
    value = parse_json_field(fields, name)
    if not isinstance(value, list):
        return []
    return [item if isinstance(item, str) else compact_json(item) for item in value]


def ids_row(label: str, fields: Mapping[str, WireValue], name: str) -> str:
    """``users     lena_4821, omar_1203 (2)``."""
    ids = id_list(fields, name)
    if not ids:
        return row(label, "(none)")
    shown = ", ".join(ids[:8]) + (", …" if len(ids) > 8 else "")
    return row(label, f"{shown} ({len(ids)})")


def missing(fields: Mapping[str, WireValue], names: Iterable[str]) -> list[str]:
    """``missing field X`` for every name not in ``fields``."""
    return [f"missing field {name}" for name in names if name not in fields]


def field(fields: Mapping[str, WireValue], name: str) -> str:
    """Field ``name`` as display text, ``(none)`` when absent or empty."""
    return text(fields, name) or "(none)"
