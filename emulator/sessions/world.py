"""Rooms, users and streams as ZEGO's servers keep them, and the callbacks each change makes.

    world = RoomWorld(random.Random(7), start_ms=1_700_000_000_000)
    world.login("rid_1", "888120154")        # room_create, room_login
    world.publish("rid_1", "888120154", "s1") # stream_create
    world.leave("rid_1", "888120154", "logout")  # stream_close, room_logout, room_close
    world.events                              # the callbacks, in the order they happened

Pure and deterministic: the same ``rng`` seed and ``start_ms`` give the same ids and times.
Every change appends :class:`SessionEvent` values whose ids and counters agree the way
ZEGO's docs say they do (digest ``zego-events.md`` §2, §3, §9):

* one ``room_session_id`` per room life (a big 64-bit number), the same value as
  ``room_seq`` in room_login/room_logout; a room is created by its first login and closed
  when its last user leaves;
* one ``session_id`` per user login; ``user_update_seq`` +1 on every login and logout of
  the room life;
* ``stream_seq`` +1 on every stream change of the room (it never restarts, so it grows
  over each stream's whole life: a close's seq > its create's, a re-publish's > the close
  before it);
* millisecond times only move forward, and each callback's ``timestamp`` (seconds) is the
  second its event happened in (stream_create's ``create_time`` too: the event module
  derives it from ``create_time_ms``).

How a user leaves decides the codes (:data:`LEAVE_CODES`). ZEGO documents most of them;
three are inferred and marked so: CloseRoom's stream_close type (5, "room cleared") and
room_logout reason (3, "kicked by the backend API" in the older pages), and token expiry's
stream_close type and room_close reason (the connection ends as in a drop: 4 and 2).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Literal

FieldValue = str | int
Fields = dict[str, FieldValue]
ListName = Literal["room", "user", "stream"]
Leave = Literal[
    "logout", "heartbeat_timeout", "disconnect", "kickout", "close_room", "relogin", "token_expired"
]


@dataclass(frozen=True)
class LeaveCodes:
    """The codes one way of leaving puts in stream_close, room_logout and room_close."""

    stream_close_type: str
    logout_reason: str
    room_close_reason: int  # when the room empties this way


LEAVE_CODES: dict[Leave, LeaveCodes] = {
    "logout": LeaveCodes("0", "0", 0),  # stopPublishingStream, logoutRoom
    "heartbeat_timeout": LeaveCodes("1", "1", 1),
    "disconnect": LeaveCodes("4", "2", 2),  # TCP dropped
    "kickout": LeaveCodes("3", "3", 3),  # KickoutUser
    "close_room": LeaveCodes("5", "3", 0),  # CloseRoom [type and reason inferred]
    "relogin": LeaveCodes("2", "3", 0),  # logged in again: the room stays open
    "token_expired": LeaveCodes("4", "4", 2),  # [type and close reason inferred]
}
DELETE_STREAM_TYPE = "100"  # stream_close type of the DeleteStream API
TERM_TYPES = ("1", "2", "3", "4", "6")  # PC, iOS, Android, Mac, Web
EVENT_LISTS: dict[str, ListName] = {
    "room_create": "room",
    "room_close": "room",
    "room_login": "user",
    "room_logout": "user",
    "stream_create": "stream",
    "stream_close": "stream",
}


@dataclass(frozen=True)
class SessionEvent:
    """One callback a session change makes: its event, its own wire fields, when it happened.

    ``fields`` hold the event's fields with ZEGO's documented types (room_create's
    ``room_session_id`` a JSON number, the stream events' a string, ...); the common
    ``appid``/``nonce``/``signature`` are the factory's, ``timestamp`` is :attr:`timestamp`.
    """

    event: str
    fields: Fields
    at_ms: int
    room_id: str
    life: int  # the room_session_id of the room life it belongs to
    key: str  # what its list is keyed by: room_id, user_account or stream_id

    @property
    def timestamp(self) -> int:
        """The callback's ``timestamp``: Unix seconds of the event."""
        return self.at_ms // 1000

    @property
    def list_name(self) -> ListName:
        """Which of ZEGO's three lists (room, user, stream) the event updates."""
        return EVENT_LISTS[self.event]


@dataclass
class UserSession:
    """A user logged in to a room life."""

    account: str
    nickname: str
    session_id: str
    login_ms: int
    role: str
    term_type: str


@dataclass
class Stream:
    """A stream being published in a room life."""

    stream_id: str
    stream_sid: str
    stream_seq: int  # the seq of its stream_create
    create_ms: int
    account: str
    user_name: str


@dataclass
class RoomLife:
    """One life of a room: from its creation by the first login to its close."""

    room_session_id: int
    create_ms: int
    creator: str
    user_update_seq: int = 0
    users: dict[str, UserSession] = field(default_factory=dict)
    streams: dict[str, Stream] = field(default_factory=dict)


@dataclass
class Room:
    """A room id and what lives in it now (``life`` None: closed or never opened)."""

    room_id: str
    room_name: str
    stream_seq: int  # the room's stream-list change counter
    life: RoomLife | None = None
    lives: int = 0
    # a life CloseRoom ended without room_close: the callbacks never said it closed
    unannounced: RoomLife | None = None


class SessionStateError(ValueError):
    """A change the world cannot make (no such room, user or stream)."""


class RoomWorld:
    """The rooms of one app and the callbacks their changes make (see the module docstring)."""

    def __init__(self, rng: random.Random, start_ms: int) -> None:
        self.rng = rng
        self.now_ms = start_ms
        self.rooms: dict[str, Room] = {}
        self.events: list[SessionEvent] = []
        self._ids: set[str] = set()

    # --- time and ids ---------------------------------------------------------------------

    def tick(self, low: int = 20, high: int = 400) -> int:
        """Let ``low``..``high`` ms pass (seeded); the new time in Unix ms."""
        self.now_ms += self.rng.randint(low, high)
        return self.now_ms

    def unique(self, make: str, digits: int) -> str:
        """``make`` followed by ``digits`` random digits, never handed out before."""
        while True:
            value = f"{make}{self.rng.randrange(10 ** (digits - 1), 10**digits)}"
            if value not in self._ids:
                self._ids.add(value)
                return value

    def new_account(self) -> str:
        """A fresh user account, nine digits as in ZEGO's examples."""
        return self.unique("", 9)

    def new_room_id(self) -> str:
        """A fresh room id in the examples' ``rid_1242649`` form."""
        return self.unique("rid_", 7)

    def room(self, room_id: str) -> Room:
        """The room ``room_id`` (known from now on, open or not)."""
        room = self.rooms.get(room_id)
        if room is None:
            name = f"room#{self.rng.randint(100, 999)}"
            room = self.rooms[room_id] = Room(room_id, name, self.rng.randint(1, 900))
        return room

    def open_life(self, room_id: str) -> RoomLife:
        """The room's current life; SessionStateError when it is not open."""
        life = self.rooms[room_id].life if room_id in self.rooms else None
        if life is None:
            raise SessionStateError(f"room {room_id!r} does not exist or is closed")
        return life

    def _emit(self, event: str, room_id: str, life: RoomLife, key: str, fields: Fields) -> None:
        self.events.append(
            SessionEvent(event, fields, self.now_ms, room_id, life.room_session_id, key)
        )

    # --- users ------------------------------------------------------------------------------

    def login(self, room_id: str, account: str, nickname: str | None = None) -> UserSession:
        """``account`` logs in (creating the room when it has no life); relogs if already in."""
        room = self.room(room_id)
        if room.life is not None and account in room.life.users:
            return self.relogin(room_id, account)
        self.tick()
        life = room.life
        if life is None:
            life = room.life = self._create(room, account)
        return self._login(room, life, account, nickname or account, relogin=False)

    def _create(self, room: Room, creator: str) -> RoomLife:
        life = RoomLife(self.rng.randrange(2**53, 2**63), self.now_ms, creator)
        room.lives += 1
        room.unannounced = None
        self._emit(
            "room_create",
            room.room_id,
            life,
            room.room_id,
            {
                "room_id": room.room_id,
                "room_session_id": life.room_session_id,
                "room_create_time": str(self.now_ms),
                "id_name": creator,
            },
        )
        return life

    def _login(
        self, room: Room, life: RoomLife, account: str, nickname: str, relogin: bool
    ) -> UserSession:
        user = UserSession(
            account=account,
            nickname=nickname,
            session_id=self.unique("", 18),
            login_ms=self.now_ms,
            role="1" if not life.users and account == life.creator else "2",
            term_type=self.rng.choice(TERM_TYPES),
        )
        life.users[account] = user
        life.user_update_seq += 1
        self._emit(
            "room_login",
            room.room_id,
            life,
            account,
            {
                "room_id": room.room_id,
                "room_name": room.room_name,
                "room_seq": str(life.room_session_id),
                "user_account": account,
                "user_nickname": nickname,
                "session_id": user.session_id,
                "login_time": str(user.login_ms),
                "user_role": user.role,
                "auth_level": "4",
                "relogin": "1" if relogin else "0",
                "user_update_seq": str(life.user_update_seq),
                "callback_data": "",
                "term_type": user.term_type,
            },
        )
        return user

    def leave(self, room_id: str, account: str, how: Leave) -> None:
        """``account`` leaves ``how``: its streams close, it logs out, an empty room closes."""
        life = self.open_life(room_id)
        user = life.users.get(account)
        if user is None:
            raise SessionStateError(f"user {account!r} is not in room {room_id!r}")
        codes = LEAVE_CODES[how]
        self.tick()
        for stream in [s for s in life.streams.values() if s.account == account]:
            self._close_stream(room_id, life, stream, codes.stream_close_type)
        self._logout(room_id, life, user, codes.logout_reason)
        if not life.users and how != "relogin":
            self._close(room_id, codes.room_close_reason)

    def relogin(self, room_id: str, account: str) -> UserSession:
        """``account`` logs in again while in the room: the old session's streams close
        (type 2), it logs out (reason 3), and a new session logs in with ``relogin`` 1."""
        life = self.open_life(room_id)
        old = life.users.get(account)
        if old is None:
            raise SessionStateError(f"user {account!r} is not in room {room_id!r}")
        self.leave(room_id, account, "relogin")
        self.tick(1, 5)
        return self._login(self.rooms[room_id], life, account, old.nickname, relogin=True)

    def kickout(self, room_id: str, accounts: list[str]) -> None:
        """The KickoutUser API: each user's streams close and it logs out (codes 3); the
        room closes with close_reason 3 when the last one goes."""
        for account in accounts:
            self.leave(room_id, account, "kickout")

    def close_room(self, room_id: str, room_close_callback: bool = False) -> None:
        """The CloseRoom API: every stream closes, every user logs out; ``room_close``
        only when ``room_close_callback`` (the API's RoomCloseCallback, default false)."""
        life = self.open_life(room_id)
        codes = LEAVE_CODES["close_room"]
        self.tick()
        for stream in list(life.streams.values()):
            self._close_stream(room_id, life, stream, codes.stream_close_type)
        for user in list(life.users.values()):
            self._logout(room_id, life, user, codes.logout_reason)
        if room_close_callback:
            self._close(room_id, codes.room_close_reason)
        else:
            room = self.rooms[room_id]
            room.life, room.unannounced = None, life

    def _logout(self, room_id: str, life: RoomLife, user: UserSession, reason: str) -> None:
        self.tick(1, 5)
        del life.users[user.account]
        life.user_update_seq += 1
        self._emit(
            "room_logout",
            room_id,
            life,
            user.account,
            {
                "room_id": room_id,
                "room_seq": str(life.room_session_id),
                "user_account": user.account,
                "user_nickname": user.nickname,
                "session_id": user.session_id,
                "login_time": str(user.login_ms),
                "logout_time": str(self.now_ms),
                "reason": reason,
                "user_role": user.role,
                "user_update_seq": str(life.user_update_seq),
            },
        )

    def _close(self, room_id: str, close_reason: int) -> None:
        room = self.rooms[room_id]
        life = room.life
        assert life is not None
        self.tick(1, 5)
        self._emit(
            "room_close",
            room_id,
            life,
            room_id,
            {
                "room_id": room_id,
                "room_session_id": life.room_session_id,
                "close_reason": close_reason,
                "room_close_time": str(self.now_ms),
            },
        )
        room.life = None

    # --- streams ----------------------------------------------------------------------------

    def publish(self, room_id: str, account: str, stream_id: str) -> Stream:
        """``account`` publishes ``stream_id`` (a new stream: new stream_sid, recreate 0)."""
        life = self.open_life(room_id)
        user = life.users.get(account)
        if user is None:
            raise SessionStateError(f"user {account!r} is not in room {room_id!r}")
        if stream_id in life.streams:
            raise SessionStateError(f"stream {stream_id!r} is already published")
        self.tick()
        room = self.rooms[room_id]
        room.stream_seq += 1
        stream = Stream(
            stream_id=stream_id,
            stream_sid=f"s-{self.unique('', 27)}",
            stream_seq=room.stream_seq,
            create_ms=self.now_ms,
            account=account,
            user_name=user.nickname,
        )
        life.streams[stream_id] = stream
        self._emit(
            "stream_create",
            room_id,
            life,
            stream_id,
            {
                "room_id": room_id,
                "room_session_id": str(life.room_session_id),
                "user_id": account,
                "user_name": user.nickname,
                "stream_id": stream_id,
                "stream_alias": stream_id,
                "stream_sid": stream.stream_sid,
                "stream_seq": str(stream.stream_seq),
                "create_time_ms": str(self.now_ms),
                "recreate": "0",
                "publish_id": account,
                "publish_name": user.nickname,
            },
        )
        return stream

    def unpublish(self, room_id: str, stream_id: str, close_type: str = "0") -> None:
        """``stream_id`` stops (``close_type`` 0: stopPublishingStream; 100: DeleteStream)."""
        life = self.open_life(room_id)
        stream = life.streams.get(stream_id)
        if stream is None:
            raise SessionStateError(f"no stream {stream_id!r} in room {room_id!r}")
        self.tick()
        self._close_stream(room_id, life, stream, close_type)

    def delete_stream(self, room_id: str, stream_id: str) -> None:
        """The DeleteStream API: stream_close type 100; the user stays in the room."""
        self.unpublish(room_id, stream_id, DELETE_STREAM_TYPE)

    def _close_stream(self, room_id: str, life: RoomLife, stream: Stream, close_type: str) -> None:
        self.tick(1, 5)
        room = self.rooms[room_id]
        room.stream_seq += 1
        del life.streams[stream.stream_id]
        self._emit(
            "stream_close",
            room_id,
            life,
            stream.stream_id,
            {
                "room_id": room_id,
                "room_session_id": str(life.room_session_id),
                "user_id": stream.account,
                "user_name": stream.user_name,
                "type": close_type,
                "stream_alias": stream.stream_id,
                "stream_id": stream.stream_id,
                "stream_sid": stream.stream_sid,
                "stream_seq": str(room.stream_seq),
                "create_time_ms": str(stream.create_ms),
                "destroy_timemillis": str(self.now_ms),
            },
        )
