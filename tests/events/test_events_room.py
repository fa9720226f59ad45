"""The room events ``room_create``, ``room_close``, ``room_login``, ``room_logout``:
documented fields and types, fake data in ZEGO's formats, every given value winning."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from pydantic import ValidationError

from emulator.callback.factory import CallbackFactory
from emulator.scenario.model import Scenario

STAMP = 1700000000


def fields_of(event: str, seed: int = 11, **params: Any) -> dict[str, Any]:
    factory = CallbackFactory(seed=seed, app_id="1234567890", timestamp=STAMP)
    return factory.build(event, params).to_fields()


def test_room_create_has_its_documented_fields_and_numeric_common_fields() -> None:
    fields = fields_of("room_create")
    assert set(fields) == {
        "event", "appid", "timestamp", "nonce", "signature",
        "room_id", "room_session_id", "room_create_time", "id_name",
    }  # fmt: skip
    assert fields["appid"] == 1234567890 and fields["timestamp"] == STAMP
    assert type(fields["room_session_id"]) is int and fields["room_session_id"] > 2**53
    assert fields["room_session_id"] < 2**64
    assert re.fullmatch(r"rid_\d{7}", fields["room_id"])
    created = int(fields["room_create_time"])
    assert STAMP * 1000 <= created < (STAMP + 1) * 1000  # ms within the timestamp's second
    assert re.fullmatch(r"\d{9}", fields["id_name"])


def test_room_create_and_close_json_write_the_big_session_id_exactly() -> None:
    factory = CallbackFactory(seed=1, app_id="1")
    for event in ("room_create", "room_close"):
        model = factory.build(event, room_session_id=858012925204410400)
        _, body = factory.callback(model, "k", "json").body()
        assert b'"room_session_id":858012925204410400' in body
        assert b'"appid":1,' in body


def test_a_non_numeric_app_id_stays_text_in_room_create() -> None:
    fields = CallbackFactory(seed=1, app_id="my-app").build("room_create").to_fields()
    assert fields["appid"] == "my-app"


@pytest.mark.parametrize("reason", [0, 1, 2, 3])
def test_room_close_carries_each_documented_close_reason_as_a_number(reason: int) -> None:
    fields = fields_of("room_close", close_reason=reason)
    assert fields["close_reason"] == reason
    assert set(fields) - {"event", "appid", "timestamp", "nonce", "signature"} == {
        "room_id", "room_session_id", "close_reason", "room_close_time",
    }  # fmt: skip


def test_room_given_values_win() -> None:
    created = fields_of(
        "room_create", room_id="room-1", room_session_id=42, room_create_time=1700000000500,
        id_name="u1",
    )  # fmt: skip
    assert (created["room_id"], created["room_session_id"]) == ("room-1", 42)
    assert (created["room_create_time"], created["id_name"]) == ("1700000000500", "u1")
    closed = fields_of("room_close", room_id="room-1", room_session_id=42, room_close_time="1")
    assert (closed["room_id"], closed["room_session_id"], closed["room_close_time"]) == (
        "room-1", 42, "1",
    )  # fmt: skip


def test_room_login_fields_are_strings_in_zego_formats() -> None:
    fields = fields_of("room_login")
    assert set(fields) - {"event", "appid", "timestamp", "nonce", "signature"} == {
        "room_id", "room_name", "room_seq", "user_account", "user_nickname", "session_id",
        "login_time", "user_role", "auth_level", "relogin", "user_update_seq",
        "callback_data", "term_type",
    }  # fmt: skip
    assert all(isinstance(value, str) for value in fields.values())
    assert fields["appid"] == "1234567890" and fields["timestamp"] == str(STAMP)
    assert re.fullmatch(r"\d{18}", fields["session_id"])
    assert re.fullmatch(r"\d{18,19}", fields["room_seq"]) and int(fields["room_seq"]) > 2**53
    assert fields["user_nickname"] == fields["user_account"]
    assert fields["user_role"] in ("1", "2") and fields["relogin"] == "0"
    assert fields["callback_data"] == ""
    assert fields["term_type"] in ("1", "2", "3", "4", "6")
    assert STAMP * 1000 <= int(fields["login_time"]) < (STAMP + 1) * 1000


def test_room_logout_times_are_consistent_and_reasons_documented() -> None:
    fields = fields_of("room_logout", reason=3)
    assert set(fields) - {"event", "appid", "timestamp", "nonce", "signature"} == {
        "room_id", "room_seq", "user_account", "user_nickname", "session_id", "login_time",
        "logout_time", "reason", "user_role", "user_update_seq",
    }  # fmt: skip
    assert fields["reason"] == "3"
    logout = int(fields["logout_time"])
    assert STAMP * 1000 <= logout < (STAMP + 1) * 1000
    assert int(fields["login_time"]) < logout


def test_a_session_planner_sets_every_id_counter_and_time() -> None:
    ids = {
        "room_id": "r1", "room_seq": 858012925204410400, "user_account": "alice",
        "session_id": 792148503087288320, "user_update_seq": 7,
    }  # fmt: skip
    login = fields_of(
        "room_login", **ids, login_time=1700000000123, relogin=1, user_role=1, auth_level=4,
        term_type=6, callback_data="hi", room_name="Room 1", user_nickname="Alice",
    )  # fmt: skip
    assert login["room_seq"] == "858012925204410400" and login["session_id"] == "792148503087288320"
    assert (login["user_update_seq"], login["login_time"], login["relogin"]) == (
        "7", "1700000000123", "1",
    )  # fmt: skip
    assert (login["user_role"], login["auth_level"], login["term_type"]) == ("1", "4", "6")
    logout = fields_of(
        "room_logout", **{**ids, "user_update_seq": 8}, login_time=1700000000123,
        logout_time=1700000009000, reason=0,
    )  # fmt: skip
    assert (logout["login_time"], logout["logout_time"], logout["user_update_seq"]) == (
        "1700000000123", "1700000009000", "8",
    )  # fmt: skip


def test_the_send_timestamp_sets_the_faked_millisecond_times() -> None:
    factory = CallbackFactory(seed=2)
    model = factory.build("room_create", timestamp=1600000000)
    fields = model.to_fields()
    assert fields["timestamp"] == 1600000000
    assert str(fields["room_create_time"]).startswith("1600000000")


@pytest.mark.parametrize(
    ("entry", "field"),
    [
        ({"event": "room_close", "close_reason": 4}, "close_reason"),
        ({"event": "room_logout", "reason": "9"}, "reason"),
        ({"event": "room_login", "login_time": "soon"}, "login_time"),
        ({"event": "room_create", "room_session_id": -1}, "room_session_id"),
        ({"event": "room_create", "room_session_id": 2**64}, "room_session_id"),
        ({"event": "room_login", "room_sequence": "1"}, "room_sequence"),
    ],
)
def test_invalid_room_keys_are_rejected(entry: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        Scenario.model_validate({"callbacks": [entry]})
    assert field in str(caught.value)


def test_zego_room_example_values_reproduce() -> None:
    factory = CallbackFactory(seed=1, app_id="1", timestamp=1499676978)
    model = factory.build(
        "room_create",
        room_id="rid_1242649", room_session_id=858012925204410400,
        room_create_time="1499676978027", id_name="id123",
    )  # fmt: skip
    model = model.model_copy(update={"nonce": "350176", "signature": "signature"})
    assert json.loads(json.dumps(model.to_fields())) == {
        "appid": 1, "event": "room_create", "nonce": "350176", "signature": "signature",
        "timestamp": 1499676978, "room_id": "rid_1242649",
        "room_session_id": 858012925204410400, "room_create_time": "1499676978027",
        "id_name": "id123",
    }  # fmt: skip
