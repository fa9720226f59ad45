"""``zego-emulator run``, ``send`` and ``show`` as a user runs them.

The receiver is a real aiohttp server on 127.0.0.1 running in a background thread (the
command runs its own event loop in the test's thread). Exit codes: 0 every expectation
held, 1 one failed (or ``send``'s callback was lost), 2 bad input, never a traceback.
"""

from __future__ import annotations

import json
import shlex
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from scripted import ScriptedReceiver, ThreadedReceiver

from emulator.cli.main import main
from emulator.record.reader import read_record
from emulator.verify import verify_callback

SECRET = "cli-run-secret-7f3a91c2e8"  # distinctive: must never show up anywhere


@pytest.fixture
def accepting() -> Iterator[ThreadedReceiver]:
    with ThreadedReceiver(ScriptedReceiver(statuses=[200], per_task=True)) as receiver:
        yield receiver


@pytest.fixture
def failing() -> Iterator[ThreadedReceiver]:
    with ThreadedReceiver(ScriptedReceiver(statuses=[500], per_task=True)) as receiver:
        yield receiver


@pytest.fixture(autouse=True)
def secret_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("ZEGO_CALLBACK_SECRET", SECRET)
    monkeypatch.chdir(tmp_path)  # default records go to tmp_path/runs


def write(path: Path, text: str) -> str:
    path.write_text(text)
    return str(path)


def expecting_one_delivered(tmp_path: Path, name: str = "one.yaml") -> str:
    return write(
        tmp_path / name,
        "name: one callback\ncallbacks:\n  - status: SUCCESS\nexpect:\n  delivered: 1\n"
        "  lost: 0\n  attempts: 1\n",
    )


# --- run -------------------------------------------------------------------------------


def test_run_exits_0_when_every_expectation_holds(
    tmp_path: Path, accepting: ThreadedReceiver, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["run", expecting_one_delivered(tmp_path), "--target", accepting.url, "--virtual"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert len(accepting.requests) == 1
    records = list((tmp_path / "runs").glob("*-one-callback.jsonl"))
    assert len(records) == 1 and f"record: {records[0].relative_to(tmp_path)}" in out
    assert read_record(records[0])[-1]["type"] == "summary"


def test_run_exits_1_and_prints_each_failed_expectation(
    tmp_path: Path, failing: ThreadedReceiver, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["run", expecting_one_delivered(tmp_path), "--target", failing.url, "--virtual"])
    out, _ = capsys.readouterr()
    assert code == 1
    assert len(failing.requests) == 6
    assert "expectation failed: delivered: expected 1, observed 0" in out
    assert "expectation failed: lost: expected 0, observed 1" in out
    assert "expectation failed: attempts: expected 1, observed 6" in out


def test_run_json_prints_exactly_the_summary_line(
    tmp_path: Path, failing: ThreadedReceiver, capsys: pytest.CaptureFixture[str]
) -> None:
    record = tmp_path / "run.jsonl"
    code = main(
        [
            "run", expecting_one_delivered(tmp_path), "--target", failing.url,
            "--virtual", "--json", "--record", str(record),
        ]
    )  # fmt: skip
    out, err = capsys.readouterr()
    assert code == 1
    summary = json.loads(out)
    assert summary == read_record(record)[-1]
    assert summary["type"] == "summary"
    assert (summary["callbacks"], summary["delivered"], summary["lost"], summary["attempts"]) == (
        1,
        0,
        1,
        6,
    )
    assert [e["name"] for e in summary["expectations"] if not e["ok"]] == [
        "delivered",
        "lost",
        "attempts",
    ]
    assert f"record: {record}" in err  # everything but the JSON goes to stderr


def test_run_bad_scenario_exits_2_with_file_line_and_field_before_any_request(
    tmp_path: Path, accepting: ThreadedReceiver, capsys: pytest.CaptureFixture[str]
) -> None:
    good = expecting_one_delivered(tmp_path)
    bad = write(tmp_path / "bad.yaml", "name: bad\ncallbacks:\n  - status: MAYBE\n")
    code = main(["run", good, bad, "--target", accepting.url, "--virtual"])
    _, err = capsys.readouterr()
    assert code == 2
    assert f"{bad}:3" in err and "status" in err
    assert "Traceback" not in err
    assert accepting.requests == []  # every file is validated before anything runs


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["run", "missing.yaml", "--virtual"], "missing.yaml"),
        (["run", "--virtual"], "scenario file"),
    ],
)
def test_run_unusable_input_exits_2(
    argv: list[str], needle: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    assert needle in capsys.readouterr().err


def test_run_without_a_target_exits_2_naming_the_scenario_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = expecting_one_delivered(tmp_path)
    assert main(["run", path, "--virtual"]) == 2
    err = capsys.readouterr().err
    assert path in err and "--target" in err


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        (["--record", "{tmp}/a-file/run.jsonl"], "cannot write the record"),
        (["--ca-bundle", "{tmp}/missing.pem"], "--ca-bundle"),
        (["--target", "http://"], "with a host"),
    ],
)
def test_run_unusable_settings_exit_2_without_a_traceback(
    tmp_path: Path, extra: list[str], needle: str, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "a-file").write_text("not a directory")
    path = expecting_one_delivered(tmp_path)
    argv = ["run", path, "--target", "http://127.0.0.1:9/", "--virtual"]
    assert main(argv + [arg.format(tmp=tmp_path) for arg in extra]) == 2
    err = capsys.readouterr().err
    assert needle in err and "Traceback" not in err


def test_run_bad_flag_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["run", "x.yaml", "--speed", "0"])
    assert exit_info.value.code == 2


def test_run_several_scenarios_one_record_each_worst_exit_code(
    tmp_path: Path, accepting: ThreadedReceiver, capsys: pytest.CaptureFixture[str]
) -> None:
    first = expecting_one_delivered(tmp_path, "a.yaml")
    second = write(
        tmp_path / "b.yaml",
        "name: two callbacks\ncallbacks:\n  - repeat: 2\nexpect:\n  delivered: 3\n",
    )
    code = main(["run", first, second, "--target", accepting.url, "--virtual", "--json"])
    out, _ = capsys.readouterr()
    assert code == 1
    summaries = json.loads(out)
    assert [s["delivered"] for s in summaries] == [1, 2]
    assert [s["scenario"] for s in summaries] == ["one callback", "two callbacks"]
    assert len(list((tmp_path / "runs").glob("*.jsonl"))) == 2


def test_run_builtin_receiver_answers_from_the_scenario_script(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(
        tmp_path / "builtin.yaml",
        "name: retry then success\ncallbacks:\n  - {}\nreceiver:\n  responses: [500, 500, 200]\n"
        "expect:\n  delivered: 1\n  attempts: 3\n",
    )
    code = main(["run", path, "--builtin-receiver", "--virtual", "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert json.loads(out)["attempts"] == 3


def test_secret_appears_in_no_output_and_no_record(
    tmp_path: Path, failing: ThreadedReceiver, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(
        tmp_path / "secretive.yaml",
        "name: secretive\nretry:\n  resign_each_attempt: true\ncallbacks:\n"
        "  - repeat: 2\n  - tamper: bad_signature\n  - tamper: stale_timestamp\n",
    )
    outputs = []
    for extra in (["--json"], ["--no-live"]):
        main(["run", path, "--target", failing.url, "--virtual", *extra])
        outputs.append(capsys.readouterr())
    main(["send", "--target", failing.url, "--virtual", "--json"])
    outputs.append(capsys.readouterr())
    main(["show", path])
    outputs.append(capsys.readouterr())
    main(["show", path, "--json"])
    outputs.append(capsys.readouterr())
    for captured in outputs:
        assert SECRET not in captured.out and SECRET not in captured.err
    records = list((tmp_path / "runs").glob("*.jsonl"))
    assert len(records) == 3
    for record in records:
        assert SECRET not in record.read_text()
    assert len(failing.requests) == 2 * 4 * 6 + 6
    signed = [body for body, ct in failing.requests if verify_callback(body, ct, SECRET).ok]
    assert signed  # the env secret really was the one used to sign


# --- send ------------------------------------------------------------------------------


def test_send_delivers_one_callback_built_from_flags(
    tmp_path: Path, accepting: ThreadedReceiver, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        [
            "send", "--target", accepting.url, "--virtual", "--status", "SUCCESS",
            "--resolution", "540p", "--resolution", "720p", "--task-id", "task-42",
            "--file-id", "file-7", "--field", "extra=1=2", "--encoding", "json",
        ]
    )  # fmt: skip
    assert code == 0, capsys.readouterr().err
    [(body, content_type)] = accepting.requests
    verdict = verify_callback(body, content_type, SECRET)
    assert verdict.ok and verdict.encoding == "json"
    fields = verdict.fields
    assert (fields["task_id"], fields["file_id"], fields["extra"]) == ("task-42", "file-7", "1=2")
    transcode = json.loads(fields["extra_params"])["media"]["transcode"]
    assert [t["video"]["height"] for t in transcode] == [540, 720]


def test_send_exits_1_when_the_callback_is_lost(
    failing: ThreadedReceiver, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["send", "--target", failing.url, "--virtual", "--json"])
    summary = json.loads(capsys.readouterr().out)
    assert code == 1
    assert summary["lost"] == 1 and summary["attempts"] == 6


def test_send_tamper_reaches_the_wire(
    accepting: ThreadedReceiver, capsys: pytest.CaptureFixture[str]
) -> None:
    # issue 14: a tampered callback expects refused, so a receiver accepting it fails (was 0)
    assert main(["send", "--target", accepting.url, "--virtual", "--tamper", "bad_signature"]) == 1
    [(body, content_type)] = accepting.requests
    assert not verify_callback(body, content_type, SECRET).signature_ok
    out = capsys.readouterr().out
    assert "callback cb-000001 (procedure): expected refused, accepted (200 on attempt 1)" in out


@pytest.mark.parametrize(
    "argv",
    [
        ["send", "--field", "novalue", "--target", "http://127.0.0.1:9/"],
        ["send", "--status", "MAYBE", "--target", "http://127.0.0.1:9/"],
        ["send", "--virtual"],  # no target
        ["send", "--target", "ftp://127.0.0.1/"],
    ],
)
def test_send_bad_input_exits_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "error:" in err and "Traceback" not in err


CATALOGUE = (
    "room_create", "room_close", "room_login", "room_logout", "stream_create",
    "stream_close", "mix_start", "mix_stop", "transcode_start", "transcode_stop",
    "record", "cloud_recording",
)  # fmt: skip


@pytest.mark.parametrize("event", CATALOGUE)
def test_send_event_delivers_every_catalogue_event(
    event: str, accepting: ThreadedReceiver, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["send", "--event", event, "--target", accepting.url, "--virtual", "--json"]
    assert main([*argv, "--encoding", "json"]) == 0, capsys.readouterr().err
    [(body, content_type)] = accepting.requests
    verdict = verify_callback(body, content_type, SECRET)
    assert verdict.ok
    sent = json.loads(body)
    if event == "cloud_recording":
        assert "event" not in sent and type(sent["app_id"]) is int
    else:
        assert sent.get("event", sent.get("Event")) == event
    summary = json.loads(capsys.readouterr().out)
    assert summary["delivered"] == 1


def test_show_prints_every_catalogue_event_with_its_typed_fields(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    entries = "".join(f"  - event: {event}\n" for event in CATALOGUE)
    path = write(tmp_path / "all.yaml", f"encoding: json\ncallbacks:\n{entries}")
    assert main(["show", path, "--json"]) == 0
    requests = json.loads(capsys.readouterr().out)["requests"]
    assert [request["event"] for request in requests] == list(CATALOGUE)
    for request in requests:
        assert verify_callback(request["body"].encode(), "application/json", SECRET).ok
        assert request["fields"] == json.loads(request["body"])
    assert type(requests[0]["fields"]["room_session_id"]) is int
    assert requests[4]["nested"]["rtmp_url"] == requests[4]["fields"]["rtmp_url"]
    assert main(["show", path]) == 0
    out = capsys.readouterr().out
    assert out.count("curl ") == len(CATALOGUE)
    assert "  room_session_id (JSON number) = " in out and "  Details (JSON object) = {" in out
    assert "  stream_attr (JSON text in a string) = {" in out
    assert "  rtmp_url (JSON array) = [" in out and "  room_id = " in out


# --- show ------------------------------------------------------------------------------


def test_show_curl_line_delivers_a_body_that_verifies(
    tmp_path: Path, accepting: ThreadedReceiver, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(
        tmp_path / "show.yaml",
        "name: show me\nencoding: json\ncallbacks:\n  - transcode: [{resolution: 720p}]\n"
        "    fields: {note: \"it's a 'quoted' $HOME value\"}\n",
    )
    assert main(["show", path, "--target", accepting.url]) == 0
    out = capsys.readouterr().out
    curl_lines = [line for line in out.splitlines() if line.startswith("curl ")]
    assert len(curl_lines) == 1
    assert "Content-Type: application/json" in out and "User-Agent: zego-callback-emulator/" in out
    assert '"transcode": [' in out  # extra_params pretty-printed
    subprocess.run(["bash", "-c", curl_lines[0]], check=True, capture_output=True, timeout=30)
    [(body, content_type)] = accepting.requests
    assert content_type == "application/json"
    verdict = verify_callback(body, content_type, SECRET)
    assert verdict.ok
    assert verdict.fields["note"] == "it's a 'quoted' $HOME value"
    # the line is exactly what run would send: shlex reads the same body back
    words = shlex.split(curl_lines[0])
    assert words[words.index("--data-binary") + 1].encode() == body


def test_show_json_lists_every_request_with_headers_and_duplicates(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path / "dups.yaml", "callbacks:\n  - duplicates: 1\n  - repeat: 2\n")
    assert main(["show", path, "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    requests = document["requests"]
    assert [r["callback_id"] for r in requests] == [
        "cb-000001",
        "cb-000001-dup1",
        "cb-000002",
        "cb-000003",
    ]
    assert requests[1]["duplicate_of"] == "cb-000001" and requests[1]["body"] == requests[0]["body"]
    for request in requests:
        assert request["method"] == "POST"
        assert int(request["headers"]["Content-Length"]) == len(request["body"].encode())
        assert verify_callback(
            request["body"].encode(), request["headers"]["Content-Type"], SECRET
        ).ok


def test_show_bad_scenario_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path / "bad.yaml", "callbacks: []\n")
    assert main(["show", path]) == 2
    assert str(path) in capsys.readouterr().err
