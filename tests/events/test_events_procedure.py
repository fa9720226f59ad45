"""The ``procedure`` event: realistic fake data, every override winning, its wire shape."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from emulator.events import EVENTS, event_spec
from emulator.events.base import Common, Fake
from emulator.events.procedure import (
    TEMPLATES,
    ProcedureCallback,
    ProcedureParams,
    Transcode,
    check,
    describe,
    generate,
    transcode_entries,
)

COMMON = Common(appid="1234567890", timestamp="1700000000", nonce="123456", vod_app_id="1500020831")
TASK_ID = re.compile(r"^\d+-procedurev2-[0-9a-f]{32}tt0$")


def make(seed: int = 1, **params: Any) -> ProcedureCallback:
    model = generate(Fake(seed), ProcedureParams.model_validate(params), COMMON)
    assert isinstance(model, ProcedureCallback)
    return model


def test_procedure_is_discovered_as_an_event() -> None:
    assert EVENTS["procedure"] is event_spec("procedure")
    assert event_spec("procedure").model is ProcedureCallback


def test_generated_ids_are_shaped_like_zegos() -> None:
    for seed in range(50):
        model = make(seed)
        assert TASK_ID.match(model.task_id), model.task_id
        assert model.task_id.startswith(f"{COMMON.vod_app_id}-")
        assert re.fullmatch(r"[1-9]\d{18}", model.file_id), model.file_id


@pytest.mark.parametrize("resolution", sorted(TEMPLATES))
def test_outputs_follow_zegos_default_templates(resolution: str) -> None:
    width, height, kbps = TEMPLATES[resolution]
    for seed in range(30):
        (output,) = make(seed, transcode=[{"resolution": resolution}]).transcode
        assert (output.video.width, output.video.height) == (width, height)
        assert abs(output.video.bitrate - kbps * 1000) <= 0.15 * kbps * 1000
        assert (output.video.codec, output.video.fps) == ("h264", 25)
        assert output.audio.codec == "aac"
        assert 32_000 <= output.audio.bitrate <= 192_000
        assert output.audio.sampling_rate in (44100, 48000)
        assert (output.code, output.message) == ("0", "SUCCESS")


def test_the_three_resolutions_all_occur_when_none_is_asked_for() -> None:
    heights = {make(seed).transcode[0].video.height for seed in range(60)}
    assert heights == {360, 540, 720}


def test_size_agrees_with_bitrate_times_duration() -> None:
    for seed in range(50):
        for output in make(seed, transcode=[{}, {}, {}]).transcode:
            expected = (output.video.bitrate + output.audio.bitrate) * output.duration / 8
            assert abs(output.size - expected) <= 0.05 * expected, (seed, output)
            assert 10 <= output.duration <= 3600


def test_outputs_of_one_file_share_its_duration_within_milliseconds() -> None:
    outputs = make(3, transcode=[{"resolution": r} for r in ("360p", "540p", "720p")]).transcode
    durations = [output.duration for output in outputs]
    assert max(durations) - min(durations) < 0.1


def test_replay_urls_are_playable_looking_mp4_or_m3u8() -> None:
    model = make(4, transcode=[{"resolution": "720p"}, {"resolution": "360p", "container": "m3u8"}])
    mp4, hls = (output.replay_url for output in model.transcode)
    assert re.fullmatch(r"https://[\w./-]+\.mp4", mp4), mp4
    assert re.fullmatch(r"https://[\w./-]+\.m3u8", hls), hls
    assert model.file_id in mp4 and model.file_id in hls
    # the outputs of one source file live in one directory
    assert mp4.rsplit("/", 1)[0] == hls.rsplit("/", 1)[0]


def test_failed_status_sends_empty_extra_params() -> None:
    model = make(5, status="FAILED", transcode=[{"resolution": "720p"}])
    fields = model.to_fields()
    assert fields["status"] == "FAILED"
    assert fields["extra_params"] == ""
    assert model.transcode == []


def test_success_can_carry_an_output_that_failed() -> None:
    model = make(6, transcode=[{"resolution": "720p"}, {"resolution": "360p", "code": "70000"}])
    ok, failed = model.transcode
    assert model.status == "SUCCESS"
    assert ok.code == "0" and ok.replay_url
    assert failed.code == "70000"
    assert failed.message and failed.message != "SUCCESS"
    assert (failed.replay_url, failed.size) == ("", 0)
    entries = json.loads(model.to_fields()["extra_params"])["media"]["transcode"]
    assert [entry["code"] for entry in entries] == ["0", "70000"]


def test_every_override_wins_including_nested_video_and_audio() -> None:
    params = {
        "task_id": "my-task",
        "file_id": "42",
        "transcode": [
            {
                "resolution": "540p",
                "code": "0",
                "message": "",
                "replay_url": "http://cdn.example/x.flv",
                "size": 7,
                "duration": 1.23456,
                "video": {"height": 1, "width": 2, "bitrate": 0, "codec": "", "fps": 60},
                "audio": {"bitrate": 0, "codec": "opus", "sampling_rate": 8000},
            }
        ],
    }
    model = make(7, **params)
    assert (model.task_id, model.file_id) == ("my-task", "42")
    (output,) = model.transcode
    assert output.model_dump() == {
        "code": "0",
        "message": "",
        "replay_url": "http://cdn.example/x.flv",
        "size": 7,
        "duration": 1.23456,
        "video": {"height": 1, "width": 2, "bitrate": 0, "codec": "", "fps": 60},
        "audio": {"bitrate": 0, "codec": "opus", "sampling_rate": 8000},
    }


def test_empty_string_overrides_win_for_ids() -> None:
    model = make(8, task_id="", file_id="")
    assert (model.task_id, model.file_id) == ("", "")


def test_unknown_scenario_keys_are_refused() -> None:
    with pytest.raises(ValueError, match="resolutoin"):
        ProcedureParams.model_validate({"transcode": [{"resolutoin": "720p"}]})


def test_wire_fields_are_the_documented_ones_all_strings() -> None:
    fields = make(9).to_fields()
    assert set(fields) == {
        "event", "appid", "timestamp", "nonce", "signature",
        "task_id", "status", "file_id", "extra_params",
    }  # fmt: skip
    assert all(isinstance(value, str) for value in fields.values())
    assert fields["event"] == "procedure"
    assert (fields["appid"], fields["timestamp"], fields["nonce"]) == (
        "1234567890",
        "1700000000",
        "123456",
    )


def test_extra_params_has_the_documented_structure_and_types() -> None:
    extra = json.loads(make(10, transcode=[{}, {}]).to_fields()["extra_params"])
    assert list(extra) == ["media"] and list(extra["media"]) == ["transcode"]
    for entry in extra["media"]["transcode"]:
        assert set(entry) == {"code", "message", "replay_url", "size", "duration", "video", "audio"}
        assert isinstance(entry["code"], str) and isinstance(entry["message"], str)
        assert isinstance(entry["size"], int) and isinstance(entry["duration"], float)
        assert set(entry["video"]) == {"height", "width", "bitrate", "codec", "fps"}
        assert set(entry["audio"]) == {"bitrate", "codec", "sampling_rate"}
        assert all(
            isinstance(entry["video"][k], int) for k in ("height", "width", "bitrate", "fps")
        )
        assert all(isinstance(entry["audio"][k], int) for k in ("bitrate", "sampling_rate"))


@pytest.mark.parametrize("status", ["SUCCESS", "FAILED"])
def test_from_fields_inverts_to_fields(status: str) -> None:
    model = make(11, status=status, transcode=[{}, {"code": "60000"}])
    model.signature = "ab" * 20
    again = ProcedureCallback.from_fields(model.to_fields())
    assert again == model
    assert again.to_fields() == model.to_fields()


def test_from_fields_reads_zegos_sample_payload_and_its_fileId_spelling() -> None:
    extra = {
        "media": {
            "transcode": [
                {
                    "code": "0",
                    "message": "SUCCESS",
                    "replay_url": "https://example.com/v.f100030.mp4",
                    "size": 6833612,
                    "duration": 170.612,
                    "video": {
                        "height": 540,
                        "width": 960,
                        "bitrate": 205290,
                        "codec": "hevc",
                        "fps": 15,
                    },
                    "audio": {"bitrate": 49040, "codec": "aac", "sampling_rate": 44100},
                }
            ]
        }
    }
    fields = {
        "appid": "12345",
        "event": "procedure",
        "task_id": "xxxxx",
        "status": "SUCCESS",
        "fileId": "3270835010897125368",
        "extra_params": json.dumps(extra),
        "timestamp": "1470820198",
        "nonce": "123412",
        "signature": "5bd59fd62953a8059fb7eaba95720f66d19e4517",
    }
    model = ProcedureCallback.from_fields(fields)
    assert model.file_id == "3270835010897125368"
    assert model.transcode == [Transcode.model_validate(extra["media"]["transcode"][0])]
    assert check(fields) == []


def test_describe_shows_each_output_resolution_codec_and_bitrate() -> None:
    fields = make(12, transcode=[{"resolution": "720p"}, {"resolution": "360p"}]).to_fields()
    text = "\n".join(describe(fields))
    assert "SUCCESS" in text and fields["file_id"] in text
    assert "1 of 2: 720p 1280x720 h264" in text and "2 of 2: 360p 640x360 h264" in text
    assert "kbps" in text and "25 fps" in text and "aac" in text


@pytest.mark.parametrize(
    "extra_params",
    ["", "not json", '{"media": 5}', '{"media": {"transcode": {"a": 1}}}', "[1, 2]",
     '{"media": {"transcode": [5, {"video": "x", "audio": null}]}}'],
)  # fmt: skip
def test_describe_never_raises_on_odd_extra_params(extra_params: str) -> None:
    fields = {"event": "procedure", "status": "SUCCESS", "extra_params": extra_params}
    assert describe(fields)
    assert isinstance(transcode_entries(fields), list)


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"extra_params": '{"media":{"transcode":[{"code":"0","mess'}, "not valid JSON"),
        ({"extra_params": "[]"}, "no media.transcode"),
        ({"extra_params": None}, "no extra_params"),
        ({"task_id": None}, "no task_id"),
        ({"file_id": None}, "no file_id"),
    ],
)
def test_check_finds_what_a_cut_short_body_lacks(
    change: dict[str, str | None], problem: str
) -> None:
    fields = make(13).to_fields()
    assert check(fields) == []
    for key, value in change.items():
        if value is None:
            fields.pop(key)
        else:
            fields[key] = value
    assert any(problem in found for found in check(fields)), check(fields)


def test_check_accepts_a_failed_callback_without_extra_params() -> None:
    fields = make(14, status="FAILED").to_fields()
    fields.pop("extra_params")
    assert check(fields) == []
