"""Secrets never leave the process: no command prints, records or reports one.

Every command runs once with the secrets in the environment and once with them on the
command line; a distinctive callback secret and server secret must then appear in no
stdout, no stderr and no file the commands wrote (records, the receiver's and the mock
API's records, HTML and JUnit reports). ``receive`` and ``api`` run as real
subprocesses; the other commands run in-process through ``emulator.cli.main.main`` with the
output captured at the file-descriptor level. Passing a secret as a flag prints exactly
one ``hint:`` line per secret flag, naming the environment variable to use instead.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from emulator.callback.factory import CallbackFactory
from emulator.cli.main import main
from emulator.servers.api_client import ZegoApiClient

SECRET = "cbsecret-7f3a9d2e41"  # the callback secret
SERVER_SECRET = "srvsecret-c05b8e6a17"  # the server-API secret
SECRETS = (SECRET, SERVER_SECRET)
APP_ID = "1234567890"
DEADLINE = 60.0

SCENARIO = """\
name: secrets stay secret
seed: 4
callbacks:
  - event: procedure
    task_id: task-secrets
  - event: compose
expect:
  delivered: 2
"""


class Transcript:
    """Everything the commands printed, and the hints each printed."""

    def __init__(self) -> None:
        self.texts: list[tuple[str, str]] = []  # (what, text)

    def add(self, what: str, text: str) -> None:
        self.texts.append((what, text))

    def leaks(self, root: Path) -> list[str]:
        """Where a secret appears: printed text or any file under ``root``."""
        found = [what for what, text in self.texts if any(s in text for s in SECRETS)]
        for path in sorted(root.rglob("*")):
            if path.is_file() and any(s.encode() in path.read_bytes() for s in SECRETS):
                found.append(str(path.relative_to(root)))
        return found


def hints(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("hint:")]


@pytest.fixture(params=["env", "flag"])
def via(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Secrets in the environment (``env``) or only on the command line (``flag``)."""
    if request.param == "env":
        monkeypatch.setenv("ZEGO_CALLBACK_SECRET", SECRET)
        monkeypatch.setenv("ZEGO_SERVER_SECRET", SERVER_SECRET)
    else:
        monkeypatch.delenv("ZEGO_CALLBACK_SECRET", raising=False)
        monkeypatch.delenv("ZEGO_SERVER_SECRET", raising=False)
    return str(request.param)


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)  # default record paths (runs/...) land here too
    return tmp_path


def start(args: list[str], cwd: Path) -> subprocess.Popen[str]:
    """``python -m emulator ARGS`` with the test's environment, output piped."""
    return subprocess.Popen(
        [sys.executable, "-m", "emulator", *args],
        cwd=cwd,
        env=dict(os.environ, PYTHONUNBUFFERED="1"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def first_url(process: subprocess.Popen[str]) -> str:
    """The URL a server prints on its first line."""
    assert process.stdout is not None
    line = process.stdout.readline()
    found = re.search(r"https?://[0-9.:\[\]a-z]+", line)
    assert found, f"no URL in the first line {line!r}"
    return found.group(0)


def stop(process: subprocess.Popen[str], what: str, transcript: Transcript) -> tuple[str, str]:
    """Ctrl-C a server subprocess and keep what it printed."""
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=DEADLINE)
    transcript.add(f"{what} stdout", stdout)
    transcript.add(f"{what} stderr", stderr)
    return stdout, stderr


@pytest.fixture
def servers(in_tmp: Path, via: str) -> Iterator[dict[str, Any]]:
    """``receive`` and ``api`` subprocesses (api's callbacks go to the receiver)."""
    secret_flags = ["--secret", SECRET] if via == "flag" else []
    receive = start(["receive", "--port", "0", "--record", "received.jsonl", *secret_flags], in_tmp)
    api: subprocess.Popen[str] | None = None
    try:
        receiver_url = first_url(receive)
        api_flags = (
            ["--server-secret", SERVER_SECRET, "--callback-secret", SECRET] if via == "flag" else []
        )
        api = start(
            [
                "api", "--port", "0", "--app-id", APP_ID,
                "--callback-url", f"{receiver_url}/zego/callback",
                "--speed", "100", "--processing-time", "1", "--record", "api.jsonl",
                *api_flags,
            ],
            in_tmp,
        )  # fmt: skip
        api_url = first_url(api)
        yield {"receive": receive, "api": api, "receiver": receiver_url, "api_url": api_url}
    finally:
        for process in (receive, api):
            if process is not None and process.poll() is None:
                process.kill()
                process.communicate()


def run_cli(args: list[str], capfd: pytest.CaptureFixture[str], transcript: Transcript) -> str:
    """Run one command in-process; returns its stderr (both streams go to the transcript)."""
    code = main(args)
    out, err = capfd.readouterr()
    transcript.add(f"{args[0]} stdout", out)
    transcript.add(f"{args[0]} stderr", err)
    assert code in (0, 1), f"{args}: exit {code}: {err}"
    assert "Traceback" not in out + err
    return err


def wait_for_line(path: Path, needle: str) -> None:
    give_up = time.monotonic() + DEADLINE
    while not (path.exists() and needle in path.read_text()):
        assert time.monotonic() < give_up, f"{needle!r} never appeared in {path}"
        time.sleep(0.05)


def test_no_command_shows_a_secret(
    via: str, in_tmp: Path, servers: dict[str, Any], capfd: pytest.CaptureFixture[str]
) -> None:
    transcript = Transcript()
    flag = ["--secret", SECRET] if via == "flag" else []
    (in_tmp / "scenario.yaml").write_text(SCENARIO)
    target = servers["receiver"] + "/zego/callback"
    factory = CallbackFactory(seed=1, app_id=APP_ID)
    body = factory.callback(factory.procedure(), SECRET).body()[1]
    (in_tmp / "body.txt").write_bytes(body)
    capfd.readouterr()

    one_hint = [
        ["sign", "--timestamp", "1470820198", "--nonce", "123412"],
        ["verify", "body.txt"],
        ["verify", "body.txt", "--json"],
        ["show", "scenario.yaml"],
        ["show", "scenario.yaml", "--json"],
        ["send", "--target", target, "--speed", "100", "--no-live", "--record", "send.jsonl"],
        ["run", "scenario.yaml", "--target", target, "--speed", "100", "--record", "run.jsonl"],
        ["run", "scenario.yaml", "--target", target, "--virtual", "--json", "--record", "rj.jsonl"],
    ]
    for args in one_hint:
        err = run_cli([*args, *flag], capfd, transcript)
        if via == "flag":
            assert len(hints(err)) == 1, (args[0], err)
            assert "ZEGO_CALLBACK_SECRET" in hints(err)[0]
        else:
            assert hints(err) == [], (args[0], err)

    api_flag = ["--secret", SERVER_SECRET] if via == "flag" else []
    err = run_cli(
        ["sign", "--api", "--app-id", APP_ID, "--nonce", "4f", "--timestamp", "161", *api_flag],
        capfd,
        transcript,
    )
    assert len(hints(err)) == (1 if via == "flag" else 0)
    assert via == "env" or "ZEGO_SERVER_SECRET" in hints(err)[0]

    # the mock API fires a callback at the receiver: both servers handle the secrets
    async def call_api() -> dict[str, Any]:
        async with ZegoApiClient(servers["api_url"], APP_ID, SERVER_SECRET) as client:
            return await client.call(
                "TranscodeMedia", Vendor="Tencent", FileId="5285890781763144364", Resolution="720p"
            )

    answer = asyncio.run(call_api())
    assert answer["Code"] == 0, answer
    wait_for_line(in_tmp / "received.jsonl", answer["Data"]["Tencent"]["TaskId"])
    wait_for_line(in_tmp / "api.jsonl", '"type":"outcome"')

    no_secret_needed = [
        ["report", "run.jsonl", "send.jsonl", "--html", "report.html", "--junit", "report.xml"],
        ["report", "run.jsonl", "rj.jsonl", "api.jsonl", "--json"],
        ["resume", "run.jsonl"],
        ["demo", "--speed", "100", "--no-live", "--record", "demo.jsonl"],
        ["report", "demo.jsonl", "--html", "demo.html"],
    ]
    for args in no_secret_needed:
        assert hints(run_cli(args, capfd, transcript)) == []

    _, receive_err = stop(servers["receive"], "receive", transcript)
    _, api_err = stop(servers["api"], "api", transcript)
    if via == "flag":
        assert len(hints(receive_err)) == 1 and "ZEGO_CALLBACK_SECRET" in receive_err
        assert len(hints(api_err)) == 2  # --server-secret and --callback-secret
        assert "ZEGO_SERVER_SECRET" in api_err and "ZEGO_CALLBACK_SECRET" in api_err
    else:
        assert hints(receive_err) == hints(api_err) == []

    # the commands did their work (a silent failure would trivially print no secret)
    received = [json.loads(line) for line in (in_tmp / "received.jsonl").read_text().splitlines()]
    assert len(received) >= 4  # send 1 + run 2 + run --json 2 + api 1, all accepted
    assert (in_tmp / "report.html").stat().st_size > 1000
    assert (in_tmp / "demo.html").stat().st_size > 1000
    assert (in_tmp / "report.xml").read_text().startswith("<?xml")
    assert transcript.leaks(in_tmp) == []
