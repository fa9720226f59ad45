"""Scenario files: loading, validation, and one ``file:line: field: expected`` error per bad file.

The hostile corpus lives in ``tests/scenario/scenarios_bad/`` (one small file per mistake); the
large and binary ones are generated here in ``tmp_path`` instead of being committed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tracemalloc
from pathlib import Path

import pytest
from hostile_files import BAD, BAD_FILES, GENERATED, deep_flow, fifty_megabytes

from emulator.errors import ScenarioError
from emulator.events import EVENT_NAMES
from emulator.scenario.model import ENTRY_MODELS, Scenario, entry_model_name
from emulator.scenario.reader import load_scenario
from emulator.settings import (
    CALLBACK_SECRET_ENV,
    DEV_CALLBACK_SECRET,
    scenario_secret,
    set_notice,
    url_problem,
)

ROOT = Path(__file__).resolve().parents[2]
BUNDLED = ROOT / "scenarios"


def load_error(path: Path) -> ScenarioError:
    """The ScenarioError loading ``path`` raises (how fast: ``python -m bench hostile``)."""
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    return caught.value


def assert_names(error: ScenarioError, path: Path, line: int | None, field: str | None) -> None:
    """The one-line message starts with ``file:line: field:`` (parts that exist)."""
    text = str(error)
    assert "\n" not in text
    where = str(path) if line is None else f"{path}:{line}"
    prefix = f"{where}: {field}: " if field else f"{where}: "
    assert text.startswith(prefix), text
    assert (error.file, error.line, error.field) == (str(path), line, field)


# --- the hostile corpus ------------------------------------------------------------------


def test_the_corpus_is_large_and_every_file_has_an_expectation() -> None:
    on_disk = sorted(path.name for path in BAD.iterdir())
    assert on_disk == sorted(BAD_FILES)
    assert len(on_disk) >= 45


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_bad_scenario_names_file_line_and_field(name: str) -> None:
    line, field, fragment = BAD_FILES[name]
    path = BAD / name
    error = load_error(path)
    assert_names(error, path, line, field)
    assert fragment in error.message, str(error)


@pytest.mark.parametrize("case", sorted(GENERATED))
def test_hostile_file_fails_fast_without_a_memory_blow_up(case: str, tmp_path: Path) -> None:
    make, line, field, fragment = GENERATED[case]
    path = make(tmp_path)
    tracemalloc.start()
    try:
        error = load_error(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert fragment in error.message, str(error)
    assert str(error).startswith(f"{path}:{line}: " if line else f"{path}: "), str(error)
    if field is not None:
        assert error.field == field
    assert peak < 64 * 1024 * 1024, f"{peak / 1e6:.0f} MB"


def test_deep_nesting_error_names_the_path_briefly(tmp_path: Path) -> None:
    error = load_error(deep_flow(tmp_path))
    assert error.field is not None
    assert error.field.startswith("callbacks[0][0]")
    assert len(error.field) < 60


# --- line numbers, hand-checked -----------------------------------------------------------


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_line_points_at_the_offending_key_deep_in_a_callback(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "deep.yaml",
        "name: deep\n"  # 1
        "callbacks:\n"  # 2
        "  - status: SUCCESS\n"  # 3
        "  - status: SUCCESS\n"  # 4
        "    transcode:\n"  # 5
        "      - resolution: 360p\n"  # 6
        "      - video:\n"  # 7
        "          fps: 25\n"  # 8
        "        resolution: 4k\n",  # 9
    )
    error = load_error(path)
    assert str(error) == (
        f"{path}:9: callbacks[1].transcode[1].resolution: expected '360p', '540p' or "
        "'720p', got '4k'"
    )


def test_the_earliest_problem_is_reported_with_a_count_of_the_rest(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "two.yaml",
        "expect: {lost: -1}\n"  # 1
        "callbacks:\n"  # 2
        "  - repeat: -2\n"  # 3
        "    delay: -3\n",  # 4
    )
    error = load_error(path)
    assert (error.line, error.field) == (1, "expect.lost")
    assert error.message.endswith("(and 2 more problems)")


def test_a_list_item_error_points_at_the_item(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "items.yaml",
        "callbacks:\n  - {}\nreceiver:\n  responses:\n    - 500\n    - 200\n    - 1000\n",
    )
    error = load_error(path)
    assert (error.line, error.field) == (7, "receiver.responses[2]")


def test_a_missing_key_points_at_its_mapping(tmp_path: Path) -> None:
    path = write(tmp_path, "missing.yaml", "# header\n\nname: x\norder: reversed\n")
    error = load_error(path)
    assert str(error) == f"{path}:3: callbacks: required key is missing"


def test_errors_inside_an_anchor_point_at_the_anchor(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "anchor.yaml",
        "x-base: &base\n  status: DONE\ncallbacks:\n  - *base\n",
    )
    error = load_error(path)
    assert (error.line, error.field) == (2, "callbacks[0].status")


def test_a_json_error_has_the_line_of_the_key(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "s.json",
        '{\n\t"callbacks": [\n\t\t{"status": "SUCCESS"},\n\t\t{"event": "snapshots"}\n\t]\n}\n',
    )
    error = load_error(path)
    assert (error.line, error.field) == (4, "callbacks[1].event")
    assert "did you mean 'snapshot'?" in error.message


# --- what loads ---------------------------------------------------------------------------


def test_a_full_scenario_loads_with_every_key(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "full.yaml",
        """
name: everything
description: every key once
target: https://example.com:8443/zego/callback
app_id: "1234567890"
encoding: json-urlencoded
seed: 7
secret_env: MY_ZEGO_SECRET
concurrency: 4
speed: 10
retry: {intervals: [1, 2], timeout: 2.5, resign_each_attempt: true}
order: shuffled
callbacks:
  - event: procedure
    status: SUCCESS
    task_id: task-1
    file_id: "3270835010897125368"
    transcode:
      - {resolution: 540p, video: {codec: hevc, fps: 15}}
    repeat: 3
    delay: 1.5
    tamper: stale_timestamp
    duplicates: 2
    rename: {file_id: fileId}
    fields: {extra: "1"}
    timestamp: 1470820198
    nonce: "123412"
    respond: [500, 200]
  - event: compose
    code: "60000"
  - event: snapshot
receiver: {responses: [503, 200], delay: 0.5, hang: false}
expect: {callbacks: 11, delivered: 11, lost: 0, attempts: 13, max_attempts: 2}
""",
    )
    scenario = load_scenario(path)
    assert scenario.retry.policy().intervals == (1.0, 2.0)
    first = scenario.callbacks[0]
    assert (first.repeat, first.duplicates, first.respond) == (3, 2, [500, 200])
    assert first.event_params()["transcode"][0]["video"]["codec"] == "hevc"
    assert "respond" not in first.event_params()
    assert [entry.event for entry in scenario.callbacks] == ["procedure", "compose", "snapshot"]
    assert type(scenario.callbacks[1]) is ENTRY_MODELS["compose"]
    assert scenario.expect is not None and scenario.expect.attempts == 13


def test_an_entry_without_event_is_a_procedure(tmp_path: Path) -> None:
    scenario = load_scenario(write(tmp_path, "p.yaml", "callbacks: [{status: FAILED}]\n"))
    assert type(scenario.callbacks[0]) is ENTRY_MODELS["procedure"]
    assert scenario.callbacks[0].event_params() == {"status": "FAILED"}


def test_json_and_yaml_scenarios_load_the_same(tmp_path: Path) -> None:
    yaml_text = (
        "name: same\nencoding: json\nretry:\n  timeout: 1000.0\n"
        "callbacks:\n  - status: SUCCESS\n    repeat: 1000\n    respond: [500, 200]\n"
    )
    json_text = (
        '{"name": "same", "encoding": "json", "retry": {"timeout": 1e3},\n'
        ' "callbacks": [{"status": "SUCCESS", "repeat": 1E3, "respond": [500, 200]}]}'
    )
    from_yaml = load_scenario(write(tmp_path, "same.yaml", yaml_text))
    from_json = load_scenario(write(tmp_path, "same.json", json_text))
    assert from_json == from_yaml


def test_json_is_recognised_by_content_and_may_use_tabs(tmp_path: Path) -> None:
    text = '{\n\t"callbacks": [\n\t\t{"status": "FAILED", "delay": 2.5e0}\n\t]\n}\n'
    scenario = load_scenario(write(tmp_path, "scenario.txt", text))
    assert scenario.callbacks[0].delay == 2.5


def test_yaml_merge_keys_and_x_keys_share_settings(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "merge.yaml",
        "x-failing: &failing\n  status: FAILED\n  repeat: 2\n"
        "callbacks:\n  - <<: *failing\n  - <<: *failing\n    repeat: 5\n",
    )
    scenario = load_scenario(path)
    assert [(e.event_params()["status"], e.repeat) for e in scenario.callbacks] == [
        ("FAILED", 2),
        ("FAILED", 5),
    ]


def test_dates_and_quoted_numbers_stay_text(tmp_path: Path) -> None:
    path = write(
        tmp_path, "text.yaml", 'name: 2024-05-01\napp_id: "0123"\ncallbacks: [{nonce: "007"}]\n'
    )
    scenario = load_scenario(path)
    assert (scenario.name, scenario.app_id, scenario.callbacks[0].nonce) == (
        "2024-05-01",
        "0123",
        "007",
    )


def test_a_byte_order_mark_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "bom.yaml"
    path.write_bytes(b"\xef\xbb\xbfcallbacks: [{}]\n")
    assert len(load_scenario(path).callbacks) == 1


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:8080/zego/callback", "https://example.com", "http://[::1]:9000/cb?x=1"],
)
def test_http_targets_are_accepted(url: str) -> None:
    assert url_problem(url) is None
    assert Scenario.model_validate({"target": url, "callbacks": [{}]}).target == url


# --- bundled scenarios --------------------------------------------------------------------

BUNDLED_FILES = sorted(BUNDLED.glob("*.yaml"))


def test_the_bundled_scenarios_cover_the_documented_cases() -> None:
    names = {path.stem for path in BUNDLED_FILES}
    assert {
        "first-try-success",
        "retry-then-success",
        "always-failing",
        "receiver-timeout",
        "receiver-reset",
        "failed-transcode",
        "multi-resolution",
        "bad-signature",
        "duplicate-delivery",
        "json-encoding",
        "burst-1000",
        "demo",
    } <= names


@pytest.mark.parametrize("path", BUNDLED_FILES, ids=lambda path: path.name)
def test_bundled_scenario_loads_and_is_documented(path: Path) -> None:
    scenario = load_scenario(path)
    assert path.read_text().startswith("# ")
    assert scenario.expect is not None
    assert scenario.receiver is not None
    assert scenario.target is None  # --target or --builtin-receiver decides


def test_bundled_scenarios_say_what_their_names_promise() -> None:
    def load(name: str) -> Scenario:
        return load_scenario(BUNDLED / f"{name}.yaml")

    assert load("retry-then-success").receiver.responses == [500, 500, 200]
    assert load("always-failing").expect.lost == 1
    timeout = load("receiver-timeout")
    assert timeout.receiver.delay > timeout.retry.timeout
    burst = load("burst-1000")
    assert sum(entry.repeat for entry in burst.callbacks) == 1000
    assert load("json-encoding").encoding == "json"
    transcode = load("multi-resolution").callbacks[0].event_params()["transcode"]
    resolutions = [output["resolution"] for output in transcode]
    assert resolutions == ["360p", "540p", "720p"]
    assert load("receiver-reset").receiver.reset is True
    demo = load("demo")
    assert [entry.respond for entry in demo.callbacks] == [[200], [500, 500, 200], [500]]


@pytest.mark.parametrize("path", BUNDLED_FILES, ids=lambda path: path.name)
async def test_bundled_scenario_meets_its_expectations_against_the_builtin_receiver(
    path: Path, tmp_path: Path
) -> None:
    from emulator.run.runner import execute
    from emulator.settings import RunOptions, Secret

    options = RunOptions(
        secret=Secret("bundled-scenario-test-secret", "test"),
        virtual=True,
        live=False,
        builtin_receiver=True,
        record=tmp_path / "record.jsonl",
    )
    result = await execute(load_scenario(path), options, source=str(path))
    assert result.exit_code == 0, [failed.describe() for failed in result.failed]


# --- the secret ---------------------------------------------------------------------------


def test_secret_comes_from_flag_then_secret_env_then_default_env(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    notes: list[str] = []
    previous = set_notice(notes.append)  # where the CLI prints them: stderr
    try:
        named = Scenario.model_validate({"secret_env": "MY_ZEGO_SECRET", "callbacks": [{}]})
        plain = Scenario.model_validate({"callbacks": [{}]})
        monkeypatch.setenv("MY_ZEGO_SECRET", "from-named-env")
        monkeypatch.setenv(CALLBACK_SECRET_ENV, "from-default-env")
        flag = scenario_secret(named, "from-flag")
        assert (flag.value, flag.source) == ("from-flag", "--secret")
        assert scenario_secret(named, None).value == "from-named-env"
        assert scenario_secret(named, None).source == "env MY_ZEGO_SECRET"
        assert scenario_secret(plain, None).value == "from-default-env"
        monkeypatch.delenv("MY_ZEGO_SECRET")
        assert scenario_secret(named, None).value == "from-default-env"
        monkeypatch.delenv(CALLBACK_SECRET_ENV)
        fallback = scenario_secret(named, None)
        assert fallback.is_default and fallback.value == DEV_CALLBACK_SECRET
    finally:
        set_notice(previous)
    text = "\n".join(notes)
    assert "from-" not in text  # notes name variables, never values
    assert "MY_ZEGO_SECRET is not set" in text


# --- schema and command line --------------------------------------------------------------


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "emulator", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        env=env,
    )


def test_schema_command_prints_a_described_json_schema() -> None:
    result = run_cli("schema")
    assert result.returncode == 0, result.stderr
    schema = json.loads(result.stdout)
    assert schema["title"] == "zego-emulator scenario"
    assert "required" not in schema  # callbacks, unless calls: or sessions: generate them
    assert "calls" in schema["properties"]["callbacks"]["description"]
    assert "sessions" in schema["properties"]["callbacks"]["description"]
    assert not [name for name, prop in schema["properties"].items() if not prop.get("description")]
    entries = schema["properties"]["callbacks"]["items"]["anyOf"]
    assert {ref["$ref"].rsplit("/", 1)[-1] for ref in entries} == {
        "ProcedureEntry",
        "ComposeEntry",
        "SnapshotEntry",
        *(entry_model_name(name) for name in EVENT_NAMES if name.startswith("zim.")),
        # the RTC catalogue and Cloud Recording (issue 15)
        "RoomCreateEntry",
        "RoomCloseEntry",
        "RoomLoginEntry",
        "RoomLogoutEntry",
        "StreamCreateEntry",
        "StreamCloseEntry",
        "MixStartEntry",
        "MixStopEntry",
        "TranscodeStartEntry",
        "TranscodeStopEntry",
        "RecordEntry",
        "CloudRecordingEntry",
    }
    assert "ZimRoomCreateEntry" in schema["$defs"]
    respond = schema["$defs"]["ProcedureEntry"]["properties"]["respond"]
    assert "task_id" in respond["description"]


CLI_BAD = [
    ("unknown-key-callback.yaml", "4: callbacks[1].stauts: unknown key 'stauts'"),
    ("bad-resolution.yaml", "5: callbacks[0].transcode[1].resolution: "),
    ("syntax-tab-indent.yaml", "3: a tab character"),
    ("alias-bomb.yaml", "6: x-e[5]: "),
    ("target-ftp.yaml", "2: target: "),
    ("json-syntax.json", "5: invalid JSON"),
]


@pytest.mark.parametrize(("name", "where"), CLI_BAD, ids=[name for name, _ in CLI_BAD])
def test_run_rejects_a_bad_scenario_with_exit_2_and_one_line(name: str, where: str) -> None:
    relative = f"tests/scenario/scenarios_bad/{name}"
    result = run_cli("run", relative, "--target", "http://127.0.0.1:9/never-contacted")
    assert result.returncode == 2, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert f"{relative}:{where}" in lines[0]
    assert "Traceback" not in result.stderr + result.stdout


def test_run_loads_every_file_before_running_any(tmp_path: Path) -> None:
    good = BUNDLED / "first-try-success.yaml"
    record = tmp_path / "record.jsonl"
    result = run_cli(
        "run", str(good), str(BAD / "bad-status.yaml"), "--virtual", "--record", str(record)
    )
    assert result.returncode == 2
    assert "bad-status.yaml:3: callbacks[0].status" in result.stderr
    assert not record.exists()


def test_run_reports_a_missing_or_huge_file_with_exit_2(tmp_path: Path) -> None:
    for path, fragment in (
        (tmp_path / "nope.yaml", "nope.yaml: no such file"),
        (fifty_megabytes(tmp_path), "fifty-megabytes.yaml: the file is 50.0 MiB"),
    ):
        result = run_cli("run", str(path), "--target", "http://127.0.0.1:9/")
        assert result.returncode == 2
        assert len(result.stderr.splitlines()) == 1
        assert fragment in result.stderr
        assert "Traceback" not in result.stderr
