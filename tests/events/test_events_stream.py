"""The stream and mixing events ``stream_create``, ``stream_close``, ``mix_start``,
``mix_stop``: documented fields and types, play URLs, codes, every given value winning."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qsl

import pytest
from pydantic import ValidationError

from emulator.callback.factory import CallbackFactory
from emulator.scenario.model import Scenario

STAMP = 1700000000
COMMON = {"event", "appid", "timestamp", "nonce", "signature"}


def fields_of(event: str, seed: int = 11, **params: Any) -> dict[str, Any]:
    factory = CallbackFactory(seed=seed, app_id="1234567890", timestamp=STAMP)
    return factory.build(event, params).to_fields()


def test_stream_create_fields_url_arrays_and_json_in_string_attr() -> None:
    fields = fields_of("stream_create")
    assert set(fields) - COMMON == {
        "room_id", "room_session_id", "user_id", "user_name", "channel_id", "stream_id",
        "stream_sid", "title", "stream_alias", "stream_attr", "stream_seq", "create_time",
        "create_time_ms", "extra_info", "recreate", "publish_id", "publish_name",
        "rtmp_url", "hls_url", "hdl_url", "pic_url",
    }  # fmt: skip
    urls = {"rtmp_url", "hls_url", "hdl_url", "pic_url"}
    assert all(isinstance(fields[name], list) and fields[name] for name in urls)
    assert all(isinstance(value, str) for name, value in fields.items() if name not in urls)
    stream = fields["stream_id"]
    assert fields["rtmp_url"][0] == f"rtmp://rtmp.wsdemo.zego.im/zegodemo/{stream}"
    assert fields["hls_url"][0].endswith(f"/{stream}/playlist.m3u8")
    assert all(url.endswith(".flv") for url in fields["hdl_url"])
    assert fields["stream_attr"] == '{"cid":0}'
    assert re.fullmatch(r"s-\d{27}", fields["stream_sid"])
    assert fields["channel_id"] == fields["room_id"] and fields["stream_alias"] == stream
    assert fields["publish_id"] == fields["user_id"]
    assert int(fields["create_time"]) == int(fields["create_time_ms"]) // 1000 == STAMP
    assert fields["recreate"] == "0" and fields["extra_info"] == ""


def test_stream_create_form_body_writes_url_lists_as_json_text() -> None:
    factory = CallbackFactory(seed=3)
    model = factory.build("stream_create", stream_id="s1")
    _, body = factory.callback(model, "k", "form").body()
    form = dict(parse_qsl(body.decode(), strict_parsing=True))
    assert json.loads(form["rtmp_url"]) == model.to_fields()["rtmp_url"]
    assert form["stream_attr"] == '{"cid":0}'


def test_stream_seq_and_other_planner_values_win() -> None:
    fields = fields_of(
        "stream_create", room_id="r1", room_session_id=858012925204410400, user_id="u1",
        stream_id="s1", stream_sid="s-1", stream_seq=1, seq_digits=2, create_time_ms=1700000001234,
        recreate=1, codec=3, extra_info='{"k":1}', rtmp_url=["rtmp://x/s1"],
    )  # fmt: skip
    assert (fields["room_id"], fields["room_session_id"], fields["stream_sid"]) == (
        "r1", "858012925204410400", "s-1",
    )  # fmt: skip
    assert fields["stream_seq"] == "01"  # leading zero, as ZEGO's example
    assert (fields["create_time"], fields["create_time_ms"]) == ("1700000001", "1700000001234")
    assert (fields["recreate"], fields["stream_attr"], fields["extra_info"]) == (
        "1", '{"cid":3}', '{"k":1}',
    )  # fmt: skip
    assert fields["rtmp_url"] == ["rtmp://x/s1"] and fields["hls_url"][0].endswith(
        "/s1/playlist.m3u8"
    )


def test_stream_close_fields_and_times() -> None:
    fields = fields_of("stream_close")
    assert set(fields) - COMMON == {
        "room_id", "room_session_id", "user_id", "user_name", "channel_id", "type",
        "stream_alias", "stream_id", "stream_sid", "stream_seq", "third_define_data",
        "create_time_ms", "destroy_timemillis",
    }  # fmt: skip
    assert all(isinstance(value, str) for value in fields.values())
    assert fields["type"] == "0"
    closed = int(fields["destroy_timemillis"])
    assert STAMP * 1000 <= closed < (STAMP + 1) * 1000
    assert int(fields["create_time_ms"]) < closed
    assert isinstance(json.loads(fields["third_define_data"]), dict)  # JSON inside a string


@pytest.mark.parametrize("kind", [0, 1, 2, 3, 4, 5, 100])
def test_stream_close_types_are_the_documented_codes(kind: int) -> None:
    assert fields_of("stream_close", type=kind)["type"] == str(kind)


def test_stream_close_planner_values_win() -> None:
    fields = fields_of(
        "stream_close", stream_id="s1", stream_sid="s-1", stream_seq=700, type="100",
        create_time_ms="1666786067353", destroy_timemillis="1666986067248",
        third_define_data="", room_session_id="123456789",
    )  # fmt: skip
    assert (fields["stream_seq"], fields["type"], fields["third_define_data"]) == ("700", "100", "")
    assert (fields["create_time_ms"], fields["destroy_timemillis"]) == (
        "1666786067353", "1666986067248",
    )  # fmt: skip


def test_mix_start_has_url_arrays_and_an_appid_prefixed_task_id() -> None:
    fields = fields_of("mix_start")
    assert set(fields) - COMMON == {
        "seq", "task_id", "channel_id", "publish_id", "mix_url", "mix_stream_alias",
        "stream_alias", "rtmp_urls", "hls_urls", "hdl_urls",
    }  # fmt: skip
    assert fields["task_id"].startswith("1234567890:")
    alias = fields["mix_stream_alias"]
    assert fields["mix_url"] == f"rtmp://rtmp.wsdemo.zego.im/zegodemo/{alias}"
    assert [len(fields[name]) for name in ("rtmp_urls", "hls_urls", "hdl_urls")] == [2, 2, 2]
    singular = fields_of("mix_start", singular_urls=True)
    assert singular["hls_url"] == singular["hls_urls"][0]  # ZEGO's example's extra strings


def test_mix_stop_shares_mix_start_fields_without_urls() -> None:
    fields = fields_of("mix_stop", task_id="111111:1111", seq=1234, channel_id="2222")
    assert set(fields) - COMMON == {
        "seq", "task_id", "channel_id", "publish_id", "mix_url", "mix_stream_alias",
    }  # fmt: skip
    assert (fields["task_id"], fields["seq"], fields["channel_id"]) == (
        "111111:1111",
        "1234",
        "2222",
    )


@pytest.mark.parametrize(
    ("entry", "field"),
    [
        ({"event": "stream_close", "type": 6}, "type"),
        ({"event": "stream_create", "recreate": 2}, "recreate"),
        ({"event": "stream_create", "rtmp_url": "rtmp://x"}, "rtmp_url"),
        ({"event": "stream_create", "stream_seq": "seven"}, "stream_seq"),
        ({"event": "mix_stop", "rtmp_urls": []}, "rtmp_urls"),
    ],
)
def test_invalid_stream_keys_are_rejected(entry: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        Scenario.model_validate({"callbacks": [entry]})
    assert field in str(caught.value)
