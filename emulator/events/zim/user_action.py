"""``zim.user_action``: a ZIM user logged in, logged out or went offline (§11.1).

Wire fields besides the common ones (``timestamp`` in **seconds**, as the page says):
``user_id``, ``user_name``, ``os`` (``PC``, ``IOS_PHONE``, ``ANDROID``, ...), ``action``
(Int: ``0`` online, ``1`` logout called, ``2`` offline — network lost or heartbeat
timeout), ``session_id`` (one per connection), ``login_time`` (Int, s), ``relogin``
(String ``"0"`` first login, ``"1"`` relogin), and by action ``logout_time`` (Int, s) with
``logout_reason`` on ``1``, ``offline_time`` (Int, s) on ``2``. The docs list all three
times for every action; ZEGO's logout example carries login and logout times and no
``offline_time``, so we send the times the action has **[inference]**.

Fake data: ids like ``lena_4821``, 18-digit session ids like the sample's
``930821637828251648``, a login some minutes to hours before a logout.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import Field, field_validator

from emulator.events.base import Common, EventParams, EventSpec, Fake, row, text
from emulator.events.zim._common import ZimCallback, field, missing, seconds_of, user_id
from emulator.wire import WireFields, WireValue

OS_NAMES = ("PC", "IOS_PHONE", "ANDROID", "MAC", "LINUX", "WEB", "MINIPROGRAM", "ANDROID_TV")
ACTIONS = {"login": 0, "online": 0, "logout": 1, "offline": 2}
ACTION_NAMES = {0: "online (login succeeded)", 1: "logout (logout called)", 2: "offline"}
LOGOUT_REASONS = ("user logout", "switch account", "app exit")
REQUIRED_FIELDS = ("user_id", "os", "action", "session_id", "login_time", "relogin")
Action = Literal[0, 1, 2]


class UserActionCallback(ZimCallback):
    """A ZIM ``user_action`` callback: every documented field, typed."""

    TASK_FIELD = "session_id"

    event: Literal["user_action"] = "user_action"
    user_id: str
    user_name: str
    os: str
    action: Action
    session_id: str
    login_time: int
    relogin: Literal["0", "1"]
    logout_time: int | None = None
    logout_reason: str | None = None
    offline_time: int | None = None

    def event_fields(self) -> WireFields:
        fields: WireFields = {
            "user_id": self.user_id,
            "user_name": self.user_name,
            "os": self.os,
            "action": self.action,
            "session_id": self.session_id,
            "login_time": self.login_time,
            "relogin": self.relogin,
        }
        optional = {
            "logout_time": self.logout_time,
            "logout_reason": self.logout_reason,
            "offline_time": self.offline_time,
        }
        fields.update({name: value for name, value in optional.items() if value is not None})
        return fields


class UserActionParams(EventParams):
    """Scenario keys of a ``zim.user_action`` callback; anything absent is faked."""

    action: Action = Field(
        default=0, description="0 (or login) online, 1 (or logout) logout, 2 (or offline)"
    )
    user_id: str | None = Field(default=None, min_length=1, max_length=64)
    user_name: str | None = Field(default=None, max_length=64)
    os: str | None = Field(
        default=None, max_length=32, description=f"one of {', '.join(OS_NAMES)} (ZEGO's)"
    )
    session_id: str | None = Field(default=None, min_length=1, max_length=64)
    login_time: int | None = Field(default=None, ge=0, description="Unix seconds")
    relogin: Literal["0", "1"] | None = None
    logout_time: int | None = Field(default=None, ge=0, description="Unix seconds")
    logout_reason: str | None = Field(default=None, max_length=256)
    offline_time: int | None = Field(default=None, ge=0, description="Unix seconds")

    @field_validator("action", mode="before")
    @classmethod
    def _action_by_name(cls, value: Any) -> Any:
        """``action: logout`` reads as ``1``."""
        if isinstance(value, str):
            text = value.strip().lower()
            return int(text) if text.isdigit() else ACTIONS.get(text, value)
        return value

    @field_validator("relogin", mode="before")
    @classmethod
    def _relogin_as_text(cls, value: Any) -> Any:
        """``relogin: 1`` (or true) in YAML is the text ``"1"`` on the wire."""
        if isinstance(value, bool):
            return "1" if value else "0"
        if isinstance(value, int):
            return str(value)
        return value


def generate(fake: Fake, params: UserActionParams, common: Common) -> UserActionCallback:
    """A realistic ``user_action`` callback; every given parameter wins."""
    now = seconds_of(common)
    action = params.action
    login_time = params.login_time
    if login_time is None:
        login_time = now if action == 0 else now - fake.integer(60, 4 * 3600)
    logout_time = params.logout_time
    logout_reason = params.logout_reason
    if action == 1:
        logout_time = now if logout_time is None else logout_time
        logout_reason = fake.choice(LOGOUT_REASONS) if logout_reason is None else logout_reason
    offline_time = params.offline_time
    if action == 2 and offline_time is None:
        offline_time = now
    relogin = params.relogin or ("1" if fake.random.random() < 0.2 else "0")
    return UserActionCallback(
        appid=common.appid,
        timestamp=str(now),
        nonce=common.nonce,
        user_id=params.user_id or user_id(fake),
        user_name=params.user_name if params.user_name is not None else fake.faker.first_name(),
        os=params.os if params.os is not None else fake.choice(OS_NAMES),
        action=action,
        session_id=params.session_id or fake.digits(18),
        login_time=login_time,
        relogin=relogin,
        logout_time=logout_time,
        logout_reason=logout_reason,
        offline_time=offline_time,
    )


def describe(fields: Mapping[str, WireValue]) -> list[str]:
    """Readable lines for a receiver's display of a ``user_action`` callback."""
    action = text(fields, "action")
    meaning = ACTION_NAMES.get(int(action), "unknown") if action.isdigit() else "unknown"
    lines = [
        row("user", f"{field(fields, 'user_id')} ({text(fields, 'user_name')})"),
        row("action", f"{action or '(none)'} {meaning}"),
        row("os", field(fields, "os")),
        row("session", field(fields, "session_id")),
        row("login", f"{field(fields, 'login_time')} relogin={text(fields, 'relogin')}"),
    ]
    if "logout_time" in fields:
        reason = text(fields, "logout_reason")
        lines.append(row("logout", f"{text(fields, 'logout_time')} {reason}".rstrip()))
    if "offline_time" in fields:
        lines.append(row("offline", text(fields, "offline_time")))
    return lines


def check(fields: Mapping[str, WireValue]) -> list[str]:
    """Problems a complete ``user_action`` body cannot have."""
    return missing(fields, REQUIRED_FIELDS)


SPEC: EventSpec[UserActionParams] = EventSpec(
    name="zim.user_action",
    title="ZIM user logged in / out / offline",
    model=UserActionCallback,
    params=UserActionParams,
    generate=generate,
    describe=describe,
    check=check,
    task_field=UserActionCallback.TASK_FIELD,
)
