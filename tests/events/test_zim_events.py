"""ZIM events (§11): registered as zim.<name>, bare names on the wire, documented types,
seeded fake data, the rules each page states."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote

import pytest

from emulator.callback.factory import CallbackFactory
from emulator.events import EVENTS, spec_for_fields
from emulator.scenario.model import Scenario
from emulator.term.display import callback_lines
from emulator.wire import decode

SECRET = "zim-secret"
NOW = 1_796_000_000
ZIM_EVENTS = (
    "user_action",
    "room_create",
    "room_destroy",
    "room_enter",
    "room_exit",
    "call_create",
    "call_cancel",
    "call_accept",
    "call_reject",
    "call_timeout",
    "call_invite",
    "send_msg",
    "bot_msg",
    "before_send_msg",
    "group_create",
    "group_destroy",
    "group_join",
    "group_exit",
)
MS_EVENTS = {"room_create", "room_destroy", "room_enter", "room_exit"} | {
    f"group_{kind}" for kind in ("create", "destroy", "join", "exit")
}


def body_of(name: str, seed: int = 5, **params: Any) -> dict[str, Any]:
    factory = CallbackFactory(seed=seed, now=lambda: NOW, nonce_seed=1)
    callback = factory.callback(factory.build(name, params), SECRET, encoding="json")
    value: dict[str, Any] = json.loads(callback.body()[1])
    return value


def test_every_zim_event_is_registered_with_its_bare_wire_name() -> None:
    for event in ZIM_EVENTS:
        spec = EVENTS[f"zim.{event}"]
        assert spec.wire_event == event
        assert body_of(f"zim.{event}")["event"] == event


@pytest.mark.parametrize("event", ZIM_EVENTS)
def test_common_fields_have_zim_types_and_the_documented_unit(event: str) -> None:
    body = body_of(f"zim.{event}")
    assert isinstance(body["appid"], str) and body["appid"].isdigit()
    assert isinstance(body["nonce"], str)
    assert type(body["timestamp"]) is int
    if event in MS_EVENTS:
        assert NOW * 1000 <= body["timestamp"] < (NOW + 1) * 1000
    else:
        assert body["timestamp"] == NOW


def test_same_seed_same_bodies_other_seed_other_bodies() -> None:
    assert body_of("zim.send_msg", seed=9) == body_of("zim.send_msg", seed=9)
    assert body_of("zim.send_msg", seed=9) != body_of("zim.send_msg", seed=10)


def test_timestamp_unit_seconds_reproduces_the_older_pages() -> None:
    assert body_of("zim.room_enter", timestamp_unit="s")["timestamp"] == NOW
    assert body_of("zim.group_exit", timestamp_unit="s")["timestamp"] == NOW


def test_user_action_carries_the_times_its_action_has() -> None:
    login = body_of("zim.user_action", action="login")
    assert login["action"] == 0 and login["login_time"] == NOW
    assert not {"logout_time", "logout_reason", "offline_time"} & set(login)
    logout = body_of("zim.user_action", action=1, relogin=1)
    assert logout["logout_time"] == NOW and logout["login_time"] < NOW
    assert isinstance(logout["logout_reason"], str) and logout["relogin"] == "1"
    offline = body_of("zim.user_action", action="offline", os="PC ")
    assert offline["offline_time"] == NOW and "logout_time" not in offline
    assert offline["os"] == "PC "  # ZEGO's own example has the trailing space


def test_room_exit_quit_is_the_operator_kickout_is_someone_else() -> None:
    quit_ = body_of("zim.room_exit")
    assert quit_["exit_type"] == "Quit" and quit_["exit_user_ids"] == [quit_["operator_account"]]
    kicked = body_of("zim.room_exit", exit_type="Kickout", operator_account="admin")
    assert kicked["operator_account"] == "admin"
    assert kicked["exit_user_ids"] and "admin" not in kicked["exit_user_ids"]


def test_room_create_attributes_are_objects_with_int_auto_delete() -> None:
    body = body_of(
        "zim.room_create", attributes=[{"key": "UserSet1", "value": "UserGet1", "auto_delete": 1}]
    )
    assert body["attributes"] == [{"key": "UserSet1", "value": "UserGet1", "auto_delete": 1}]
    faked = body_of("zim.room_create")["attributes"]
    assert all(type(item["auto_delete"]) is int for item in faked)


def test_send_msg_from_the_sdk_omits_source_and_url_encodes_media_bodies() -> None:
    text = body_of("zim.send_msg")
    assert "source" not in text and text["msg_type"] == 1 and text["conv_type"] == 0
    assert "user_list" not in text and text["msg_time"] // 1000 <= NOW
    video = body_of("zim.send_msg", msg_type="video", conv_type="group")
    assert video["msg_type"] == 14 and video["conv_type"] == 2
    assert video["msg_body"].startswith("%7B")
    media = json.loads(unquote(video["msg_body"]))
    assert {"md5", "file_name", "file_size", "download_url", "media_duration"} <= set(media)


def test_server_sent_one_to_one_batch_fills_user_list_and_empties_ids() -> None:
    body = body_of("zim.send_msg", source="server", user_list=["ann", "bob"], msg_type=11)
    assert body["source"] == 1 and body["conv_id"] == "" and body["msg_id"] == ""
    assert body["msg_seq"] == 0
    assert [item["UserId"] for item in body["user_list"]] == ["ann", "bob"]
    assert all(item["MsgId"] and type(item["MsgSeq"]) is int for item in body["user_list"])
    assert body["msg_body"].startswith("{")  # a server-sent body is verbatim, not encoded
    single = body_of("zim.send_msg", source=1)
    assert single["msg_id"] and single["user_list"][0]["MsgId"] == single["msg_id"]


def test_bot_msg_is_one_to_one_only() -> None:
    assert body_of("zim.bot_msg")["conv_type"] == 0
    with pytest.raises(ValueError, match="conv_type"):
        body_of("zim.bot_msg", conv_type=2)


def test_call_family_fields_and_times() -> None:
    create = body_of("zim.call_create", caller="alice", user_ids=["abc", "def"])
    assert create["user_ids"] == ["abc", "def"] and create["caller"] == "alice"
    assert create["timeout"] == 90 and create["create_time"] == NOW
    assert len(create["call_id"]) == 19
    invite = body_of("zim.call_invite")
    assert NOW * 1000 <= invite["invite_time"] < (NOW + 1) * 1000
    assert body_of("zim.call_cancel", reason="timeout_cancel")["reason"] == "timeout_cancel"
    with pytest.raises(ValueError, match="reason"):
        body_of("zim.call_cancel", reason="because")


def test_zim_room_create_is_told_from_rtc_by_operator_account() -> None:
    fields = decode(json.dumps(body_of("zim.room_create")).encode(), "application/json")
    spec = spec_for_fields(fields)
    assert spec is not None and spec.name == "zim.room_create"
    assert spec_for_fields({"event": "call_accept"}) is EVENTS["zim.call_accept"]
    assert spec_for_fields({"event": "nothing"}) is None


@pytest.mark.parametrize("event", ZIM_EVENTS)
def test_received_zim_events_display_with_their_catalogue_name(event: str) -> None:
    raw = json.dumps(body_of(f"zim.{event}")).encode()
    lines = callback_lines(decode(raw, "application/json"))
    assert lines[0] == f"zim.{event} — {EVENTS[f'zim.{event}'].title}"
    assert not any("unknown" in line and "event" in line for line in lines)


def test_scenarios_take_zim_entries_and_name_a_wrong_key() -> None:
    scenario = Scenario.model_validate(
        {"callbacks": [{"event": "zim.call_create", "caller": "alice", "timeout": 30}]}
    )
    assert scenario.callbacks[0].event_params() == {"caller": "alice", "timeout": 30}
    with pytest.raises(ValueError, match="exit_typ"):
        Scenario.model_validate({"callbacks": [{"event": "zim.room_exit", "exit_typ": "Quit"}]})


def test_a_stale_millisecond_timestamp_is_an_hour_old_in_milliseconds() -> None:
    factory = CallbackFactory(seed=5, now=lambda: NOW)
    model = factory.build("zim.room_enter")
    fresh = factory.callback(model, SECRET, encoding="json").fields["timestamp"]
    stale = factory.callback(model, SECRET, encoding="json", tamper="stale_timestamp")
    stamp = stale.fields["timestamp"]
    assert isinstance(fresh, int) and isinstance(stamp, int)  # ZIM's timestamp: a JSON number
    assert stamp == fresh - 3_600_000
    assert type(stale.fields["timestamp"]) is int
