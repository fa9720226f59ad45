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


class _Node:
    """An event placed in a list's delivery order, with events delivered right before and
    right after it (a tree, flattened at the end: linear time however many moves)."""

    __slots__ = ("after", "before", "event")

    def __init__(self, event: SessionEvent) -> None:
        self.event = event
        self.before: list[_Node] = []
        self.after: list[_Node] = []


def _flatten(roots: list[_Node]) -> list[SessionEvent]:
    """The events in order: each node's ``before``, the node, its ``after`` (no recursion)."""
    result: list[SessionEvent] = []
    stack: list[_Node | SessionEvent] = list(reversed(roots))
    while stack:
        item = stack.pop()
        if isinstance(item, SessionEvent):
            result.append(item)
            continue
        stack.extend(reversed(item.after))
        stack.append(item.event)
        stack.extend(reversed(item.before))
    return result


def _room_list_order(events: list[SessionEvent]) -> list[SessionEvent]:
    """One room's create/close callbacks: each re-creation moves right before the create
    of the life before it."""
    roots: list[_Node] = []
    previous: _Node | None = None  # the last room_create, in the order they happened
    for event in events:
        node = _Node(event)
        if event.event == "room_create" and previous is not None:
            previous.before.insert(0, node)
        else:
            roots.append(node)
        if event.event == "room_create":
            previous = node
    return _flatten(roots)


def _user_list_order(events: list[SessionEvent]) -> list[SessionEvent]:
    """One room life's login/logout callbacks: a login following the same user's logout
    moves right after that user's previous login."""
    roots: list[_Node] = []
    last_event: dict[str, str] = {}  # user -> the name of its last callback
    last_login: dict[str, _Node] = {}
    for event in events:
        node = _Node(event)
        login = last_login.get(event.key)
        came_back = event.event == "room_login" and last_event.get(event.key) == "room_logout"
        if came_back and login is not None:
            login.after.insert(0, node)
        else:
            roots.append(node)
        last_event[event.key] = event.event
        if event.event == "room_login":
            last_login[event.key] = node
    return _flatten(roots)


def _stream_list_order(events: list[SessionEvent]) -> list[SessionEvent]:
    """One room life's stream callbacks: a close followed by a re-publish of the same
    stream moves right after that re-publish."""
    republished: set[int] = set()  # positions of closes a create of their stream follows
    created_later: set[str] = set()
    for position in range(len(events) - 1, -1, -1):
        event = events[position]
        if event.event == "stream_create":
            created_later.add(event.key)
        elif event.key in created_later:
            republished.add(position)
            created_later.discard(event.key)
    result: list[SessionEvent] = []
    held: dict[str, SessionEvent] = {}  # stream -> its close, waiting for the re-publish
    for position, event in enumerate(events):
        if position in republished:
            held[event.key] = event
            continue
        result.append(event)
        if event.event == "stream_create" and event.key in held:
            result.append(held.pop(event.key))
    return result
