"""Receivers' room, user and stream lists, written from ZEGO's solution pages — not from our code.

:class:`ZegoLists` follows the three flowcharts of "maintain the room list / room user list /
room stream list via callbacks" as the digest (``zego-events.md`` §8.1-§8.3) gives them,
caching what cannot be placed yet and retrying the cache after every change.
:class:`NaiveLists` is what those pages warn against: add on create/login, delete on
close/logout.

Both take a callback's decoded fields (``dict``) as a receiver gets them; numbers the docs
say to convert to integers are converted here (the wire has them as text or numbers).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

Fields = dict[str, Any]


def _int(fields: Fields, name: str) -> int:
    return int(fields[name])


@dataclass
class _Room:
    session: int
    create_time: int
    users: dict[str, tuple[int, int]] = field(default_factory=dict)  # account -> (sid, login)
    streams: dict[str, tuple[str, int, int]] = field(default_factory=dict)  # id -> (sid, seq, t)


class ZegoLists:
    """The lists kept by ZEGO's documented rules (§8.1 rooms, §8.2 users, §8.3 streams)."""

    def __init__(self) -> None:
        self.rooms: dict[str, _Room] = {}
        self.cache: list[Fields] = []

    def handle(self, fields: Fields) -> None:
        """Process one callback, then retry the cached ones until none can be placed."""
        placed = self._process(fields)
        while placed and self.cache:
            pending, self.cache = self.cache, []
            placed = False
            for item in pending:
                placed = self._process(item) or placed

    def _process(self, fields: Fields) -> bool:
        """True when the callback changed or settled something (False: it was cached)."""
        handler = {
            "room_create": self._room_create,
            "room_close": self._room_close,
            "room_login": self._login,
            "room_logout": self._logout,
            "stream_create": self._stream_create,
            "stream_close": self._stream_close,
        }.get(str(fields.get("event")))
        if handler is None:
            return True
        return handler(fields)

    def _later(self, fields: Fields) -> bool:
        self.cache.append(fields)
        return False

    # §8.1 room list
    def _room_create(self, fields: Fields) -> bool:
        room_id = fields["room_id"]
        session, created = _int(fields, "room_session_id"), _int(fields, "room_create_time")
        local = self.rooms.get(room_id)
        if local is None:
            self.rooms[room_id] = _Room(session, created)
        elif local.session == session:
            local.create_time = max(local.create_time, created)
        elif created <= local.create_time:
            return True  # out of order: ignore
        else:
            self.rooms[room_id] = _Room(session, created)  # the local room is stale
        return True

    def _room_close(self, fields: Fields) -> bool:
        room_id = fields["room_id"]
        local = self.rooms.get(room_id)
        if local is None:
            return self._later(fields)
        if local.session == _int(fields, "room_session_id"):
            del self.rooms[room_id]
            return True
        if _int(fields, "room_close_time") <= local.create_time:
            return True  # belongs to an ended session: ignore
        return self._later(fields)

    # §8.2 user list
    def _login(self, fields: Fields) -> bool:
        local = self.rooms.get(fields["room_id"])
        if local is None:
            return self._later(fields)
        login_time = _int(fields, "login_time")
        if _int(fields, "room_seq") != local.session:
            return self._later(fields) if login_time >= local.create_time else True
        account, session_id = fields["user_account"], _int(fields, "session_id")
        known = local.users.get(account)
        if known is None:
            local.users[account] = (session_id, login_time)
        elif known[0] == session_id:
            local.users[account] = (session_id, max(known[1], login_time))
        elif login_time > known[1]:
            local.users[account] = (session_id, login_time)
        return True

    def _logout(self, fields: Fields) -> bool:
        local = self.rooms.get(fields["room_id"])
        if local is None:
            return self._later(fields)
        logout_time = _int(fields, "logout_time")
        if _int(fields, "room_seq") != local.session:
            return self._later(fields) if logout_time > local.create_time else True
        account, session_id = fields["user_account"], _int(fields, "session_id")
        known = local.users.get(account)
        if known is None:
            return self._later(fields)
        if known[0] == session_id:
            del local.users[account]
            return True
        return self._later(fields) if logout_time > known[1] else True

    # §8.3 stream list
    def _stream_create(self, fields: Fields) -> bool:
        local = self.rooms.get(fields["room_id"])
        if local is None:
            return self._later(fields)
        created = _int(fields, "create_time_ms")
        if _int(fields, "room_session_id") != local.session:
            return self._later(fields) if created >= local.create_time else True
        stream_id, seq = fields["stream_id"], _int(fields, "stream_seq")
        known = local.streams.get(stream_id)
        if known is None or seq > known[1]:
            local.streams[stream_id] = (fields["stream_sid"], seq, created)
        return True

    def _stream_close(self, fields: Fields) -> bool:
        local = self.rooms.get(fields["room_id"])
        if local is None:
            return self._later(fields)
        if _int(fields, "room_session_id") != local.session:
            destroyed = _int(fields, "destroy_timemillis")
            return self._later(fields) if destroyed > local.create_time else True
        known = local.streams.get(fields["stream_id"])
        if known is None:
            return self._later(fields)  # its create has not arrived yet
        if _int(fields, "stream_seq") > known[1]:
            del local.streams[fields["stream_id"]]
        return True

    def state(self) -> dict[str, Any]:
        """The lists in ``--truth``'s shape (rooms in the order they were added)."""
        return {
            "rooms": [
                {
                    "room_id": room_id,
                    "room_session_id": room.session,
                    "users": [
                        {"user_account": account, "session_id": sid}
                        for account, (sid, _) in room.users.items()
                    ],
                    "streams": [
                        {"stream_id": stream_id, "stream_sid": sid, "stream_seq": seq}
                        for stream_id, (sid, seq, _) in room.streams.items()
                    ],
                }
                for room_id, room in self.rooms.items()
            ]
        }


class NaiveLists:
    """Add on create/login, delete on close/logout: what the solution pages warn against."""

    def __init__(self) -> None:
        self.rooms: dict[str, int] = {}
        self.users: dict[tuple[str, str], int] = {}
        self.streams: dict[tuple[str, str], str] = {}

    def handle(self, fields: Fields) -> None:
        event, room_id = fields.get("event"), fields.get("room_id", "")
        if event == "room_create":
            self.rooms[room_id] = _int(fields, "room_session_id")
        elif event == "room_close":
            self.rooms.pop(room_id, None)
        elif event == "room_login":
            self.users[(room_id, fields["user_account"])] = _int(fields, "session_id")
        elif event == "room_logout":
            self.users.pop((room_id, fields["user_account"]), None)
        elif event == "stream_create":
            self.streams[(room_id, fields["stream_id"])] = fields["stream_sid"]
        elif event == "stream_close":
            self.streams.pop((room_id, fields["stream_id"]), None)


def truth_rooms(truth: dict[str, Any]) -> set[str]:
    return {room["room_id"] for room in truth["rooms"]}


def truth_users(truth: dict[str, Any]) -> set[tuple[str, str, int]]:
    return {
        (room["room_id"], user["user_account"], user["session_id"])
        for room in truth["rooms"]
        for user in room["users"]
    }


def truth_streams(truth: dict[str, Any]) -> set[tuple[str, str, str, int]]:
    return {
        (room["room_id"], s["stream_id"], s["stream_sid"], s["stream_seq"])
        for room in truth["rooms"]
        for s in room["streams"]
    }


def canonical(state: dict[str, Any]) -> dict[str, Any]:
    """``state`` (lists or ``--truth``) with rooms, users and streams sorted: order-free."""
    rooms = [
        {
            **room,
            "users": sorted(room["users"], key=lambda u: u["user_account"]),
            "streams": sorted(room["streams"], key=lambda s: s["stream_id"]),
        }
        for room in state["rooms"]
    ]
    return {"rooms": sorted(rooms, key=lambda r: r["room_id"])}
