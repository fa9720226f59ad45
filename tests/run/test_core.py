"""The run core every mode sits on: what used to drift between run, replay and load mode.

Each test here pins one bug the five hand-made copies of "a run" had (issue 13): Ctrl-C
during a replay, a replay's unusable CA file, load mode's URL check, load mode's ``run``
line and entry stamps, two replays started in the same second. Real sockets on 127.0.0.1,
the real command line (in-process, or a child process where a signal is sent).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from scripted import ScriptedReceiver, ThreadedReceiver

from emulator import settings
from emulator.cli.main import main
from emulator.record.reader import read_record
from emulator.wire import decode

ROOT = Path(__file__).resolve().parents[2]
SECRET = "core-test-secret-8c1e"


@pytest.fixture(autouse=True)
def in_tmp(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.setenv("ZEGO_CALLBACK_SECRET", SECRET)
    monkeypatch.chdir(tmp_path)  # default records go to tmp_path/runs
    return tmp_path


def a_record(tmp_path: Path, callbacks: int = 2) -> Path:
    """A finished record of ``callbacks`` delivered callbacks (what a replay re-sends)."""
    path = tmp_path / "original.jsonl"
    scenario = tmp_path / "original.yaml"
    scenario.write_text(f"callbacks:\n  - repeat: {callbacks}\n")
    with ThreadedReceiver(ScriptedReceiver(statuses=[200])) as receiver:
        argv = ["run", str(scenario), "--target", receiver.url, "--virtual", "--no-live"]
        assert main([*argv, "--record", str(path)]) == 0
    return path


def one_line_error(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err.strip()
    assert "Traceback" not in err and len(err.splitlines()) == 1, err
    return err


def wait_for(predicate: Any, seconds: float = 30.0) -> None:
    """Poll ``predicate`` (a file growing in another process) until true; bounded."""
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.02)


def lines_of(path: Path) -> list[dict[str, Any]]:
    return read_record(path) if path.exists() else []


# --- 1. Ctrl-C during run --replay leaves a summary -------------------------------------


def test_ctrl_c_during_a_replay_writes_the_summary_and_exits_130(tmp_path: Path) -> None:
    original = a_record(tmp_path)
    out = tmp_path / "replayed.jsonl"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    with ThreadedReceiver(ScriptedReceiver(statuses=[500])) as failing:
        argv = ["run", "--replay", str(original), "--target", failing.url, "--record", str(out)]
        child = subprocess.Popen(
            [sys.executable, "-m", "emulator", *argv, "--speed", "1", "--json"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            # both first requests failed; their retries wait 2 s: interrupt now
            wait_for(lambda: sum(line["type"] == "attempt" for line in lines_of(out)) == 2)
            child.send_signal(signal.SIGINT)
            stdout, stderr = child.communicate(timeout=30)
        finally:
            if child.poll() is None:
                child.kill()
                child.wait()
    assert child.returncode == 130, stderr
    lines = read_record(out)
    assert [line["type"] for line in lines].count("summary") == 1
    summary = lines[-1]
    assert summary["type"] == "summary" and summary["interrupted"] is True
    assert (summary["callbacks"], summary["pending"], summary["ok"]) == (2, 2, False)
    assert json.loads(stdout)["record"] == str(out)


# --- 2. run --replay with an unusable CA file: one line, exit 2 -------------------------


def test_replay_with_a_missing_ca_bundle_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    original = a_record(tmp_path, callbacks=1)
    capsys.readouterr()
    argv = ["run", "--replay", str(original), "--target", "https://127.0.0.1:9/cb"]
    assert main([*argv, "--ca-bundle", "/nonexistent.pem"]) == 2
    err = one_line_error(capsys)
    assert "--ca-bundle /nonexistent.pem: cannot use it" in err
    assert not (tmp_path / "runs").exists() or not any(
        "replay" in path.name for path in (tmp_path / "runs").iterdir()
    )  # refused before a record was started


# --- 3. load mode checks its target as run does ------------------------------------------


def test_load_mode_with_an_ftp_target_fails_like_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scenario = tmp_path / "one.yaml"
    scenario.write_text("callbacks:\n  - {}\n")
    assert main(["run", str(scenario), "--target", "ftp://host/cb", "--no-live"]) == 2
    run_error = one_line_error(capsys)
    argv = ["run", "--rate", "5", "--duration", "1", "--target", "ftp://host/cb", "--virtual"]
    assert main(argv) == 2
    load_error = one_line_error(capsys)
    problem = "expected an http:// or https:// URL, got 'ftp://host/cb' (scheme 'ftp')"
    assert problem in run_error and problem in load_error
    assert not (tmp_path / "runs").exists()  # nothing was recorded, nothing sent


# --- 4. load mode's run line, and an entry's timestamp:/nonce: ---------------------------


def test_load_mode_records_its_policy_and_plan_and_honours_entry_stamps(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scenario = tmp_path / "stamped.yaml"
    scenario.write_text(
        "retry:\n  intervals: [1, 3]\n  timeout: 2.5\n"
        "callbacks:\n  - timestamp: 1700000000\n    nonce: '424242'\n"
    )
    record = tmp_path / "load.jsonl"
    with ThreadedReceiver(ScriptedReceiver(statuses=[500, 200], per_task=True)) as receiver:
        argv = ["run", "--rate", "4", "--duration", "1", str(scenario), "--target", receiver.url]
        assert main([*argv, "--virtual", "--record", str(record), "--json"]) == 0
        requests = receiver.requests
    run_line = read_record(record)[0]
    assert run_line["type"] == "run"
    assert (run_line["intervals"], run_line["timeout"], run_line["callbacks"]) == ([1, 3], 2.5, 4)
    assert run_line["load"] == {"rate": 4, "duration": 1, "window": 100}
    assert len(requests) == 8  # 4 callbacks, each refused once then accepted
    for body, content_type in requests:
        fields = decode(body, content_type)
        assert (str(fields["timestamp"]), str(fields["nonce"])) == ("1700000000", "424242")
    attempts = [line for line in read_record(record) if line["type"] == "attempt"]
    assert {line["gap_s"] for line in attempts if line["attempt"] == 2} == {1.0}
    summary = json.loads(capsys.readouterr().out)
    assert (summary["callbacks"], summary["delivered"], summary["attempts"]) == (4, 4, 8)


# --- 5. two replays in the same second: -2, -3 ------------------------------------------


def test_two_replays_started_in_the_same_second_get_their_own_records(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    original = a_record(tmp_path, callbacks=1)
    second = time.gmtime(1_800_000_000)
    real_gmtime = time.gmtime
    monkeypatch.setattr(
        settings.time, "gmtime", lambda now=None: second if now is None else real_gmtime(now)
    )
    with ThreadedReceiver(ScriptedReceiver(statuses=[200])) as receiver:
        for _ in range(3):
            argv = ["run", "--replay", str(original), "--target", receiver.url, "--virtual"]
            assert main([*argv, "--json"]) == 0
    records = sorted((tmp_path / "runs").glob("*-replay*.jsonl"))
    stem = "20270115T080000Z-replay"
    assert [path.name for path in records] == [
        f"{stem}-2.jsonl",
        f"{stem}-3.jsonl",
        f"{stem}.jsonl",
    ]
    for path in records:
        lines = read_record(path)
        assert [line["type"] for line in lines].count("run") == 1  # one run per record
        assert lines[-1]["type"] == "summary" and lines[-1]["callbacks"] == 1
