"""ZIM room callbacks (§11.2-11.5): ``zim.room_create``, ``room_destroy``, ``room_enter``,
``room_exit``.

``timestamp`` is in **milliseconds**: docs_all's EN and ZH pages say so since 2025-09-11
(the older ZH export said seconds, and every example still shows a seconds-sized value);
``timestamp_unit: s`` sends seconds instead. Fields besides the common ones:

* ``room_create``: ``room_id``, ``operator_account`` (the creator), ``room_name``,
  ``attributes`` (Array of ``{key, value, auto_delete}``, ``auto_delete`` Int 0/1).
* ``room_destroy``: ``room_id``, ``user_ids`` (Array: members when it was destroyed),
  ``operator_account`` (who destroyed it).
* ``room_enter``: ``room_id``, ``operator_account`` (who entered). The older ZH export's
  ``new_user_ids`` was removed from the docs (2025-09-02) and is not sent.
* ``room_exit``: ``room_id``, ``exit_type`` (``Quit`` | ``Kickout``), ``operator_account``,
  ``exit_user_ids`` (Array). With ``Quit`` the operator is the user who left (EN; ZH calls
  it meaningless), with ``Kickout`` the user who kicked.

ZIM's ``room_create`` shares its wire name with RTC's; a receiver tells them apart by
``operator_account`` (§11), and so does :func:`claims`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from emulator.events.base import Common, EventParams, EventSpec, Fake, parse_json_field, row
from emulator.events.zim._common import (
    MAX_IDS,
    ExitType,
    TimestampUnit,
    ZimCallback,
    field,
    given_or,
    ids_row,
    missing,
    user_id,
    user_ids,
    zim_timestamp,
)
from emulator.wire import WireFields, WireValue

ROOM_WORDS = ("lobby", "study", "match", "karaoke", "support", "class", "watch-party")


class Attribute(BaseModel):
    """One room attribute as ZIM sends it."""

    model_config = ConfigDict(extra="forbid")

    key: str = Field(min_length=1, max_length=128)
    value: str = Field(max_length=4096)
    auto_delete: Literal[0, 1] = 0


class RoomParams(EventParams):
    """Scenario keys every ZIM room event takes; anything absent is faked."""

    room_id: str | None = Field(default=None, min_length=1, max_length=128)
    operator_account: str | None = Field(default=None, min_length=1, max_length=64)
    timestamp_unit: TimestampUnit = Field(
        default="ms", description="ms (docs_all, the default) or s (the older ZH export)"
    )


class RoomCreateParams(RoomParams):
    room_name: str | None = Field(default=None, max_length=256)
    attributes: list[Attribute] | None = Field(default=None, max_length=100)


class RoomDestroyParams(RoomParams):
    user_ids: list[str] | None = Field(default=None, max_length=MAX_IDS)


class RoomExitParams(RoomParams):
    exit_type: ExitType = "Quit"
    exit_user_ids: list[str] | None = Field(default=None, max_length=MAX_IDS)


class _RoomCallback(ZimCallback):
    TASK_FIELD = "room_id"

    room_id: str
    operator_account: str


class RoomCreateCallback(_RoomCallback):
    """A ZIM ``room_create`` callback."""

    event: Literal["room_create"] = "room_create"
    room_name: str
    attributes: list[Attribute]

    def event_fields(self) -> WireFields:
        return {
            "room_id": self.room_id,
            "operator_account": self.operator_account,
            "room_name": self.room_name,
            "attributes": [attribute.model_dump() for attribute in self.attributes],
        }


class RoomDestroyCallback(_RoomCallback):
    """A ZIM ``room_destroy`` callback."""

    event: Literal["room_destroy"] = "room_destroy"
    user_ids: list[str]

    def event_fields(self) -> WireFields:
        return {
            "room_id": self.room_id,
            "user_ids": list(self.user_ids),
            "operator_account": self.operator_account,
        }


class RoomEnterCallback(_RoomCallback):
    """A ZIM ``room_enter`` callback."""

    event: Literal["room_enter"] = "room_enter"

    def event_fields(self) -> WireFields:
        return {"room_id": self.room_id, "operator_account": self.operator_account}


class RoomExitCallback(_RoomCallback):
    """A ZIM ``room_exit`` callback."""

    event: Literal["room_exit"] = "room_exit"
    exit_type: ExitType
    exit_user_ids: list[str]

    def event_fields(self) -> WireFields:
        return {
            "room_id": self.room_id,
            "exit_type": self.exit_type,
            "operator_account": self.operator_account,
            "exit_user_ids": list(self.exit_user_ids),
        }


def room_id(fake: Fake) -> str:
    """A room id as apps name them: ``study-48213``."""
    return f"{fake.choice(ROOM_WORDS)}-{fake.digits(5)}"


def _common_values(fake: Fake, params: RoomParams, common: Common) -> dict[str, Any]:
    return {
        "appid": common.appid,
        "timestamp": zim_timestamp(fake, common, params.timestamp_unit),
        "nonce": common.nonce,
        "room_id": params.room_id or room_id(fake),
        "operator_account": params.operator_account or user_id(fake),
    }


def generate_create(fake: Fake, params: RoomCreateParams, common: Common) -> RoomCreateCallback:
    """A realistic ZIM ``room_create``; every given parameter wins."""
    values = _common_values(fake, params, common)
    attributes = params.attributes
    if attributes is None:
        attributes = [
            Attribute(key="topic", value=fake.faker.catch_phrase(), auto_delete=0),
            Attribute(key="host", value=values["operator_account"], auto_delete=1),
        ]
    name = params.room_name if params.room_name is not None else values["room_id"].title()
    return RoomCreateCallback(**values, room_name=name, attributes=attributes)


def generate_destroy(fake: Fake, params: RoomDestroyParams, common: Common) -> RoomDestroyCallback:
    """A realistic ZIM ``room_destroy``; every given parameter wins."""
    values = _common_values(fake, params, common)
    members = given_or(params.user_ids, user_ids(fake, fake.integer(1, 4)))
    return RoomDestroyCallback(**values, user_ids=members)


def generate_enter(fake: Fake, params: RoomParams, common: Common) -> RoomEnterCallback:
    """A realistic ZIM ``room_enter``; every given parameter wins."""
    return RoomEnterCallback(**_common_values(fake, params, common))


def generate_exit(fake: Fake, params: RoomExitParams, common: Common) -> RoomExitCallback:
    """A realistic ZIM ``room_exit``: ``Quit`` by the operator, ``Kickout`` by a kicker."""
    values = _common_values(fake, params, common)
    operator = values["operator_account"]
    if params.exit_user_ids is not None:
        leaving = list(params.exit_user_ids)
    elif params.exit_type == "Quit":
        leaving = [operator]
    else:
        leaving = user_ids(fake, 1, taken=[operator])
    return RoomExitCallback(**values, exit_type=params.exit_type, exit_user_ids=leaving)


def _head(fields: Mapping[str, WireValue]) -> list[str]:
    return [
        row("room", field(fields, "room_id")),
        row("operator", field(fields, "operator_account")),
    ]


def describe_create(fields: Mapping[str, WireValue]) -> list[str]:
    attributes = parse_json_field(fields, "attributes")
    pairs = [
        f"{item.get('key')}={item.get('value')}"
        for item in (attributes if isinstance(attributes, list) else [])
        if isinstance(item, dict)
    ]
    return [
        *_head(fields),
        row("name", field(fields, "room_name")),
        row("attributes", ", ".join(pairs) or "(none)"),
    ]


def describe_destroy(fields: Mapping[str, WireValue]) -> list[str]:
    return [*_head(fields), ids_row("members", fields, "user_ids")]


def describe_enter(fields: Mapping[str, WireValue]) -> list[str]:
    return _head(fields)


def describe_exit(fields: Mapping[str, WireValue]) -> list[str]:
    return [
        *_head(fields),
        row("exit type", field(fields, "exit_type")),
        ids_row("left", fields, "exit_user_ids"),
    ]


def claims(fields: Mapping[str, WireValue]) -> bool:
    """True for ZIM's ``room_create`` (it names an ``operator_account``; RTC's does not)."""
    return "operator_account" in fields


SPECS: tuple[EventSpec[Any], ...] = (
    EventSpec(
        name="zim.room_create",
        title="ZIM room created",
        model=RoomCreateCallback,
        params=RoomCreateParams,
        generate=generate_create,
        describe=describe_create,
        check=lambda fields: missing(fields, ("room_id", "operator_account")),
        task_field="room_id",
        claims=claims,
    ),
    EventSpec(
        name="zim.room_destroy",
        title="ZIM room destroyed",
        model=RoomDestroyCallback,
        params=RoomDestroyParams,
        generate=generate_destroy,
        describe=describe_destroy,
        check=lambda fields: missing(fields, ("room_id", "user_ids")),
        task_field="room_id",
    ),
    EventSpec(
        name="zim.room_enter",
        title="ZIM user entered a room",
        model=RoomEnterCallback,
        params=RoomParams,
        generate=generate_enter,
        describe=describe_enter,
        check=lambda fields: missing(fields, ("room_id", "operator_account")),
        task_field="room_id",
    ),
    EventSpec(
        name="zim.room_exit",
        title="ZIM user left a room",
        model=RoomExitCallback,
        params=RoomExitParams,
        generate=generate_exit,
        describe=describe_exit,
        check=lambda fields: missing(fields, ("room_id", "exit_type", "exit_user_ids")),
        task_field="room_id",
    ),
)
