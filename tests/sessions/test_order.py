"""Delivery orders of session callbacks, ZEGO's documented reorderings first (digest §8)."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from zego_lists import NaiveLists, ZegoLists, canonical

from emulator.sessions import (
    SessionEntry,
    SessionEvent,
    SessionPlan,
    in_order,
    plan_sessions,
    truth,
)

START_MS = 1_700_000_000_000

ROOM_LIST = [
    SessionEntry(room_id="r1", users=1, streams_per_user=0, end="logout"),
    SessionEntry(room_id="r1", users=1, streams_per_user=0),
]
USER_LIST = [SessionEntry(room_id="r1", users=2, streams_per_user=0, end="relogin")]
STREAM_LIST = [SessionEntry(room_id="r1", users=1, streams_per_user=1, republish=1)]


def planned(entries: list[SessionEntry], seed: int = 1) -> SessionPlan:
    return plan_sessions(entries, seed, START_MS)


def of_list(events: list[SessionEvent], list_name: str) -> list[SessionEvent]:
    return [event for event in events if event.list_name == list_name]


def received(events: list[SessionEvent]) -> list[dict[str, Any]]:
    """What a receiver decodes: the event name and its own fields."""
    return [{"event": event.event, **event.fields} for event in events]


def test_room_list_arrives_c3_c1_c2():
    events = planned(ROOM_LIST).events
    c1, c2, c3 = of_list(events, "room")
    assert (c1.event, c2.event, c3.event) == ("room_create", "room_close", "room_create")
    assert of_list(in_order(events, "zego-documented", 1), "room") == [c3, c1, c2]


def test_user_list_arrives_c1_c4_c2_c3():
    events = planned(USER_LIST).events
    c1, c2, c3, c4, c5, c6 = of_list(events, "user")
    assert [e.event for e in (c1, c2, c3, c4)] == [
        "room_login",
        "room_login",
        "room_logout",
        "room_login",
    ]
    assert c1.key == c3.key == c4.key != c2.key
    delivered = of_list(in_order(events, "zego-documented", 1), "user")
    assert delivered[:4] == [c1, c4, c2, c6]  # both users' re-logins come right after
    assert delivered[4:] == [c3, c5]  # their first logins, the logouts last


def test_stream_list_arrives_sc1_sc3_sc2():
    events = planned(STREAM_LIST).events
    sc1, sc2, sc3 = of_list(events, "stream")
    assert [e.event for e in (sc1, sc2, sc3)] == ["stream_create", "stream_close", "stream_create"]
    assert of_list(in_order(events, "zego-documented", 1), "stream") == [sc1, sc3, sc2]


def test_reordering_moves_each_lists_callbacks_only_among_that_lists_places():
    events = planned([*ROOM_LIST, SessionEntry(users=2, republish=2, end="relogin")]).events
    delivered = in_order(events, "zego-documented", 1)
    assert sorted(delivered, key=events.index) == events
    assert [e.list_name for e in delivered] == [e.list_name for e in events]


def test_documented_orders_empty_a_naive_list_and_zegos_rules_keep_the_truth():
    for entries, list_name in (
        (ROOM_LIST, "rooms"),
        (USER_LIST, "users"),
        (STREAM_LIST, "streams"),
    ):
        result = planned(entries)
        naive, ruled = NaiveLists(), ZegoLists()
        for fields in received(in_order(result.events, "zego-documented", 1)):
            naive.handle(fields)
            ruled.handle(fields)
        assert getattr(naive, list_name) == {}, list_name
        assert canonical(ruled.state()) == canonical(truth(result.world)), list_name


def test_in_the_order_they_happened_the_naive_list_is_right_too():
    for entries in (ROOM_LIST, USER_LIST, STREAM_LIST):
        result = planned(entries)
        naive = NaiveLists()
        for fields in received(result.events):
            naive.handle(fields)
        state = truth(result.world)
        assert set(naive.streams) == {
            ("r1", s["stream_id"]) for room in state["rooms"] for s in room["streams"]
        }
        assert set(naive.users) == {
            ("r1", u["user_account"]) for room in state["rooms"] for u in room["users"]
        }


def test_reversed_and_shuffled_are_permutations_and_shuffled_follows_the_seed():
    events = planned([SessionEntry(users=3, republish=2, end="logout")]).events
    assert in_order(events, "reversed", None) == events[::-1]
    assert in_order(events, "as_listed", None) == events
    one, again, other = (in_order(events, "shuffled", seed) for seed in (4, 4, 5))
    assert one == again != other
    assert sorted(one, key=events.index) == events


sessions = st.lists(
    st.builds(
        SessionEntry,
        room_id=st.sampled_from([None, "a"]),
        users=st.integers(1, 3),
        streams_per_user=st.integers(0, 2),
        republish=st.integers(0, 2),
        end=st.sampled_from(["open", "logout", "kickout", "relogin", "heartbeat_timeout"]),
    ),
    min_size=1,
    max_size=3,
)


@settings(max_examples=60, deadline=None)
@given(sessions, st.integers(0, 100))
def test_zegos_rules_reach_the_truth_from_the_documented_order_of_any_sessions(entries, seed):
    result = planned(entries, seed)
    ruled = ZegoLists()
    for fields in received(in_order(result.events, "zego-documented", seed)):
        ruled.handle(fields)
    assert canonical(ruled.state()) == canonical(truth(result.world))


def test_each_room_recreation_moves_before_the_create_of_the_life_before_it():
    three_lives = [
        SessionEntry(room_id="r1", users=1, streams_per_user=0, end="logout"),
        SessionEntry(room_id="r1", users=1, streams_per_user=0, end="logout"),
        SessionEntry(room_id="r1", users=1, streams_per_user=0),
    ]
    events = planned(three_lives).events
    c1, x1, c2, x2, c3 = of_list(events, "room")
    assert of_list(in_order(events, "zego-documented", 1), "room") == [c3, c2, c1, x1, x2]


def test_a_user_who_comes_back_twice_arrives_after_each_previous_login():
    entries = [SessionEntry(room_id="r1", users=1, streams_per_user=0, end="relogin")]
    result = plan_sessions(entries, 1, START_MS)
    account = next(e.key for e in result.events if e.event == "room_login")
    result.world.relogin("r1", account)  # the same world: one more relogin
    events = result.world.events
    in1, out1, in2, out2, in3 = of_list(events, "user")
    assert of_list(in_order(events, "zego-documented", 1), "user") == [in1, in2, in3, out1, out2]
