"""Settings are resolved once, the same way, in every mode (issue #13).

Each mode puts one source between its flags and the environment: ``resume`` the record's
``run`` line, ``run --replay`` the recorded runs, ``api`` its ``--sessions`` scenario. The
tests drive the command line over real sockets and judge what arrived the way ZEGO's docs
say a receiver checks it (sha1 of the sorted secret, timestamp and nonce): a flag beats
the recorded/scenario value, which beats the environment, which beats the default. A bad
URL or a missing CA bundle is the same one line and exit 2 in every mode, and no secret
is ever printed or recorded.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import pytest
from scripted import ScriptedReceiver, ThreadedReceiver

DEV_SECRET = "zego-emulator-dev-callback-secret"  # the README's development secret
FLAG_SECRET = "flag-secret-0001"
LAYER_SECRET = "layer-secret-0002"  # in the variable the scenario's secret_env names
ENV_SECRET = "env-secret-0003"  # in ZEGO_CALLBACK_SECRET
ALL_SECRETS = (FLAG_SECRET, LAYER_SECRET, ENV_SECRET)
BOTH = {"LAYER_SECRET": LAYER_SECRET, "ZEGO_CALLBACK_SECRET": ENV_SECRET}

SCENARIO = """\
name: layers
seed: 3
encoding: json
secret_env: LAYER_SECRET
retry: {{intervals: []{timeout}}}
callbacks:
  - event: procedure
    status: SUCCESS
"""


def signed_with(body: bytes) -> str:
    """Which of the test's secrets signed ``body``, checked as ZEGO's docs say."""
    fields = json.loads(body)
    for secret in (*ALL_SECRETS, DEV_SECRET):
        text = "".join(sorted([secret, str(fields["timestamp"]), str(fields["nonce"])]))
        if hmac.compare_digest(hashlib.sha1(text.encode()).hexdigest(), fields["signature"]):
            return secret
    return "none"


def env_with(secrets: Mapping[str, str]) -> dict[str, str]:
    """The environment with exactly these callback-secret variables set."""
    env = {k: v for k, v in os.environ.items() if k not in ("ZEGO_CALLBACK_SECRET", "LAYER_SECRET")}
    return {**env, **secrets}


def cli(
    args: Sequence[str], env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``zego-emulator ARGS`` in a child process (bounded)."""
    return subprocess.run(
        [sys.executable, "-m", "emulator", *args],
        env=dict(env if env is not None else env_with({})),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def assert_no_secret(*texts: str) -> None:
    for text in texts:
        for secret in ALL_SECRETS:
            assert secret not in text


def lines_of(record: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in record.read_text().splitlines() if line.strip()]


@pytest.fixture
def receiver() -> Iterator[ThreadedReceiver]:
    with ThreadedReceiver(ScriptedReceiver()) as served:
        yield served


@pytest.fixture
def slow_receiver() -> Iterator[ThreadedReceiver]:
    """Answers 200 after 1.5 s: a 0.3 s timeout gives up, the default 5 s does not."""
    with ThreadedReceiver(ScriptedReceiver(answer_after=1.5)) as served:
        yield served


def recorded_run(tmp_path: Path, target: str, timeout: str = "") -> Path:
    """A finished run's record (the callback delivered to ``target``)."""
    scenario = tmp_path / "layers.yaml"
    scenario.write_text(SCENARIO.format(timeout=timeout))
    record = tmp_path / "original.jsonl"
    done = cli(
        ["run", str(scenario), "--target", target, "--virtual", "--record", str(record)],
        env_with({"LAYER_SECRET": LAYER_SECRET}),
    )
    assert done.returncode == 0, done.stderr
    assert_no_secret(record.read_text())
    return record


def killed_copy(record: Path, name: str, **run_line: object) -> Path:
    """The record as a SIGKILL right after its run line left it (``run_line``: hand edits;
    a value of None removes the key)."""
    run = next(line for line in lines_of(record) if line["type"] == "run")
    for key, value in run_line.items():
        if value is None:
            run.pop(key, None)
        else:
            run[key] = value
    copy = record.with_name(name)
    copy.write_text(json.dumps(run) + "\n")
    return copy


def attempts_of(record: Path) -> list[dict[str, object]]:
    return [line for line in lines_of(record) if line["type"] == "attempt"]


# --- resume: flags > the record's run line > environment > defaults ----------------------


@pytest.mark.parametrize(
    ("flags", "environment", "signer"),
    [
        (["--secret", FLAG_SECRET], BOTH, FLAG_SECRET),
        ([], BOTH, LAYER_SECRET),
        ([], {"ZEGO_CALLBACK_SECRET": ENV_SECRET}, ENV_SECRET),
        ([], {}, DEV_SECRET),
    ],
    ids=["flag", "record-secret-env", "environment", "default"],
)  # fmt: skip
def test_resume_signs_unsent_callbacks_with_the_highest_secret_given(
    tmp_path: Path,
    receiver: ThreadedReceiver,
    flags: list[str],
    environment: dict[str, str],
    signer: str,
) -> None:
    original = recorded_run(tmp_path, receiver.url)
    killed = killed_copy(original, "killed.jsonl")
    before = len(receiver.requests)
    done = cli(["resume", str(killed), "--virtual", *flags], env_with(environment))
    assert done.returncode == 0, done.stderr
    ((body, _),) = receiver.requests[before:]
    assert signed_with(body) == signer
    assert_no_secret(done.stdout, done.stderr, killed.read_text())


def test_resume_sends_to_the_flag_target_over_the_recorded_one(
    tmp_path: Path, receiver: ThreadedReceiver
) -> None:
    with ThreadedReceiver(ScriptedReceiver()) as elsewhere:
        original = recorded_run(tmp_path, receiver.url)
        before = len(receiver.requests)
        by_record = cli(["resume", str(killed_copy(original, "a.jsonl")), "--virtual"])
        assert by_record.returncode == 0, by_record.stderr
        assert len(receiver.requests) == before + 1  # the run line's target
        killed = killed_copy(original, "b.jsonl")
        by_flag = cli(["resume", str(killed), "--virtual", "--target", elsewhere.url])
        assert by_flag.returncode == 0, by_flag.stderr
        assert len(receiver.requests) == before + 1 and len(elsewhere.requests) == 1
        # no target anywhere (nothing below the record gives one): one line, exit 2
        lost = killed_copy(original, "c.jsonl", target="")
        refused = cli(["resume", str(lost), "--virtual"])
    assert refused.returncode == 2
    assert refused.stderr.count("\n") == 1 and "give --target URL" in refused.stderr


@pytest.mark.parametrize(
    ("recorded", "flags", "result"),
    [(0.3, ["--timeout", "10"], 200), (0.3, [], "timeout"), (None, [], 200)],
    ids=["flag", "run-line", "default"],
)
def test_resume_timeout_is_the_flag_else_the_run_lines_else_five_seconds(
    tmp_path: Path,
    slow_receiver: ThreadedReceiver,
    recorded: float | None,
    flags: list[str],
    result: object,
) -> None:
    timeout = "" if recorded is None else f", timeout: {recorded}"
    with ThreadedReceiver(ScriptedReceiver()) as fast:
        original = recorded_run(tmp_path, fast.url, timeout)
    killed = killed_copy(original, "killed.jsonl", target=slow_receiver.url)
    done = cli(["resume", str(killed), "--virtual", *flags])
    assert done.returncode in (0, 1), done.stderr
    (attempt,) = attempts_of(killed)
    assert (attempt["error"] or attempt["status"]) == result


# --- run --replay: flags > the recorded runs > environment > defaults --------------------


@pytest.mark.parametrize(
    ("flags", "environment", "signer"),
    [
        (["--secret", FLAG_SECRET], {"ZEGO_CALLBACK_SECRET": ENV_SECRET}, FLAG_SECRET),
        ([], {"ZEGO_CALLBACK_SECRET": ENV_SECRET}, ENV_SECRET),
        ([], {}, DEV_SECRET),
    ],
    ids=["flag", "environment", "default"],
)
def test_replay_resigns_with_the_highest_secret_given(
    tmp_path: Path,
    receiver: ThreadedReceiver,
    flags: list[str],
    environment: dict[str, str],
    signer: str,
) -> None:
    original = recorded_run(tmp_path, receiver.url)
    assert signed_with(receiver.requests[0][0]) == LAYER_SECRET
    out = tmp_path / "replay.jsonl"
    done = cli(
        ["run", "--replay", str(original), "--target", receiver.url, "--resign", "--virtual",
         "--record", str(out), *flags],
        env_with(environment),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert signed_with(receiver.requests[-1][0]) == signer
    assert_no_secret(done.stdout, done.stderr, out.read_text())


@pytest.mark.parametrize(
    ("recorded", "flags", "result"),
    [(0.3, ["--timeout", "10"], 200), (0.3, [], "timeout"), (None, [], 200)],
    ids=["flag", "recorded-run", "default"],
)
def test_replay_timeout_is_the_flag_else_the_recorded_runs_else_five_seconds(
    tmp_path: Path,
    slow_receiver: ThreadedReceiver,
    recorded: float | None,
    flags: list[str],
    result: object,
) -> None:
    with ThreadedReceiver(ScriptedReceiver()) as fast:
        original = recorded_run(tmp_path, fast.url)
    lines = lines_of(original)
    for line in lines:
        if line["type"] == "run":
            line.pop("timeout")
            if recorded is not None:
                line["timeout"] = recorded
    original.write_text("".join(json.dumps(line) + "\n" for line in lines))
    out = tmp_path / "replay.jsonl"
    done = cli(
        ["run", "--replay", str(original), "--target", slow_receiver.url, "--virtual",
         "--record", str(out), *flags]
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    (attempt,) = attempts_of(out)
    assert (attempt["error"] or attempt["status"]) == result


# --- api: flags > the --sessions scenario > environment > defaults -----------------------

SESSIONS = """\
name: api-layers
secret_env: LAYER_SECRET
retry: {{intervals: []{timeout}}}
sessions:
  - {{room_id: r1, users: 1}}
"""


def serve_api(
    tmp_path: Path,
    callback_url: str,
    flags: Sequence[str],
    environment: Mapping[str, str],
    until: str,
    timeout: str = "",
) -> tuple[Path, str, str]:
    """Run ``api --sessions`` until its record holds an ``until`` line, then SIGTERM it;
    (record, stdout, stderr)."""
    scenario = tmp_path / "sessions.yaml"
    scenario.write_text(SESSIONS.format(timeout=timeout))
    record = tmp_path / "api.jsonl"
    process = subprocess.Popen(
        [sys.executable, "-m", "emulator", "api", "--port", "0", "--sessions", str(scenario),
         "--callback-url", callback_url, "--record", str(record), *flags],
        env=env_with(environment), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        for _ in range(1200):  # a bound, not a timing assertion
            if record.exists() and any(line["type"] == until for line in lines_of(record)):
                break
            if process.poll() is not None:
                break
            time.sleep(0.05)
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, err
    return record, out, err


@pytest.mark.parametrize(
    ("flags", "environment", "signer"),
    [
        (["--callback-secret", FLAG_SECRET], BOTH, FLAG_SECRET),
        ([], BOTH, LAYER_SECRET),
        ([], {"ZEGO_CALLBACK_SECRET": ENV_SECRET}, ENV_SECRET),
        ([], {}, DEV_SECRET),
    ],
    ids=["flag", "scenario-secret-env", "environment", "default"],
)  # fmt: skip
def test_api_signs_callbacks_with_the_highest_secret_given(
    tmp_path: Path,
    receiver: ThreadedReceiver,
    flags: list[str],
    environment: dict[str, str],
    signer: str,
) -> None:
    record, out, err = serve_api(tmp_path, receiver.url, flags, environment, "outcome")
    assert receiver.requests
    assert {signed_with(body) for body, _ in receiver.requests} == {signer}
    assert_no_secret(out, err, record.read_text())


@pytest.mark.parametrize(
    ("scenario_timeout", "flags", "result"),
    [(", timeout: 0.3", ["--timeout", "10"], 200), (", timeout: 0.3", [], "timeout"),
     ("", [], 200)],
    ids=["flag", "scenario", "default"],
)  # fmt: skip
def test_api_timeout_is_the_flag_else_the_scenarios_else_five_seconds(
    tmp_path: Path,
    slow_receiver: ThreadedReceiver,
    scenario_timeout: str,
    flags: list[str],
    result: object,
) -> None:
    record, _, _ = serve_api(
        tmp_path, slow_receiver.url, flags, {}, "attempt", timeout=scenario_timeout
    )
    first = attempts_of(record)[0]
    assert (first["error"] or first["status"]) == result


# --- one URL check, one TLS setup: the same line and exit 2 in every mode ----------------


@pytest.fixture
def finished_record(tmp_path: Path, receiver: ThreadedReceiver) -> Path:
    return recorded_run(tmp_path, receiver.url)


def mode_args(mode: str, record: Path) -> list[str]:
    scenario = record.with_name("layers.yaml")
    return {
        "run": ["run", str(scenario), "--virtual"],
        "resume": ["resume", str(killed_copy(record, "k.jsonl")), "--virtual"],
        "replay": ["run", "--replay", str(record), "--virtual"],
        "api": ["api", "--port", "0"],
    }[mode]


MODES = ["run", "resume", "replay", "api"]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("ftp://127.0.0.1/cb", "expected an http:// or https:// URL, got 'ftp://127.0.0.1/cb' "
         "(scheme 'ftp')"),
        ("http://127.0.0.1:0/cb", "expected a port from 1 to 65535, got 'http://127.0.0.1:0/cb'"),
    ],
    ids=["scheme", "port-0"],
)  # fmt: skip
def test_a_bad_url_is_the_same_one_line_and_exit_2_in_every_mode(
    finished_record: Path, mode: str, url: str, problem: str
) -> None:
    flag = "--callback-url" if mode == "api" else "--target"
    command = "run" if mode == "replay" else mode
    done = cli([*mode_args(mode, finished_record), flag, url])
    assert done.returncode == 2
    assert done.stderr == f"zego-emulator {command}: error: {flag}: {problem}\n"


@pytest.mark.parametrize("mode", MODES)
def test_a_missing_ca_bundle_is_the_same_one_line_and_exit_2_in_every_mode(
    finished_record: Path, receiver: ThreadedReceiver, mode: str
) -> None:
    flag = "--callback-url" if mode == "api" else "--target"
    command = "run" if mode == "replay" else mode
    missing = finished_record.with_name("nonexistent.pem")
    before = len(receiver.requests)
    done = cli([*mode_args(mode, finished_record), flag, receiver.url, "--ca-bundle", str(missing)])
    assert done.returncode == 2
    assert done.stderr == (
        f"zego-emulator {command}: error: --ca-bundle {missing}: cannot use it: "
        "No such file or directory\n"
    )
    assert len(receiver.requests) == before  # nothing was sent


def test_a_bad_target_in_the_record_is_one_line_naming_it(
    tmp_path: Path, receiver: ThreadedReceiver
) -> None:
    original = recorded_run(tmp_path, receiver.url)
    killed = killed_copy(original, "k.jsonl", target="ftp://127.0.0.1/cb")
    done = cli(["resume", str(killed), "--virtual"])
    assert done.returncode == 2
    assert re.fullmatch(
        rf"zego-emulator resume: error: {re.escape(str(killed))}: run \S+: target: expected an "
        r"http:// or https:// URL, got 'ftp://127.0.0.1/cb' \(scheme 'ftp'\)\n",
        done.stderr,
    ), done.stderr
