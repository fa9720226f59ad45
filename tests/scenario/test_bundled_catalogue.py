"""The bundled scenarios of the RTC catalogue and Cloud Recording: valid against the
published JSON Schema, and each meets its expectations when run as the README says
(``run FILE --builtin-receiver --speed 50``), its bodies carrying what its comment shows."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from emulator.cli.main import main
from emulator.record.reader import read_record

ROOT = Path(__file__).resolve().parents[2]
FAMILIES = (
    "room-events", "stream-events", "stream-mixing", "cloud-transcode", "cdn-record",
    "cloud-recording",
)  # fmt: skip


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    """What ``zego-emulator schema`` prints."""
    result = subprocess.run(
        [sys.executable, "-m", "emulator", "schema"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        check=True,
    )
    value: dict[str, Any] = json.loads(result.stdout)
    return value


@pytest.mark.parametrize("name", FAMILIES)
def test_each_family_scenario_validates_against_the_schema(
    name: str, schema: dict[str, Any]
) -> None:
    document = yaml.safe_load((ROOT / "scenarios" / f"{name}.yaml").read_text())
    jsonschema.Draft202012Validator(schema).validate(document)
    assert "receiver" in document and "expect" in document


def test_the_schema_refuses_a_code_zego_does_not_document(schema: dict[str, Any]) -> None:
    validator = jsonschema.Draft202012Validator(schema)
    assert validator.is_valid({"callbacks": [{"event": "room_logout", "reason": 3}]})
    assert validator.is_valid({"callbacks": [{"event": "room_logout", "reason": "3"}]})
    assert not validator.is_valid({"callbacks": [{"event": "room_logout", "reason": 7}]})
    assert not validator.is_valid({"callbacks": [{"event": "stream_close", "type": "6"}]})


def run_bundled(name: str, tmp_path: Path) -> list[dict[str, Any]]:
    record = tmp_path / f"{name}.jsonl"
    path = str(ROOT / "scenarios" / f"{name}.yaml")
    argv = ["run", path, "--builtin-receiver", "--speed", "50", "--no-live", "--record"]
    assert main([*argv, str(record)]) == 0
    return read_record(record)


def bodies(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [json.loads(line["body"]) for line in lines if line["type"] == "callback"]


@pytest.mark.parametrize("name", FAMILIES)
def test_each_family_scenario_meets_its_expectations_at_speed_50(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = run_bundled(name, tmp_path)
    [summary] = [line for line in lines if line["type"] == "summary"]
    assert summary["ok"] is True
    assert all(result["ok"] for result in summary["expectations"])
    capsys.readouterr()


def test_the_family_scenarios_send_what_their_comments_say(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    room = bodies(run_bundled("room-events", tmp_path))
    assert room[0]["room_session_id"] == 858012925204410400 and room[0]["appid"] == 1234567890
    assert [body.get("room_seq") for body in room[1:4]] == ["858012925204410400"] * 3
    assert [body.get("user_update_seq") for body in room[1:4]] == ["1", "2", "3"]
    assert room[4]["close_reason"] == 1
    stream = bodies(run_bundled("stream-events", tmp_path))
    assert [body["stream_seq"] for body in stream] == ["01", "2", "3"]
    assert stream[1]["type"] == "100" and isinstance(stream[0]["rtmp_url"], list)
    assert stream[2]["stream_attr"] == '{"cid":3}'
    transcode = bodies(run_bundled("cloud-transcode", tmp_path))
    assert [body["Status"] for body in transcode] == [
        "TranscodeStarted",
        "TranscodeUpdated",
        "TranscodeStopped",
    ]
    lines = run_bundled("cloud-recording", tmp_path)
    recording = bodies(lines)
    assert all("event" not in body and body["app_id"] == 1234567890 for body in recording)
    assert recording[1]["detail"]["upload_status"] == 2  # one file only in ZEGO's backup
    [run] = [line for line in lines if line["type"] == "run"]
    assert (run["retry_profile"], run["retry_on"]) == ("cloud-recording", "no_answer")
    lost = [line for line in lines if line["type"] == "outcome" and line["lost"]]
    assert [(line["task_id"], line["attempts"]) for line in lost] == [("ZK7mpQR2JxnGBBBU", 1)]
    records = bodies(run_bundled("cdn-record", tmp_path))
    assert [sorted(json.loads(body["extra_params"])) for body in records] == [
        ["Duration", "FileID", "TaskId"],
        ["Duration", "FileID", "TaskId"],
        ["Duration", "PersistentId"],
        ["Duration", "FileSize", "ObsObject"],
    ]
    capsys.readouterr()
