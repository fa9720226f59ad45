"""The task events ``transcode_start``/``transcode_stop`` (PascalCase), ``record`` (per-vendor
``extra_params``) and the Cloud Recording status callback (``detail`` per event_type)."""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

import pytest
from pydantic import ValidationError

from emulator.callback.factory import CallbackFactory
from emulator.callback.tamper import apply_tamper
from emulator.scenario.model import Scenario

STAMP = 1700000000


def fields_of(event: str, seed: int = 11, **params: Any) -> dict[str, Any]:
    factory = CallbackFactory(seed=seed, app_id="1234567890", timestamp=STAMP)
    return factory.build(event, params).to_fields()


def test_transcode_start_keys_are_all_pascal_case_with_typed_details() -> None:
    fields = fields_of("transcode_start", outputs=[{}, {"template": 3}])
    assert list(fields) == [
        "Event", "Appid", "Timestamp", "Nonce", "Signature", "TaskId", "UserId", "Sequence",
        "Status", "Details",
    ]  # fmt: skip
    assert fields["Event"] == "transcode_start" and fields["Status"] == "TranscodeStarted"
    assert type(fields["Sequence"]) is int
    assert set(fields["Details"]["Input"]) == {"StreamId", "StreamUrl"}
    first, last = fields["Details"]["Outputs"]
    assert set(first) == {
        "StreamId", "StreamUrl", "VideoEncId", "VideoBitrate", "ShortEdgeAdaption", "Fps",
        "Width", "Height", "GOP",
    }  # fmt: skip
    assert (first["Width"], first["Height"], first["VideoBitrate"]) == (640, 360, 600_000)
    assert (last["Width"], last["Height"], last["VideoBitrate"]) == (1920, 1080, 2_000_000)
    assert all(type(first[k]) is int for k in ("VideoEncId", "Fps", "GOP", "ShortEdgeAdaption"))


def test_transcode_bodies_sign_timestamp_and_nonce_into_pascal_signature() -> None:
    factory = CallbackFactory(seed=2)
    for event in ("transcode_start", "transcode_stop"):
        callback = factory.callback(factory.build(event), "k", "json")
        sent = json.loads(callback.body()[1])
        joined = "".join(sorted(["k", sent["Timestamp"], sent["Nonce"]]))
        assert sent["Signature"] == hashlib.sha1(joined.encode()).hexdigest()
        assert not {"timestamp", "nonce", "signature", "event"} & set(sent)
        tampered = apply_tamper(callback.fields, "missing_signature", "k")
        assert "Signature" not in tampered and "Timestamp" in tampered


def test_transcode_stop_status_and_stop_reason() -> None:
    fields = fields_of("transcode_stop", task_id="2222", user_id="2222", sequence=0)
    assert (fields["TaskId"], fields["UserId"], fields["Sequence"]) == ("2222", "2222", 0)
    assert fields["Status"] == "TranscodeStopped" and fields["StopReason"] == 0
    quirk = fields_of("transcode_stop", status="TranscodeStarted", stop_reason=1)
    assert (quirk["Status"], quirk["StopReason"]) == ("TranscodeStarted", 1)  # ZEGO's example


def test_transcode_start_update_and_given_outputs() -> None:
    fields = fields_of(
        "transcode_start", status="TranscodeUpdated", input_stream_id="in-1",
        outputs=[{"stream_id": "out-1", "width": 720, "height": 1280, "fps": 30, "gop": 4}],
    )  # fmt: skip
    assert fields["Status"] == "TranscodeUpdated"
    assert fields["Details"]["Input"]["StreamId"] == "in-1"
    [out] = fields["Details"]["Outputs"]
    assert (out["StreamId"], out["Width"], out["Height"], out["Fps"], out["GOP"]) == (
        "out-1", 720, 1280, 30, 4,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("vendor", "keys"),
    [
        ("Tencent", ["TaskId", "FileID", "Duration"]),
        ("Ws", ["PersistentId", "Duration"]),
        ("Huawei", ["Duration", "ObsObject", "FileSize"]),
    ],
)
def test_record_extra_params_are_per_vendor_json_text(vendor: str, keys: list[str]) -> None:
    fields = fields_of("record", vendor=vendor)
    assert set(fields) - {"event", "appid", "timestamp", "nonce", "signature"} == {
        "stream_alias", "replay_url", "begin_time", "end_time", "extra_params",
    }  # fmt: skip
    assert isinstance(fields["extra_params"], str)
    extra = json.loads(fields["extra_params"])
    assert list(extra) == keys
    assert isinstance(extra["Duration"], float)
    end, begin = int(fields["end_time"]), int(fields["begin_time"])
    assert begin < end <= STAMP and abs((end - begin) - extra["Duration"]) <= 1
    assert fields["replay_url"].startswith(("https://", "http://"))
    if vendor == "Huawei":
        assert type(extra["FileSize"]) is int and extra["ObsObject"] in fields["replay_url"]


def test_record_given_values_win() -> None:
    fields = fields_of(
        "record", vendor="Tencent", stream_alias="aaaa", task_id="t-1", file_id="f-1",
        duration=12.5, begin_time=1481597358, end_time=1481597370, format="flv",
    )  # fmt: skip
    extra = json.loads(fields["extra_params"])
    assert extra == {"TaskId": "t-1", "FileID": "f-1", "Duration": 12.5}
    assert (fields["stream_alias"], fields["begin_time"], fields["end_time"]) == (
        "aaaa", "1481597358", "1481597370",
    )  # fmt: skip
    assert fields["replay_url"].endswith(".flv")
    raw = fields_of("record", extra_params="extra_params")
    assert raw["extra_params"] == "extra_params"  # ZEGO's placeholder, if a test wants it


def test_cloud_recording_has_no_event_field_and_typed_common_fields() -> None:
    fields = fields_of("cloud_recording")
    assert list(fields) == [
        "app_id", "task_id", "room_id", "event_type", "message", "nonce", "timestamp",
        "signature", "sequence", "detail",
    ]  # fmt: skip
    assert fields["app_id"] == 1234567890 and fields["timestamp"] == str(STAMP)
    assert (fields["event_type"], fields["sequence"]) == (1, 0)
    assert re.fullmatch(r"[A-Za-z0-9]{16}", fields["task_id"])
    [info] = fields["detail"]["file_info"]
    assert fields["detail"]["upload_status"] == 1
    assert set(info) == {
        "user_id", "user_name", "stream_id", "file_id", "video_id", "file_url",
        "output_file_format", "file_size", "duration", "resolution_width",
        "resolution_height", "media_track_type", "begin_timestamp", "custom_begin_timestamp",
        "status",
    }  # fmt: skip
    assert info["file_id"].startswith(f"{fields['task_id']}_{fields['room_id']}_")
    assert info["file_id"].endswith(".mp4") and info["status"] == 3
    assert info["begin_timestamp"] + info["duration"] < STAMP * 1000


@pytest.mark.parametrize(
    ("event_type", "detail_keys"),
    [
        (2, {"quit_reason"}),
        (3, {"image_type", "image_url"}),
        (4, set()),
        (5, set()),
        (6, {"stream_id"}),
        (7, set()),
        (102, {"stream_id", "file_id", "file_url", "media_track_type"}),
        (201, set()),
        (202, set()),
    ],
)
def test_cloud_recording_detail_follows_the_event_type(
    event_type: int, detail_keys: set[str]
) -> None:
    fields = fields_of("cloud_recording", event_type=event_type)
    assert fields["event_type"] == event_type
    assert set(fields["detail"]) == detail_keys


def test_cloud_recording_partial_upload_and_given_values() -> None:
    fields = fields_of(
        "cloud_recording", task_id="YZ4joOE4IwmFAAAT", room_id="6677", sequence=1,
        files=[{"user_id": "800221", "status": 3}, {"status": 4, "output_file_format": "aac"}],
    )  # fmt: skip
    assert (fields["task_id"], fields["room_id"], fields["sequence"]) == (
        "YZ4joOE4IwmFAAAT", "6677", 1,
    )  # fmt: skip
    detail = fields["detail"]
    assert detail["upload_status"] == 2  # a file not in the customer's storage: partial
    assert detail["file_info"][0]["user_id"] == "800221"
    assert detail["file_info"][1]["media_track_type"] == 1  # audio only
    quit = fields_of("cloud_recording", event_type=2, quit_reason=1004)
    assert quit["detail"] == {"quit_reason": 1004}


@pytest.mark.parametrize(
    ("entry", "field"),
    [
        ({"event": "cloud_recording", "event_type": 8}, "event_type"),
        ({"event": "transcode_stop", "stop_reason": 2}, "stop_reason"),
        ({"event": "transcode_start", "outputs": [{"template": 4}]}, "template"),
        ({"event": "record", "vendor": "Aliyun"}, "vendor"),
    ],
)
def test_invalid_task_keys_are_rejected(entry: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        Scenario.model_validate({"callbacks": [entry]})
    assert field in str(caught.value)
