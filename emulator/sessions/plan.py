"""``sessions:`` entries -> the room/user/stream callbacks of their lives, in the order they happen.

    plan = plan_sessions([SessionEntry(users=2, republish=1, end="logout")], seed=7,
                         start_ms=1_700_000_000_000)
    [event.event for event in plan.events]
    # room_create, room_login, room_login, stream_create, stream_create,
    # stream_close, stream_create, stream_close, stream_create,       (the re-publishes)
    # stream_close, room_logout, stream_close, room_logout, room_close  (end: logout)

Each entry is one stretch of a room's life, played on one :class:`~.world.RoomWorld`:
its users log in (the first login of a closed room creates a new life), each publishes
``streams_per_user`` streams, every stream stops and is published again ``republish``
times, then ``end`` says how the entry's users leave (or, for ``close_room``, how the
whole room is cleared). Entries run one after another; entries naming the same
``room_id`` continue that room (a new life when the one before emptied it).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from emulator.sessions.world import RoomWorld, SessionEvent

End = Literal[
    "open",
    "logout",
    "close_room",
    "kickout",
    "heartbeat_timeout",
    "disconnect",
    "relogin",
    "token_expired",
]
MAX_SESSION_EVENTS = 100_000  # callbacks one scenario's sessions may make


class SessionEntry(BaseModel):
    """``sessions:`` — one stretch of a room's life; everything not given is faked."""

    model_config = ConfigDict(extra="forbid")

    room_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=127,
        description="the room (default: a new faked id); entries naming the same room continue it",
    )
    users: int = Field(default=1, ge=1, le=1000, description="users who log in")
    streams_per_user: int = Field(
        default=1, ge=0, le=100, description="streams each user publishes"
    )
    republish: int = Field(
        default=0,
        ge=0,
        le=1000,
        description="times each stream stops and is published again (same stream_id)",
    )
    end: End = Field(
        default="open",
        description="how it ends: open (everyone stays), logout, close_room (the CloseRoom "
        "API), kickout (KickoutUser), heartbeat_timeout, disconnect, relogin (each user logs "
        "in again), token_expired",
    )
    room_close_callback: bool = Field(
        default=False,
        description="end: close_room only: CloseRoom's RoomCloseCallback (room_close is sent "
        "only when true)",
    )

    def event_count(self) -> int:
        """At most how many callbacks this entry makes (to bound a scenario): every close,
        logout and stream_close ends one create, login or stream_create."""
        logins = self.users * (2 if self.end == "relogin" else 1)
        streams = self.users * self.streams_per_user * (1 + self.republish)
        return 2 * (1 + logins + streams)


@dataclass(frozen=True)
class SessionPlan:
    """The world after every entry ran, and the callbacks it made, in the order they happened."""

    world: RoomWorld
    events: list[SessionEvent]


def plan_sessions(
    entries: list[SessionEntry],
    seed: int | random.Random | None,
    start_ms: int,
    world: RoomWorld | None = None,
) -> SessionPlan:
    """Play ``entries`` on ``world`` (default: a new one drawing from ``seed`` — a number, a
    ``random.Random``, or None for fresh randomness — its clock at ``start_ms``); the same
    seed and start give the same plan."""
    if world is None:
        if isinstance(seed, random.Random):
            rng = seed
        else:
            rng = random.Random(f"sessions:{seed}") if seed is not None else random.Random()
        world = RoomWorld(rng, start_ms)
    first = len(world.events)
    for entry in entries:
        play_entry(world, entry)
    return SessionPlan(world, world.events[first:])


def play_entry(world: RoomWorld, entry: SessionEntry) -> list[str]:
    """One entry's logins, publishes, re-publishes and end; the accounts that logged in."""
    room_id = entry.room_id or world.new_room_id()
    accounts = [world.new_account() for _ in range(entry.users)]
    for account in accounts:
        world.login(room_id, account)
    streams: list[tuple[str, str]] = []
    for account in accounts:
        for number in range(1, entry.streams_per_user + 1):
            stream_id = f"{room_id}_{account}_{number}"
            world.publish(room_id, account, stream_id)
            streams.append((account, stream_id))
    for _ in range(entry.republish):
        for account, stream_id in streams:
            world.unpublish(room_id, stream_id)
            world.publish(room_id, account, stream_id)
    _end(world, entry, room_id, accounts)
    return accounts


def _end(world: RoomWorld, entry: SessionEntry, room_id: str, accounts: list[str]) -> None:
    if entry.end == "open":
        return
    if entry.end == "close_room":
        world.close_room(room_id, entry.room_close_callback)
    elif entry.end == "kickout":
        world.kickout(room_id, accounts)
    elif entry.end == "relogin":
        for account in accounts:
            world.relogin(room_id, account)
    else:
        for account in accounts:
            world.leave(room_id, account, entry.end)
