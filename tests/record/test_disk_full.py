"""A record that cannot be written (a full disk) is one clear line and exit 2 — never a
traceback, never a torn record — and the run stops sending what it could not record.

``/dev/full`` fails the very first write, so not one request goes out. A disk that fills
mid-run is simulated exactly by a file-size limit (RLIMIT_FSIZE: every write past it
fails with EFBIG, as a full filesystem fails with ENOSPC; Python ignores SIGXFSZ)."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from pathlib import Path

from scripted import ScriptedReceiver, ThreadedReceiver

ROOT = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "PYTHONPATH": str(ROOT), "ZEGO_CALLBACK_SECRET": "disk-full-secret"}
LIMIT = 560 * 1024  # the 400 callback lines (~450 KB) fit; the attempts fill it


def run(*args: str, cwd: Path, limit: int | None = None) -> subprocess.CompletedProcess[str]:
    def limited() -> None:
        if limit is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return subprocess.run(
        [sys.executable, "-m", "emulator", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=ENV,
        timeout=120,
        preexec_fn=limited,
    )


def test_dev_full_as_the_record_is_one_line_and_sends_nothing(tmp_path: Path) -> None:
    receiver = ScriptedReceiver(statuses=[200])
    with ThreadedReceiver(receiver) as served:
        scenario = tmp_path / "one.yaml"
        scenario.write_text("name: one\ncallbacks:\n  - event: procedure\n")
        done = run("run", str(scenario), "--target", served.url, "--virtual", "--no-live",
                   "--record", "/dev/full", cwd=tmp_path)  # fmt: skip
        sent = len(served.requests)
    assert done.returncode == 2
    assert done.stderr.strip() == (
        "zego-emulator run: error: record /dev/full: cannot write: No space left on device"
    )
    assert sent == 0


def test_a_disk_that_fills_mid_run_stops_it_with_a_whole_record(tmp_path: Path) -> None:
    receiver = ScriptedReceiver(statuses=[200])
    record = tmp_path / "run.jsonl"
    with ThreadedReceiver(receiver) as served:
        scenario = tmp_path / "many.yaml"
        scenario.write_text("name: many\nconcurrency: 4\ncallbacks:\n  - repeat: 400\n")
        done = run("run", str(scenario), "--target", served.url, "--virtual", "--no-live",
                   "--record", str(record), cwd=tmp_path, limit=LIMIT)  # fmt: skip
        sent = len(served.requests)
    assert done.returncode == 2, done.stderr
    errors = done.stderr.strip().splitlines()
    assert len(errors) == 1 and "cannot write: File too large" in errors[0], done.stderr
    assert "Traceback" not in done.stderr
    text = record.read_text()
    assert text.endswith("\n")
    lines = [json.loads(line) for line in text.splitlines()]  # no torn line
    assert lines[0]["type"] == "run"
    assert 0 < sent < 400  # it stopped: not every planned callback was sent


def test_receive_with_a_record_it_cannot_write_stops_with_one_line(tmp_path: Path) -> None:
    receive = subprocess.Popen(
        [sys.executable, "-m", "emulator", "receive", "--port", "0", "--json",
         "--record", "/dev/full"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV,
    )  # fmt: skip
    try:
        assert receive.stdout is not None
        url = json.loads(receive.stdout.readline())["url"]
        sent = run("send", "--target", url, "--virtual", "--no-live", "--record",
                   str(tmp_path / "send.jsonl"), cwd=tmp_path)  # fmt: skip
        assert sent.returncode in (0, 1), sent.stderr
        _, stderr = receive.communicate(timeout=60)
    finally:
        if receive.poll() is None:
            receive.kill()
            receive.wait(30)
    assert receive.returncode == 2
    assert stderr.strip().splitlines() == [
        "zego-emulator receive: error: record /dev/full: cannot write: No space left on device"
    ]
