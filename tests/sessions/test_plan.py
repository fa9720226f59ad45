"""The session planner: coherent ids, counters, times and close codes (digest §2, §3, §9)."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from emulator.sessions import (
    RoomWorld,
    SessionEntry,
    SessionEvent,
    SessionStateError,
    plan_sessions,
    truth,
)

START_MS = 1_700_000_000_000


def plan(*entries: dict[str, Any], seed: int = 7) -> list[SessionEvent]:
    return plan_sessions([SessionEntry(**e) for e in entries], seed, START_MS).events


def names(events: list[SessionEvent]) -> list[str]:
    return [event.event for event in events]


def test_one_user_one_stream_republished_then_logging_out_makes_the_happy_path():
    events = plan({"users": 1, "republish": 1, "end": "logout"})
    assert names(events) == [
        "room_create",
        "room_login",
        "stream_create",
        "stream_close",
        "stream_create",
        "stream_close",
        "room_logout",
        "room_close",
    ]
    assert [e.fields.get("type") for e in events if e.event == "stream_close"] == ["0", "0"]
    assert events[-2].fields["reason"] == "0"
    assert events[-1].fields["close_reason"] == 0


def test_room_session_id_is_one_per_life_and_equals_room_seq_everywhere():
    events = plan({"room_id": "r1", "users": 2, "end": "logout"}, {"room_id": "r1", "users": 1})
    creates = [e for e in events if e.event == "room_create"]
    assert len(creates) == 2
    first, second = (c.fields["room_session_id"] for c in creates)
    assert isinstance(first, int) and first != second and first > 2**53
    for event in events:
        life = event.life
        if event.event in ("room_create", "room_close"):
            assert event.fields["room_session_id"] == life
        elif event.event in ("room_login", "room_logout"):
            assert event.fields["room_seq"] == str(life)
        else:
            assert event.fields["room_session_id"] == str(life)
    lives = [e.life for e in events]
    assert lives == sorted(lives, key=lambda life: life != first)  # first life, then second


def test_each_login_gets_its_own_session_id_and_user_update_seq_counts_every_change():
    events = plan({"users": 3, "streams_per_user": 0, "end": "relogin"})
    logins = [e for e in events if e.event == "room_login"]
    assert len(logins) == 6
    assert len({e.fields["session_id"] for e in logins}) == 6
    changes = [e for e in events if e.event in ("room_login", "room_logout")]
    assert [int(str(e.fields["user_update_seq"])) for e in changes] == list(range(1, 10))
    relogins = [e.fields["relogin"] for e in logins]
    assert relogins == ["0", "0", "0", "1", "1", "1"]
    logouts = [e for e in events if e.event == "room_logout"]
    for logout in logouts:  # each logout names the session that logged in before
        login = next(e for e in logins if e.fields["session_id"] == logout.fields["session_id"])
        assert logout.fields["login_time"] == login.fields["login_time"]
        assert logout.fields["reason"] == "3"
    assert "room_close" not in names(events)


def test_stream_seq_grows_over_each_streams_life_close_above_create_republish_above_close():
    events = plan({"users": 2, "streams_per_user": 2, "republish": 3, "end": "logout"})
    by_stream: dict[str, list[SessionEvent]] = {}
    for event in events:
        if event.event.startswith("stream_"):
            by_stream.setdefault(event.key, []).append(event)
    assert len(by_stream) == 4
    for stream_events in by_stream.values():
        seqs = [int(str(e.fields["stream_seq"])) for e in stream_events]
        assert names(stream_events) == ["stream_create", "stream_close"] * 4
        assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
        sids = [e.fields["stream_sid"] for e in stream_events]
        assert sids[0] == sids[1] and sids[1] != sids[2]  # a re-publish is a new stream
        for create, close in zip(stream_events[::2], stream_events[1::2], strict=True):
            assert close.fields["create_time_ms"] == create.fields["create_time_ms"]
            assert create.fields["recreate"] == "0"


def test_millisecond_times_move_forward_and_agree_with_each_callbacks_timestamp():
    events = plan({"users": 2, "republish": 2, "end": "kickout"})
    times = [e.at_ms for e in events]
    assert times == sorted(times)
    own_time = {
        "room_create": "room_create_time",
        "room_close": "room_close_time",
        "room_login": "login_time",
        "room_logout": "logout_time",
        "stream_create": "create_time_ms",
        "stream_close": "destroy_timemillis",
    }
    for event in events:
        assert int(str(event.fields[own_time[event.event]])) == event.at_ms
        assert event.timestamp == event.at_ms // 1000


@pytest.mark.parametrize(
    ("end", "stream_type", "reason", "close_reason"),
    [
        ("logout", "0", "0", 0),
        ("heartbeat_timeout", "1", "1", 1),
        ("disconnect", "4", "2", 2),
        ("kickout", "3", "3", 3),
        ("token_expired", "4", "4", 2),
    ],
)
def test_each_end_carries_its_documented_codes(end, stream_type, reason, close_reason):
    events = plan({"users": 2, "end": end})
    tail = events[-5:]
    assert names(tail) == [
        "stream_close",
        "room_logout",
        "stream_close",
        "room_logout",
        "room_close",
    ]
    assert {e.fields["type"] for e in tail if e.event == "stream_close"} == {stream_type}
    assert {e.fields["reason"] for e in tail if e.event == "room_logout"} == {reason}
    assert tail[-1].fields["close_reason"] == close_reason


def test_close_room_logs_everyone_out_and_sends_room_close_only_when_asked():
    without = plan({"users": 2, "end": "close_room"})
    assert names(without)[-4:] == ["stream_close", "stream_close", "room_logout", "room_logout"]
    assert {e.fields["type"] for e in without if e.event == "stream_close"} == {"5"}
    with_callback = plan({"users": 2, "end": "close_room", "room_close_callback": True})
    assert names(with_callback)[-1] == "room_close"
    assert with_callback[-1].fields["close_reason"] == 0


def test_a_room_closed_without_room_close_stays_in_the_truth_empty_until_created_again():
    def final(*entries: SessionEntry) -> Any:
        return truth(plan_sessions(list(entries), 2, START_MS).world)

    cleared = SessionEntry(room_id="r", users=2, end="close_room")
    [room] = final(cleared)["rooms"]
    assert (room["room_id"], room["users"], room["streams"]) == ("r", [], [])
    announced = SessionEntry(room_id="r", users=2, end="close_room", room_close_callback=True)
    assert final(announced) == {"rooms": []}
    again = final(cleared, SessionEntry(room_id="r", users=1))
    assert len(again["rooms"]) == 1 and len(again["rooms"][0]["users"]) == 1
    assert again["rooms"][0]["room_session_id"] != room["room_session_id"]


def test_an_open_session_is_the_truth_and_a_closed_room_is_not_in_it():
    result = plan_sessions(
        [
            SessionEntry(room_id="gone", users=1, end="logout"),
            SessionEntry(room_id="live", users=2, streams_per_user=1, republish=1),
        ],
        3,
        START_MS,
    )
    state = truth(result.world)
    assert [room["room_id"] for room in state["rooms"]] == ["live"]
    room = state["rooms"][0]
    logins = [e for e in result.events if e.event == "room_login" and e.room_id == "live"]
    assert room["users"] == [
        {"user_account": e.fields["user_account"], "session_id": int(str(e.fields["session_id"]))}
        for e in logins
    ]
    last_creates = {
        e.key: e for e in result.events if e.event == "stream_create" and e.room_id == "live"
    }
    assert room["streams"] == [
        {
            "stream_id": e.key,
            "stream_sid": e.fields["stream_sid"],
            "stream_seq": int(str(e.fields["stream_seq"])),
        }
        for e in last_creates.values()
    ]
    assert room["room_session_id"] == last_creates[room["streams"][0]["stream_id"]].life


def test_the_same_seed_gives_the_same_plan_and_another_seed_another():
    entry = {"users": 2, "republish": 1, "end": "logout"}
    assert plan(entry, seed=5) == plan(entry, seed=5)
    first, other = plan(entry, seed=5), plan(entry, seed=6)
    assert [e.fields for e in first] != [e.fields for e in other]


def test_a_change_the_world_cannot_make_is_refused():
    world = RoomWorld(__import__("random").Random(1), START_MS)
    with pytest.raises(SessionStateError, match="does not exist"):
        world.close_room("nowhere")
    world.login("r", "u1")
    with pytest.raises(SessionStateError, match="not in room"):
        world.kickout("r", ["u2"])
    with pytest.raises(SessionStateError, match="no stream"):
        world.delete_stream("r", "s")


entries = st.builds(
    SessionEntry,
    room_id=st.sampled_from([None, "a", "b"]),
    users=st.integers(1, 3),
    streams_per_user=st.integers(0, 2),
    republish=st.integers(0, 2),
    end=st.sampled_from(
        [
            "open",
            "logout",
            "close_room",
            "kickout",
            "heartbeat_timeout",
            "disconnect",
            "relogin",
            "token_expired",
        ]
    ),
    room_close_callback=st.booleans(),
)


@settings(max_examples=60, deadline=None)
@given(st.lists(entries, min_size=1, max_size=4), st.integers(0, 1000))
def test_any_sessions_keep_every_documented_invariant(session_entries, seed):
    events = plan_sessions(session_entries, seed, START_MS).events
    assert len(events) <= sum(e.event_count() for e in session_entries)
    times = [e.at_ms for e in events]
    assert times == sorted(times)
    last_seq: dict[tuple[str, str], int] = {}
    update_seq: dict[int, int] = {}
    alive: set[tuple[str, str]] = set()
    for event in events:
        if event.event.startswith("stream_"):
            key = (event.room_id, event.key)
            seq = int(str(event.fields["stream_seq"]))
            assert seq > last_seq.get(key, -1)
            last_seq[key] = seq
            (alive.add if event.event == "stream_create" else alive.discard)(key)
        if event.event in ("room_login", "room_logout"):
            seq = int(str(event.fields["user_update_seq"]))
            assert seq == update_seq.get(event.life, 0) + 1
            update_seq[event.life] = seq
    sessions = Counter(e.fields["session_id"] for e in events if e.event == "room_login")
    assert all(count == 1 for count in sessions.values())
