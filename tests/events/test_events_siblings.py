"""The sibling events ``compose`` and ``snapshot``: fields, fake data, overrides, scenarios."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

import pytest
from aiohttp import web
from pydantic import ValidationError

from emulator.callback.factory import CallbackFactory
from emulator.clock import VirtualClock
from emulator.delivery.dispatch import Delivery, Dispatcher
from emulator.events import EVENTS, event_spec
from emulator.events.compose import CODE_MESSAGES, ComposeCallback
from emulator.events.snapshot import SnapshotCallback
from emulator.scenario.model import ENTRY_MODELS, Scenario
from emulator.scenario.reader import load_scenario
from emulator.servers.start import start_server
from emulator.verify import verify_callback
from emulator.wire import ENCODINGS

SECRET = "sibling-secret"
SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"


def test_both_events_are_discovered_and_accepted_by_scenarios() -> None:
    assert {"procedure", "compose", "snapshot"} <= set(EVENTS)
    assert {"compose", "snapshot"} <= set(ENTRY_MODELS)
    scenario = Scenario.model_validate(
        {
            "callbacks": [
                {"event": "compose", "code": 60000, "repeat": 2},
                {"event": "snapshot", "vendor": "hw", "count": 2},
                {"status": "FAILED"},
            ]
        }
    )
    assert [entry.event for entry in scenario.callbacks] == ["compose", "snapshot", "procedure"]
    assert scenario.callbacks[0].event_params() == {"code": "60000"}
    schema = json.dumps(Scenario.model_json_schema())
    assert "snapshot_pic_list" in schema and "output_file_name" in schema


@pytest.mark.parametrize(
    ("entry", "field"),
    [
        ({"event": "compose", "colour": "red"}, "colour"),
        ({"event": "snapshot", "file_id": "123"}, "file_id"),  # ZEGO spells it field_id
        ({"event": "snapshot", "snapshot_pic_list": [{"url": "u", "size": 1}]}, "size"),
        ({"event": "snapshot", "vendor": "aws"}, "vendor"),
        ({"event": "snapshot", "count": -1}, "count"),
    ],
)
def test_unknown_or_invalid_scenario_keys_are_rejected(
    entry: dict[str, object], field: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        Scenario.model_validate({"callbacks": [entry]})
    assert field in str(caught.value)


def test_compose_fake_data_is_realistic_and_seeded() -> None:
    first = CallbackFactory(seed=42, app_id="1234567890", timestamp=1700000000).compose()
    again = CallbackFactory(seed=42, app_id="1234567890", timestamp=1700000000).compose()
    assert first.model_copy(update={"nonce": ""}) == again.model_copy(update={"nonce": ""})
    assert isinstance(first, ComposeCallback)
    fields = first.to_fields()
    assert fields["event"] == "compose" and fields["appid"] == "1234567890"
    assert re.fullmatch(r"1500\d{6}-EditMedia-[0-9a-f]{32}t0", fields["task_id"])
    assert re.fullmatch(r"[1-9]\d{18}", fields["file_id"])
    assert re.fullmatch(r"https://1500\d{6}\.vod2\.myqcloud\.com/\S+\.mp4", fields["replay_url"])
    assert (fields["code"], fields["message"]) == ("0", "SUCCESS")
    assert set(fields) == {
        "appid", "event", "nonce", "signature", "timestamp",
        "replay_url", "task_id", "file_id", "code", "message",
    }  # fmt: skip


@pytest.mark.parametrize("code", [40000, 60000, 70000])
def test_compose_failure_codes_carry_zego_messages_and_no_file(code: int) -> None:
    model = CallbackFactory(seed=1).compose(code=code)
    fields = model.to_fields()
    assert fields["code"] == str(code)
    assert fields["message"] == CODE_MESSAGES[str(code)]
    assert fields["replay_url"] == "" and fields["file_id"] == ""


def test_compose_overrides_win() -> None:
    model = CallbackFactory(seed=1).compose(
        task_id="t-1", file_id="f-1", replay_url="https://x/y.m3u8", message="merged!",
        format="m3u8", output_file_name="ignored-because-replay-url-given",
    )  # fmt: skip
    fields = model.to_fields()
    assert (fields["task_id"], fields["file_id"], fields["replay_url"], fields["message"]) == (
        "t-1", "f-1", "https://x/y.m3u8", "merged!",
    )  # fmt: skip
    named = CallbackFactory(seed=1).compose(format="mp3", output_file_name="lesson-7")
    assert named.to_fields()["replay_url"].endswith("/lesson-7.mp3")


def test_snapshot_pic_list_is_json_text_of_urls_and_millisecond_offsets() -> None:
    model = CallbackFactory(seed=9, timestamp=1700000000).snapshot(count=4, interval_ms=10000)
    assert isinstance(model, SnapshotCallback)
    fields = model.to_fields()
    assert fields["event"] == "snapshot" and fields["vendor"] == "tencent"
    assert re.fullmatch(r"[1-9]\d{18}", fields["task_id"])
    assert re.fullmatch(r"[1-9]\d{18}", fields["field_id"])
    pictures = json.loads(fields["snapshot_pic_list"])
    assert [pic["offset"] for pic in pictures] == [0, 10000, 20000, 30000]
    assert all(re.fullmatch(r"https://\S+_10_\d\.jpg", pic["url"]) for pic in pictures)
    assert '"offset":0}' in fields["snapshot_pic_list"]  # whole ms written like ZEGO's sample


def test_snapshot_huawei_has_no_field_id_and_no_offsets() -> None:
    fields = CallbackFactory(seed=3).snapshot(vendor="hw", count=2).to_fields()
    assert fields["vendor"] == "hw" and fields["field_id"] == ""
    assert re.fullmatch(r"[0-9a-f]{32}", fields["task_id"])
    pictures = json.loads(fields["snapshot_pic_list"])
    assert len(pictures) == 2
    assert all(set(pic) == {"url"} and "myhuaweicloud.com" in pic["url"] for pic in pictures)


def test_snapshot_given_pictures_win_and_the_rest_are_faked() -> None:
    model = CallbackFactory(seed=3).snapshot(
        task_id="snap-1",
        field_id="src-9",
        count=3,
        snapshot_pic_list=[{"url": "https://example.com/a.jpg", "offset": 0}, {"offset": 1500.5}],
    )
    fields = model.to_fields()
    assert (fields["task_id"], fields["field_id"]) == ("snap-1", "src-9")
    pictures = json.loads(fields["snapshot_pic_list"])
    assert pictures[0] == {"url": "https://example.com/a.jpg", "offset": 0}
    assert pictures[1]["offset"] == 1500.5 and pictures[1]["url"].endswith(".jpg")
    assert len(pictures) == 3


@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest.mark.parametrize("event", ["compose", "snapshot"])
def test_signed_bodies_verify_and_decode_back_to_the_model(event: str, encoding: str) -> None:
    factory = CallbackFactory(seed=5)
    model = factory.build(event)
    callback = factory.callback(model, SECRET, encoding)
    content_type, body = callback.body()
    verdict = verify_callback(body, content_type, SECRET)
    assert verdict.ok and verdict.encoding == encoding
    assert verdict.fields == callback.fields
    parsed = type(model).from_fields(verdict.fields)
    assert parsed.model_dump(exclude={"signature"}) == model.model_dump(exclude={"signature"})


def test_describe_lines_summarise_each_event_for_a_receiver() -> None:
    compose = event_spec("compose").describe(
        CallbackFactory(seed=2).compose(code=70000).to_fields()
    )
    assert any("70000 (FAILED)" in line for line in compose)
    assert any("(no replay url)" in line for line in compose)
    snapshot_fields = CallbackFactory(seed=2).snapshot(count=8).to_fields()
    lines = event_spec("snapshot").describe(snapshot_fields)
    assert any(line.split() == ["pictures", "8"] for line in lines)
    assert lines[3].split()[:2] == ["0.000", "s"] and lines[3].endswith("_10_0.jpg")
    assert lines[-1].strip() == "... and 3 more"


def test_check_reports_what_a_truncated_body_lacks() -> None:
    check = event_spec("snapshot").check
    assert check is not None
    assert check({"task_id": "1", "snapshot_pic_list": "[{"}) == [
        "snapshot_pic_list is not the JSON text of a list"
    ]
    compose_check = event_spec("compose").check
    assert compose_check is not None
    assert compose_check({"event": "compose"}) == ["missing field task_id", "missing field code"]


# --- the bundled scenarios, delivered -------------------------------------------------


class CheckingReceiver:
    """A receiver that verifies every callback and keeps the ones it accepted."""

    def __init__(self) -> None:
        self.accepted: list[dict[str, str]] = []

    async def handle(self, request: web.Request) -> web.Response:
        verdict = verify_callback(await request.read(), request.content_type, SECRET)
        if not verdict.ok:
            return web.Response(status=401, text=verdict.reason)
        self.accepted.append(verdict.fields)
        return web.Response(text="success")

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/zego/callback", self.handle)
        return app


@pytest.mark.parametrize("name", ["compose", "snapshot"])
async def test_bundled_scenario_is_delivered_and_meets_its_expectations(name: str) -> None:
    scenario = load_scenario(SCENARIOS / f"{name}.yaml")
    factory = CallbackFactory(seed=scenario.seed, app_id=scenario.app_id)
    callbacks = []
    for entry in scenario.callbacks:
        for _ in range(entry.repeat):
            model = factory.build(entry.event, entry.event_params())
            callbacks.append(factory.callback(model, SECRET, scenario.encoding, entry.tamper))
    receiver = CheckingReceiver()
    async with await start_server(receiver.app()) as server:
        target = f"{server.url}/zego/callback"
        async with Dispatcher(policy=scenario.retry.policy(), clock=VirtualClock()) as dispatcher:
            outcomes = await asyncio.wait_for(
                dispatcher.deliver_all(Delivery(callback, target) for callback in callbacks), 60
            )
    expect = scenario.expect
    assert expect is not None
    assert len(outcomes) == expect.callbacks
    assert sum(o.delivered for o in outcomes) == expect.delivered
    assert sum(o.lost for o in outcomes) == expect.lost
    assert [fields["event"] for fields in receiver.accepted] == [name] * len(callbacks)
    assert {f["task_id"] for f in receiver.accepted} == {c.task_id for c in callbacks}
    if name == "compose":
        assert [f["code"] for f in receiver.accepted] == ["0", "60000", "70000"]
        assert receiver.accepted[0]["replay_url"].endswith("/class-2024-05-01.mp4")
    else:
        assert [f["vendor"] for f in receiver.accepted] == ["tencent", "hw", "tencent"]
        last = json.loads(receiver.accepted[2]["snapshot_pic_list"])
        assert last[0] == {"url": "https://example.com/cover.jpg", "offset": 0}
        assert receiver.accepted[2]["field_id"] == "5285890813221514958"
