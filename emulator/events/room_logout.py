"""``room_logout``: a user logged out of a room — zego-events.md §2.4.

Every field is a String: ``room_id``, ``room_seq`` (= room_session_id),
``user_account``, ``user_nickname``, ``session_id``, ``login_time`` and ``logout_time``
(Unix ms), ``reason`` (``0`` normal logout, ``1`` business heartbeat timeout, ``2``
access-layer connection dropped, ``3`` logged in again or kicked by KickoutUser, ``4``
token expired), ``user_role`` and ``user_update_seq``. No room_name, auth_level,
relogin, callback_data or term_type.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Literal

from emulator.events import _rtc
from emulator.events.base import CallbackModel, Common, EventParams, EventSpec, Fake, row, text
from emulator.events.room_login import ROLES, UserRole
from emulator.wire import WireFields, WireValue

FIELDS = (
    "room_id", "room_seq", "user_account", "user_nickname", "session_id", "login_time",
    "logout_time", "reason", "user_role", "user_update_seq",
)  # fmt: skip
REASONS = {
    "0": "normal logout",
    "1": "heartbeat timeout",
    "2": "connection dropped",
    "3": "logged in again, or kicked out (KickoutUser)",
    "4": "token expired",
}


class RoomLogoutCallback(CallbackModel):
    """A ``room_logout`` callback: every documented field (all strings)."""

    event: Literal["room_logout"] = "room_logout"
    room_id: str
    room_seq: str
    user_account: str
    user_nickname: str
    session_id: str
    login_time: str
    logout_time: str
    reason: str
    user_role: str
    user_update_seq: str

    def event_fields(self) -> WireFields:
        return {name: getattr(self, name) for name in FIELDS}


class RoomLogoutParams(EventParams):
    """Scenario keys of a ``room_logout`` callback; anything absent is faked."""

    room_id: _rtc.Text | None = None
    room_seq: _rtc.DigitText | None = None  # = room_create's room_session_id
    user_account: _rtc.Text | None = None
    user_nickname: _rtc.Text | None = None  # default: the user_account
    session_id: _rtc.DigitText | None = None  # the session that logged in
    login_time: _rtc.DigitText | None = None  # Unix ms (default: minutes before logout_time)
    logout_time: _rtc.DigitText | None = None  # Unix ms (default: within the timestamp)
    reason: Annotated[Literal["0", "1", "2", "3", "4"], _rtc.codes(0, 1, 2, 3, 4)] = "0"
    user_role: UserRole | None = None
    user_update_seq: _rtc.DigitText | None = None


def generate(fake: Fake, params: RoomLogoutParams, common: Common) -> RoomLogoutCallback:
    """A realistic ``room_logout`` callback; every given parameter wins."""
    account = _rtc.given(params.user_account, lambda: _rtc.user_id(fake))
    session = _rtc.given(params.session_id, lambda: _rtc.session_id(fake))
    logout = _rtc.given(params.logout_time, lambda: str(_rtc.ms_in_second(fake, common)))
    stay_ms = fake.integer(5_000, 3_600_000)
    return RoomLogoutCallback(
        appid=common.appid,
        timestamp=common.timestamp,
        nonce=common.nonce,
        task_id=session,
        room_id=_rtc.given(params.room_id, lambda: _rtc.room_id(fake)),
        room_seq=_rtc.given(params.room_seq, lambda: str(_rtc.room_session_id(fake))),
        user_account=account,
        user_nickname=_rtc.given(params.user_nickname, lambda: account),
        session_id=session,
        login_time=_rtc.given(params.login_time, lambda: str(max(0, int(logout) - stay_ms))),
        logout_time=logout,
        reason=params.reason,
        user_role=_rtc.given(params.user_role, lambda: fake.choice(("1", "2"))),
        user_update_seq=_rtc.given(params.user_update_seq, lambda: str(fake.integer(2, 41))),
    )


def describe(fields: Mapping[str, WireValue]) -> list[str]:
    """Readable lines for a receiver's display of a ``room_logout`` callback."""
    lines = _rtc.rows(
        fields,
        {
            "room_id": "room",
            "room_seq": "room seq",
            "user_account": "user",
            "session_id": "session",
            "login_time": "login ms",
            "logout_time": "logout ms",
            "user_update_seq": "user seq",
        },
    )
    reason = text(fields, "reason", "(none)")
    role = text(fields, "user_role", "(none)")
    return [
        *lines,
        row("reason", _rtc.coded(reason, REASONS)),
        row("role", _rtc.coded(role, ROLES)),
    ]


def check(fields: Mapping[str, WireValue]) -> list[str]:
    """Problems a complete ``room_logout`` body cannot have."""
    return _rtc.required(fields, FIELDS)


SPEC: EventSpec[RoomLogoutParams] = EventSpec(
    name="room_logout",
    title="user logged out",
    model=RoomLogoutCallback,
    params=RoomLogoutParams,
    generate=generate,
    describe=describe,
    check=check,
    task_field="session_id",
)
