"""ZIM group callbacks (§11.9): ``zim.group_create``, ``group_destroy``, ``group_join``,
``group_exit``.

``timestamp`` is in **milliseconds** (docs_all; the older ZH export said seconds, and
several examples even send it as a string): ``timestamp_unit: s`` sends seconds. Fields
besides the common ones:

* ``group_create``: ``group_id``, ``operator_account``, ``owner_account``, ``group_name``,
  ``attributes`` (Array of ``{key, value}``), ``user_ids`` (Array: the first members).
* ``group_destroy``: ``group_id``, ``operator_account``, ``owner_account``, ``user_ids``.
* ``group_join``: ``group_id``, ``operator_account`` (the inviter for ``Invited``;
  meaningless for ``Apply``, where we send the applicant), ``join_type`` (``Apply`` |
  ``Invited``), ``new_user_ids`` (Array). The EN example's event ``Apply_join_group``
  contradicts its own table; we send ``group_join`` as the table and the ZH page do.
* ``group_exit``: ``group_id``, ``exit_type`` (``Quit`` | ``Kickout``),
  ``operator_account``, ``exit_user_ids`` (Array).
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

JoinType = Literal["Apply", "Invited"]
GROUP_WORDS = ("Hiking", "Book club", "Family", "Project", "Gaming", "Study group")


class GroupAttribute(BaseModel):
    """One group attribute as ZIM sends it."""

    model_config = ConfigDict(extra="forbid")

    key: str = Field(min_length=1, max_length=128)
    value: str = Field(max_length=4096)


class GroupParams(EventParams):
    """Scenario keys every ZIM group event takes; anything absent is faked."""

    group_id: str | None = Field(default=None, min_length=1, max_length=128)
    operator_account: str | None = Field(default=None, min_length=1, max_length=64)
    timestamp_unit: TimestampUnit = Field(
        default="ms", description="ms (docs_all, the default) or s (the older ZH export)"
    )


class GroupCreateParams(GroupParams):
    owner_account: str | None = Field(default=None, min_length=1, max_length=64)
    group_name: str | None = Field(default=None, max_length=256)
    attributes: list[GroupAttribute] | None = Field(default=None, max_length=100)
    user_ids: list[str] | None = Field(default=None, max_length=MAX_IDS)


class GroupDestroyParams(GroupParams):
    owner_account: str | None = Field(default=None, min_length=1, max_length=64)
    user_ids: list[str] | None = Field(default=None, max_length=MAX_IDS)


class GroupJoinParams(GroupParams):
    join_type: JoinType = "Apply"
    new_user_ids: list[str] | None = Field(default=None, max_length=MAX_IDS)


class GroupExitParams(GroupParams):
    exit_type: ExitType = "Quit"
    exit_user_ids: list[str] | None = Field(default=None, max_length=MAX_IDS)


class _GroupCallback(ZimCallback):
    TASK_FIELD = "group_id"

    group_id: str
    operator_account: str


class GroupCreateCallback(_GroupCallback):
    """A ZIM ``group_create`` callback."""

    event: Literal["group_create"] = "group_create"
    owner_account: str
    group_name: str
    attributes: list[GroupAttribute]
    user_ids: list[str]

    def event_fields(self) -> WireFields:
        return {
            "group_id": self.group_id,
            "operator_account": self.operator_account,
            "owner_account": self.owner_account,
            "group_name": self.group_name,
            "attributes": [attribute.model_dump() for attribute in self.attributes],
            "user_ids": list(self.user_ids),
        }


class GroupDestroyCallback(_GroupCallback):
    """A ZIM ``group_destroy`` callback."""

    event: Literal["group_destroy"] = "group_destroy"
    owner_account: str
    user_ids: list[str]

    def event_fields(self) -> WireFields:
        return {
            "group_id": self.group_id,
            "operator_account": self.operator_account,
            "owner_account": self.owner_account,
            "user_ids": list(self.user_ids),
        }


class GroupJoinCallback(_GroupCallback):
    """A ZIM ``group_join`` callback."""

    event: Literal["group_join"] = "group_join"
    join_type: JoinType
    new_user_ids: list[str]

    def event_fields(self) -> WireFields:
        return {
            "group_id": self.group_id,
            "operator_account": self.operator_account,
            "join_type": self.join_type,
            "new_user_ids": list(self.new_user_ids),
        }


class GroupExitCallback(_GroupCallback):
    """A ZIM ``group_exit`` callback."""

    event: Literal["group_exit"] = "group_exit"
    exit_type: ExitType
    exit_user_ids: list[str]

    def event_fields(self) -> WireFields:
        return {
            "group_id": self.group_id,
            "exit_type": self.exit_type,
            "operator_account": self.operator_account,
            "exit_user_ids": list(self.exit_user_ids),
        }


def group_id(fake: Fake) -> str:
    """A group id as apps name them: ``group_482139``."""
    return f"group_{fake.digits(6)}"


def _common_values(fake: Fake, params: GroupParams, common: Common) -> dict[str, Any]:
    return {
        "appid": common.appid,
        "timestamp": zim_timestamp(fake, common, params.timestamp_unit),
        "nonce": common.nonce,
        "group_id": params.group_id or group_id(fake),
        "operator_account": params.operator_account or user_id(fake),
    }


def generate_create(fake: Fake, params: GroupCreateParams, common: Common) -> GroupCreateCallback:
    """A realistic ``group_create``: the operator owns it and is its first member."""
    values = _common_values(fake, params, common)
    owner = params.owner_account or values["operator_account"]
    attributes = params.attributes
    if attributes is None:
        attributes = [GroupAttribute(key="notice", value=fake.faker.sentence())]
    members = given_or(params.user_ids, [owner, *user_ids(fake, fake.integer(1, 4), [owner])])
    return GroupCreateCallback(
        **values,
        owner_account=owner,
        group_name=params.group_name or f"{fake.choice(GROUP_WORDS)} {fake.digits(2)}",
        attributes=attributes,
        user_ids=members,
    )


def generate_destroy(
    fake: Fake, params: GroupDestroyParams, common: Common
) -> GroupDestroyCallback:
    """A realistic ``group_destroy``: the owner dismisses it."""
    values = _common_values(fake, params, common)
    owner = params.owner_account or values["operator_account"]
    members = given_or(params.user_ids, [owner, *user_ids(fake, fake.integer(1, 4), [owner])])
    return GroupDestroyCallback(**values, owner_account=owner, user_ids=members)


def generate_join(fake: Fake, params: GroupJoinParams, common: Common) -> GroupJoinCallback:
    """A realistic ``group_join``: an applicant, or users an operator invited."""
    values = _common_values(fake, params, common)
    operator = values["operator_account"]
    if params.new_user_ids is not None:
        joined = list(params.new_user_ids)
    elif params.join_type == "Apply":
        joined = [operator] if params.operator_account is None else user_ids(fake, 1, [operator])
    else:
        joined = user_ids(fake, fake.integer(1, 3), [operator])
    return GroupJoinCallback(**values, join_type=params.join_type, new_user_ids=joined)


def generate_exit(fake: Fake, params: GroupExitParams, common: Common) -> GroupExitCallback:
    """A realistic ``group_exit``: ``Quit`` by the operator, ``Kickout`` by a kicker."""
    values = _common_values(fake, params, common)
    operator = values["operator_account"]
    if params.exit_user_ids is not None:
        leaving = list(params.exit_user_ids)
    elif params.exit_type == "Quit":
        leaving = [operator]
    else:
        leaving = user_ids(fake, 1, [operator])
    return GroupExitCallback(**values, exit_type=params.exit_type, exit_user_ids=leaving)


def _head(fields: Mapping[str, WireValue]) -> list[str]:
    return [
        row("group", field(fields, "group_id")),
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
        row("owner", field(fields, "owner_account")),
        row("name", field(fields, "group_name")),
        row("attributes", ", ".join(pairs) or "(none)"),
        ids_row("members", fields, "user_ids"),
    ]


def describe_destroy(fields: Mapping[str, WireValue]) -> list[str]:
    return [
        *_head(fields),
        row("owner", field(fields, "owner_account")),
        ids_row("members", fields, "user_ids"),
    ]


def describe_join(fields: Mapping[str, WireValue]) -> list[str]:
    return [
        *_head(fields),
        row("join type", field(fields, "join_type")),
        ids_row("joined", fields, "new_user_ids"),
    ]


def describe_exit(fields: Mapping[str, WireValue]) -> list[str]:
    return [
        *_head(fields),
        row("exit type", field(fields, "exit_type")),
        ids_row("left", fields, "exit_user_ids"),
    ]


SPECS: tuple[EventSpec[Any], ...] = (
    EventSpec(
        name="zim.group_create",
        title="ZIM group created",
        model=GroupCreateCallback,
        params=GroupCreateParams,
        generate=generate_create,
        describe=describe_create,
        check=lambda fields: missing(fields, ("group_id", "owner_account", "user_ids")),
        task_field="group_id",
    ),
    EventSpec(
        name="zim.group_destroy",
        title="ZIM group dismissed",
        model=GroupDestroyCallback,
        params=GroupDestroyParams,
        generate=generate_destroy,
        describe=describe_destroy,
        check=lambda fields: missing(fields, ("group_id", "user_ids")),
        task_field="group_id",
    ),
    EventSpec(
        name="zim.group_join",
        title="ZIM users joined a group",
        model=GroupJoinCallback,
        params=GroupJoinParams,
        generate=generate_join,
        describe=describe_join,
        check=lambda fields: missing(fields, ("group_id", "join_type", "new_user_ids")),
        task_field="group_id",
    ),
    EventSpec(
        name="zim.group_exit",
        title="ZIM users left a group",
        model=GroupExitCallback,
        params=GroupExitParams,
        generate=generate_exit,
        describe=describe_exit,
        check=lambda fields: missing(fields, ("group_id", "exit_type", "exit_user_ids")),
        task_field="group_id",
    ),
)
