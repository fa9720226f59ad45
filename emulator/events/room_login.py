"""``room_login``: a user logged in to a room — zego-events.md §2.3.

Every field is a String: ``room_id``, ``room_name``, ``room_seq`` (the room's lifetime
id, equal to room_create's ``room_session_id``), ``user_account``, ``user_nickname``,
``session_id`` (this login's session), ``login_time`` (Unix ms), ``user_role`` (``1``
host, ``2`` audience, ``4`` admin), ``auth_level`` (``0`` no token, ``1``-``4`` token
version), ``relogin`` (``0`` first login, ``1`` relogin), ``user_update_seq`` (+1 on
every login or logout in the room), ``callback_data`` (empty by default) and
``term_type`` (``1`` PC ... ``6`` Web, ``32`` unknown; in the current pages, not in
their example).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Literal

from emulator.events import _rtc
from emulator.events.base import CallbackModel, Common, EventParams, EventSpec, Fake, row, text
from emulator.wire import WireFields, WireValue

FIELDS = (
    "room_id", "room_name", "room_seq", "user_account", "user_nickname", "session_id",
    "login_time", "user_role", "auth_level", "relogin", "user_update_seq", "callback_data",
    "term_type",
)  # fmt: skip
UserRole = Annotated[Literal["1", "2", "4"], _rtc.codes(1, 2, 4)]
AuthLevel = Annotated[Literal["0", "1", "2", "3", "4"], _rtc.codes(0, 1, 2, 3, 4)]
TermType = Annotated[
    Literal["0", "1", "2", "3", "4", "5", "6", "7", "32"], _rtc.codes(0, 1, 2, 3, 4, 5, 6, 7, 32)
]
ROLES = {"1": "host", "2": "audience", "4": "admin"}
TERM_TYPES = {
    "0": "TT_NONE", "1": "TT_PC", "2": "TT_IOS", "3": "TT_ANDROID", "4": "TT_MAC",
    "5": "TT_LINUX", "6": "TT_WEB", "7": "TT_MINI_PROGRAM", "32": "TT_UNKNOWN",
}  # fmt: skip


class RoomLoginCallback(CallbackModel):
    """A ``room_login`` callback: every documented field (all strings)."""

    event: Literal["room_login"] = "room_login"
    room_id: str
    room_name: str
    room_seq: str
    user_account: str
    user_nickname: str
    session_id: str
    login_time: str
    user_role: str
    auth_level: str
    relogin: str
    user_update_seq: str
    callback_data: str
    term_type: str

    def event_fields(self) -> WireFields:
        return {name: getattr(self, name) for name in FIELDS}


class RoomLoginParams(EventParams):
    """Scenario keys of a ``room_login`` callback; anything absent is faked."""

    room_id: _rtc.Text | None = None
    room_name: _rtc.Text | None = None
    room_seq: _rtc.DigitText | None = None  # = room_create's room_session_id
    user_account: _rtc.Text | None = None
    user_nickname: _rtc.Text | None = None  # default: the user_account
    session_id: _rtc.DigitText | None = None
    login_time: _rtc.DigitText | None = None  # Unix ms (default: within the timestamp)
    user_role: UserRole | None = None
    auth_level: AuthLevel | None = None
    relogin: Annotated[Literal["0", "1"], _rtc.codes(0, 1)] = "0"
    user_update_seq: _rtc.DigitText | None = None
    callback_data: _rtc.Text = ""
    term_type: TermType | None = None


def generate(fake: Fake, params: RoomLoginParams, common: Common) -> RoomLoginCallback:
    """A realistic ``room_login`` callback; every given parameter wins."""
    account = _rtc.given(params.user_account, lambda: _rtc.user_id(fake))
    session = _rtc.given(params.session_id, lambda: _rtc.session_id(fake))
    return RoomLoginCallback(
        appid=common.appid,
        timestamp=common.timestamp,
        nonce=common.nonce,
        task_id=session,
        room_id=_rtc.given(params.room_id, lambda: _rtc.room_id(fake)),
        room_name=_rtc.given(params.room_name, lambda: f"room#{fake.integer(1, 999)}"),
        room_seq=_rtc.given(params.room_seq, lambda: str(_rtc.room_session_id(fake))),
        user_account=account,
        user_nickname=_rtc.given(params.user_nickname, lambda: account),
        session_id=session,
        login_time=_rtc.given(params.login_time, lambda: str(_rtc.ms_in_second(fake, common))),
        user_role=_rtc.given(params.user_role, lambda: fake.choice(("1", "2"))),
        auth_level=_rtc.given(params.auth_level, lambda: "4"),
        relogin=params.relogin,
        user_update_seq=_rtc.given(params.user_update_seq, lambda: str(fake.integer(1, 40))),
        callback_data=params.callback_data,
        term_type=_rtc.given(params.term_type, lambda: fake.choice(_rtc.TERM_TYPES)),
    )


def describe(fields: Mapping[str, WireValue]) -> list[str]:
    """Readable lines for a receiver's display of a ``room_login`` callback."""
    lines = _rtc.rows(
        fields,
        {
            "room_id": "room",
            "room_seq": "room seq",
            "user_account": "user",
            "session_id": "session",
            "login_time": "login ms",
            "relogin": "relogin",
            "user_update_seq": "user seq",
        },
    )
    role = text(fields, "user_role", "(none)")
    term = text(fields, "term_type", "(none)")
    return [
        *lines,
        row("role", _rtc.coded(role, ROLES)),
        row("terminal", _rtc.coded(term, TERM_TYPES)),
    ]


def check(fields: Mapping[str, WireValue]) -> list[str]:
    """Problems a complete ``room_login`` body cannot have (``term_type`` may be absent:
    older pages do not have it)."""
    return _rtc.required(fields, FIELDS[:-1])


SPEC: EventSpec[RoomLoginParams] = EventSpec(
    name="room_login",
    title="user logged in",
    model=RoomLoginCallback,
    params=RoomLoginParams,
    generate=generate,
    describe=describe,
    check=check,
    task_field="session_id",
)
