"""The order session callbacks are delivered in: ``order:`` of a scenario.

* ``as_listed`` — the order the changes happened in;
* ``reversed`` — the last change first;
* ``shuffled`` — a permutation drawn from the seed;
* ``zego-documented`` — each of ZEGO's three lists receives its callbacks in the order its
  "maintain the list" solution page warns about (digest ``zego-events.md`` §8), every
  other callback keeping its place:

  - room list (§8.1): a room's re-creation arrives before the create and close of the
    life before it (created c1, closed c2, created again c3 -> **c3, c1, c2**);
  - user list (§8.2): a user's login after a logout arrives right after that user's
    previous login (u1 in c1, u2 in c2, u1 out c3, u1 in again c4 -> **c1, c4, c2, c3**);
  - stream list (§8.3): a stream's close arrives after the re-publish that followed it
    (created sc1, closed sc2, created again sc3 -> **sc1, sc3, sc2**).

  A list's callbacks are moved only among the places that list's callbacks held, so the
  room, user and stream callbacks stay interleaved as they happened.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from typing import Literal

from emulator.sessions.world import SessionEvent

Order = Literal["as_listed", "reversed", "shuffled", "zego-documented"]
ORDERS: tuple[Order, ...] = ("as_listed", "reversed", "shuffled", "zego-documented")


def in_order(events: Sequence[SessionEvent], order: Order, seed: int | None) -> list[SessionEvent]:
    """``events`` (in the order they happened) in delivery ``order``."""
    if order == "reversed":
        return list(reversed(events))
    if order == "shuffled":
        shuffled = list(events)
        random.Random(f"session-order:{seed}").shuffle(shuffled)
        return shuffled
    if order == "zego-documented":
        return zego_documented(events)
    return list(events)


def zego_documented(events: Sequence[SessionEvent]) -> list[SessionEvent]:
    """Each list's callbacks in the order ZEGO's solution pages warn about (module docstring)."""
    delivered = list(events)
    rules: dict[str, Callable[[list[SessionEvent]], list[SessionEvent]]] = {
        "room": _room_list_order,
        "user": _user_list_order,
        "stream": _stream_list_order,
    }
    groups: dict[tuple[str, str, int], list[int]] = {}
    for position, event in enumerate(delivered):
        life = 0 if event.list_name == "room" else event.life  # a room list spans lives
        groups.setdefault((event.list_name, event.room_id, life), []).append(position)
    for (list_name, _, _), positions in groups.items():
        reordered = rules[list_name]([delivered[p] for p in positions])
        for position, event in zip(positions, reordered, strict=True):
            delivered[position] = event
    return delivered


def _room_list_order(events: list[SessionEvent]) -> list[SessionEvent]:
    """One room's create/close callbacks: each re-creation moves before the create of the
    life before it."""
    result: list[SessionEvent] = []
    for event in events:
        earlier = _last_index(result, None, "room_create")
        if event.event == "room_create" and earlier is not None:
            result.insert(earlier, event)
        else:
            result.append(event)
    return result


def _user_list_order(events: list[SessionEvent]) -> list[SessionEvent]:
    """One room life's login/logout callbacks: a login following the same user's logout
    moves right after that user's previous login."""
    result: list[SessionEvent] = []
    for event in events:
        last = _last_index(result, event.key)
        came_back = (
            event.event == "room_login" and last is not None and result[last].event == "room_logout"
        )
        login = _last_index(result, event.key, "room_login")
        if came_back and login is not None:
            result.insert(login + 1, event)
        else:
            result.append(event)
    return result


def _stream_list_order(events: list[SessionEvent]) -> list[SessionEvent]:
    """One room life's stream callbacks: a close followed by a re-publish of the same
    stream moves right after that re-publish."""
    result: list[SessionEvent] = []
    for event in events:
        last = _last_index(result, event.key)
        reopened = event.event == "stream_create" and last is not None
        if reopened and last is not None and result[last].event == "stream_close":
            closed = result.pop(last)
            result.extend((event, closed))
            continue
        result.append(event)
    return result


def _last_index(events: Sequence[SessionEvent], key: str | None, name: str = "") -> int | None:
    """The position of the last event of ``key`` (any key: None) named ``name`` (any: "")."""
    for index in range(len(events) - 1, -1, -1):
        event = events[index]
        if (key is None or event.key == key) and (not name or event.event == name):
            return index
    return None
