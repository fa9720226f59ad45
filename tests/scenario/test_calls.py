"""The call-lifecycle planner follows each rule ZEGO's call pages state (§11.6)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from conftest import ReceiverFactory
from pydantic import ValidationError

from emulator.errors import ScenarioError
from emulator.events.base import Fake
from emulator.record.reader import read_record
from emulator.run.runner import RunOptions, execute
from emulator.scenario.calls import CallEvent, CallScript, plan_call
from emulator.scenario.compose import scenario_entries
from emulator.scenario.model import Scenario
from emulator.scenario.reader import load_scenario
from emulator.settings import Secret

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
    with pytest.raises(ValidationError, match="accepted call cannot be cancelled"):
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
    with pytest.raises(ValidationError, match="no callee accepts"):
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


# --- calls: in scenarios ---------------------------------------------------------------------


def test_a_scenario_of_calls_alone_is_valid_and_an_empty_one_is_not() -> None:
    scenario = Scenario.model_validate({"calls": [{"callees": 2}]})
    assert scenario.callbacks == [] and scenario.calls[0].callee_count == 2
    with pytest.raises(ValidationError, match="callbacks"):
        Scenario.model_validate({"calls": []})


def test_a_call_the_rules_cannot_produce_names_its_file_line_and_field(tmp_path: Path) -> None:
    path = tmp_path / "bad-call.yaml"
    path.write_text(
        "name: bad call\ncalls:\n  - callees: 1\n  - callees: 1\n"
        "    answers: [accept]\n    caller_cancels: 9\n"
    )
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    assert str(caught.value).startswith(f"{path}:4: calls[1]: ")
    assert "an accepted call cannot be cancelled" in str(caught.value)


def test_call_entries_follow_the_listed_callbacks_and_keep_their_payloads() -> None:
    listed = {"seed": 3, "callbacks": [{"event": "zim.send_msg"}]}
    alone = scenario_entries(Scenario.model_validate(listed), EPOCH, 3)
    both = scenario_entries(
        Scenario.model_validate({**listed, "calls": [{"answers": ["silent"], "timeout": 9}]}),
        EPOCH,
        3,
    )
    assert both[0] is not alone[0] and both[0].event_params() == alone[0].event_params()
    assert [entry.event for entry in both] == ["zim.send_msg", "zim.call_create", "zim.call_cancel"]
    assert [entry.delay for entry in both[1:]] == [0.0, 9.0]
    assert [entry.timestamp for entry in both[1:]] == [EPOCH, EPOCH + 9]


async def test_a_call_is_delivered_as_one_coherent_sequence(
    scripted_receiver: ReceiverFactory, tmp_path: Path
) -> None:
    receiver = await scripted_receiver()
    scenario = Scenario.model_validate(
        {
            "encoding": "json",
            "seed": 8,
            "calls": [{"callees": 3, "answers": ["accept", "silent"], "timeout": 20, "start": 5}],
        }
    )
    options = RunOptions(
        target=receiver.url,
        secret=Secret("calls-secret", "test"),
        virtual=True,
        live=False,
        record=tmp_path / "record.jsonl",
    )
    result = await execute(scenario, options)
    assert result.exit_code == 0 and result.delivered == 3
    bodies = [json.loads(body) for body in receiver.bodies]
    assert [body["event"] for body in bodies] == ["call_create", "call_accept", "call_timeout"]
    assert len({body["call_id"] for body in bodies}) == 1
    create, accept, timeout = bodies
    callees = create["user_ids"]
    assert accept["user_id"] == callees[0] and timeout["user_ids"] == callees[1:]
    assert create["create_time"] == create["timestamp"]
    assert [body["timestamp"] - create["timestamp"] for body in bodies] == [0, 5, 20]
    lines = read_record(tmp_path / "record.jsonl")
    assert sorted(line["delay"] for line in lines if line["type"] == "callback") == [5, 10, 25]
    assert {line["task_id"] for line in lines if line["type"] == "outcome"} == {create["call_id"]}
