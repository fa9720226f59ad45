"""Every event of the RTC catalogue and Cloud Recording: discovered, accepted by scenarios,
seeded, signed in every encoding, displayed and shape-checked."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest

from emulator.callback.factory import CallbackFactory
from emulator.events import EVENTS, event_spec
from emulator.events.base import event_of
from emulator.scenario.model import ENTRY_MODELS, Scenario
from emulator.term.display import callback_lines
from emulator.verify import verify_callback
from emulator.wire import ENCODINGS, Encoding, decode, field_text

SECRET = "catalogue-secret"
NEW_EVENTS = (
    "room_create", "room_close", "room_login", "room_logout", "stream_create",
    "stream_close", "mix_start", "mix_stop", "transcode_start", "transcode_stop",
    "record", "cloud_recording",
)  # fmt: skip


def build(event: str, seed: int = 7, **params: Any) -> dict[str, Any]:
    factory = CallbackFactory(seed=seed, app_id="1234567890", timestamp=1700000000, nonce_seed=1)
    return factory.build(event, params).to_fields()


def test_every_event_is_discovered_and_a_scenario_entry() -> None:
    assert set(NEW_EVENTS) <= set(EVENTS) and set(NEW_EVENTS) <= set(ENTRY_MODELS)
    scenario = Scenario.model_validate({"callbacks": [{"event": name} for name in NEW_EVENTS]})
    assert [entry.event for entry in scenario.callbacks] == list(NEW_EVENTS)
    assert event_spec("cloud_recording").retry_profile == "cloud-recording"
    assert {event_spec(name).retry_profile for name in NEW_EVENTS[:-1]} == {"rtc"}


@pytest.mark.parametrize("event", NEW_EVENTS)
def test_fake_data_is_seeded_and_differs_between_seeds(event: str) -> None:
    assert build(event, seed=3) == build(event, seed=3)
    assert build(event, seed=3) != build(event, seed=4)


@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest.mark.parametrize("event", NEW_EVENTS)
def test_signed_bodies_verify_the_zego_way_in_every_encoding(
    event: str, encoding: Encoding
) -> None:
    factory = CallbackFactory(seed=5)
    callback = factory.callback(factory.build(event), SECRET, encoding)
    content_type, body = callback.body()
    fields = decode(body, content_type)
    pascal = "Timestamp" in fields
    stamp, nonce = (
        (fields["Timestamp"], fields["Nonce"]) if pascal else (fields["timestamp"], fields["nonce"])
    )
    joined = "".join(sorted([SECRET, field_text(stamp), field_text(nonce)]))
    signature = fields["Signature" if pascal else "signature"]
    assert signature == hashlib.sha1(joined.encode()).hexdigest()
    verdict = verify_callback(body, content_type, SECRET)
    assert verdict.ok and verdict.encoding == encoding
    if encoding == "form":
        assert fields == {key: field_text(value) for key, value in callback.fields.items()}
    else:
        assert fields == callback.fields  # numbers, arrays and objects kept
    assert event_of(fields) == event


@pytest.mark.parametrize("event", NEW_EVENTS)
def test_display_and_shape_check_of_every_event(event: str) -> None:
    spec = event_spec(event)
    fields = build(event)
    assert spec.check is not None
    assert spec.check(fields) == []
    form_fields = {key: field_text(value) for key, value in fields.items()}
    assert spec.check(form_fields) == []  # a form body carries the same fields as text
    assert spec.check({})  # an empty body lacks them
    lines = callback_lines(fields)
    assert lines[0] == f"{event} — {spec.title}"
    shown = "\n".join(lines)
    assert field_text(fields[spec.task_field]) in shown


def test_describe_lines_name_the_codes() -> None:
    def described(event: str, **params: Any) -> str:
        return "\n".join(event_spec(event).describe(build(event, **params)))

    assert "3 (last user kicked out (KickoutUser))" in described("room_close", close_reason=3)
    assert "4 (token expired)" in described("room_logout", reason=4)
    assert "100 (DeleteStream)" in described("stream_close", type=100)
    assert "1 (the task failed and ended)" in described("transcode_stop", stop_reason=1)
    assert "5 (recording finished)" in described("cloud_recording", event_type=5)
    assert "H.265" in described("stream_create", codec=3)
    assert "Duration" in described("record", vendor="Huawei")


def test_json_bodies_keep_each_documented_wire_type() -> None:
    factory = CallbackFactory(seed=1, app_id="1234567890")
    for event, numbers, arrays, objects in [
        ("room_create", {"appid", "timestamp", "room_session_id"}, set(), set()),
        ("room_close", {"appid", "timestamp", "room_session_id", "close_reason"}, set(), set()),
        ("stream_create", set(), {"rtmp_url", "hls_url", "hdl_url", "pic_url"}, set()),
        ("mix_start", set(), {"rtmp_urls", "hls_urls", "hdl_urls"}, set()),
        ("transcode_start", {"Sequence"}, set(), {"Details"}),
        ("transcode_stop", {"Sequence", "StopReason"}, set(), set()),
        ("cloud_recording", {"app_id", "event_type", "sequence"}, set(), {"detail"}),
    ]:
        _, body = factory.callback(factory.build(event), SECRET, "json").body()
        fields = json.loads(body)
        assert {k for k, v in fields.items() if type(v) is int} == numbers, event
        assert {k for k, v in fields.items() if isinstance(v, list)} == arrays, event
        assert {k for k, v in fields.items() if isinstance(v, dict)} == objects, event
    for event in ("room_login", "room_logout", "stream_close", "mix_stop", "record"):
        _, body = factory.callback(factory.build(event), SECRET, "json").body()
        assert all(isinstance(value, str) for value in json.loads(body).values()), event
