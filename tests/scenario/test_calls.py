"""The call-lifecycle planner follows each rule ZEGO's call pages state (§11.6)."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from emulator.events.base import Fake
from emulator.scenario.calls import CallEvent, CallPlanError, CallScript, plan_call

EPOCH = 1_796_000_000


def plan(**script: Any) -> list[CallEvent]:
    values: dict[str, Any] = {"caller": "alice", "callees": ["abc", "def"], "timeout": 30}
    return plan_call(CallScript(**(values | script)), Fake(7), EPOCH)


def names(events: list[CallEvent]) -> list[str]:
    return [event.event.removeprefix("zim.") for event in events]


def test_every_event_of_a_call_shares_its_call_id_and_times_agree() -> None:
    events = plan(answers=["accept", "silent"], start=10)
    assert names(events) == ["call_create", "call_accept", "call_timeout"]
    assert len({event.params["call_id"] for event in events}) == 1
    assert [event.offset for event in events] == [10.0, 15.0, 40.0]
    assert [event.timestamp for event in events] == [EPOCH + 10, EPOCH + 15, EPOCH + 40]
    create = events[0].params
    assert create["create_time"] == EPOCH + 10 and create["timeout"] == 30
    assert create["caller"] == "alice" and create["user_ids"] == ["abc", "def"]


def test_everyone_accepting_ends_the_invitation_without_a_timeout() -> None:
    events = plan(answers=["accept"])
    assert names(events) == ["call_create", "call_accept", "call_accept"]
    assert [event.params["user_id"] for event in events[1:]] == ["abc", "def"]
    assert [event.offset for event in events[1:]] == [5.0, 6.0]  # one second apart


def test_some_silent_with_the_caller_online_is_call_timeout_listing_them() -> None:
    events = plan(answers=["reject", "silent"])
    assert names(events) == ["call_create", "call_reject", "call_timeout"]
    assert events[-1].params["user_ids"] == ["def"]
    assert events[-1].offset == 30.0


def test_all_silent_with_the_caller_online_is_timeout_cancel_not_call_timeout() -> None:
    events = plan(answers=["silent"])
    assert names(events) == ["call_create", "call_cancel"]
    assert events[-1].params["reason"] == "timeout_cancel"
    assert events[-1].offset == 30.0


def test_an_answer_after_the_timeout_is_silence() -> None:
    events = plan(answers=["accept", "accept"], answer_after=[3, 31])
    assert names(events) == ["call_create", "call_accept", "call_timeout"]
    assert events[-1].params["user_ids"] == ["def"]


def test_logged_out_callees_are_left_out_of_create_but_listed_by_cancel() -> None:
    events = plan(answers=["offline", "silent"])
    assert events[0].params["user_ids"] == ["def"]
    assert names(events) == ["call_create", "call_cancel"]
    assert events[-1].params["user_ids"] == ["abc", "def"]


def test_every_callee_logged_out_means_no_callback_at_all() -> None:
    assert plan(answers=["offline"]) == []


def test_caller_cancel_before_any_accept_is_caller_cancel_and_drops_later_answers() -> None:
    events = plan(answers=["reject", "accept"], answer_after=[2, 9], caller_cancels=4)
    assert names(events) == ["call_create", "call_reject", "call_cancel"]
    assert events[-1].params["reason"] == "caller_cancel" and events[-1].offset == 4.0
    assert events[-1].params["user_ids"] == ["abc", "def"]


def test_cancelling_an_accepted_call_is_refused() -> None:
    with pytest.raises(CallPlanError, match="accepted call cannot be cancelled"):
        plan(answers=["accept"], caller_cancels=10)


def test_caller_offline_before_an_answer_cancels_then_times_out_at_the_timeout() -> None:
    events = plan(answers=["silent"], caller_offline=8)
    assert names(events) == ["call_create", "call_cancel", "call_timeout"]
    assert events[1].offset == 8.0 and events[1].params["reason"] == "caller_cancel"
    assert events[2].offset == 30.0 and events[2].params["user_ids"] == ["abc", "def"]


def test_caller_offline_after_a_reject_cancels_and_no_timeout_follows() -> None:
    events = plan(answers=["reject", "silent"], caller_offline=8)
    assert names(events) == ["call_create", "call_reject", "call_cancel"]


def test_caller_offline_after_an_accept_sends_no_invitation_callback() -> None:
    events = plan(answers=["accept", "silent"], caller_offline=8)
    assert names(events) == ["call_create", "call_accept"]


def test_invite_during_a_call_follows_the_first_accept_in_milliseconds() -> None:
    events = plan(answers=["accept"], invite=["zoe"], invite_after=1.5)
    invite = events[-1]
    assert invite.event == "zim.call_invite" and invite.offset == 6.5
    assert invite.params["inviter"] == "alice" and invite.params["user_ids"] == ["zoe"]
    assert invite.params["invite_time"] == (EPOCH + 6) * 1000 + 500
    with pytest.raises(CallPlanError, match="no callee accepts"):
        plan(answers=["silent"], invite=1)


def test_faked_ids_are_seeded_and_distinct() -> None:
    first = plan_call(CallScript(callees=3), Fake(4), EPOCH)
    again = plan_call(CallScript(callees=3), Fake(4), EPOCH)
    assert first == again
    people = [first[0].params["caller"], *first[0].params["user_ids"]]
    assert len(set(people)) == 4


@pytest.mark.parametrize(
    ("script", "fragment"),
    [
        ({"callees": 0}, "expected 1 to 100 callees"),
        ({"callees": 2, "answer_after": [1]}, "one time per callee"),
        ({"answers": ["maybe"]}, "accept"),
        ({"timeout": 0}, "greater than or equal to 1"),
        ({"hangup": 3}, "Extra inputs"),
    ],
)
def test_bad_call_scripts_say_what_was_expected(script: dict[str, Any], fragment: str) -> None:
    with pytest.raises(ValidationError, match=fragment):
        CallScript(**script)
