"""A FIFO (or socket) as ``--record`` is refused in one line, exit 2: opening one for
writing waits for a reader forever (a run stuck before its first request, deaf even to
SIGTERM). A character device such as /dev/null or /dev/full is still opened as asked."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "PYTHONPATH": str(ROOT), "ZEGO_CALLBACK_SECRET": "fifo-secret"}
SCENARIO = str(ROOT / "scenarios" / "first-try-success.yaml")


def emulator(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "emulator", *args],
        capture_output=True, text=True, cwd=cwd, env=ENV, timeout=60,
    )  # fmt: skip


def test_a_fifo_as_the_record_of_a_run_is_exit_2_not_a_hang(tmp_path: Path) -> None:
    fifo = tmp_path / "record.jsonl"
    os.mkfifo(fifo)
    done = emulator("run", SCENARIO, "--builtin-receiver", "--virtual", "--no-live",
                    "--record", str(fifo), cwd=tmp_path)  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"zego-emulator run: error: record {fifo}: not a regular file (a FIFO or socket); "
        "give a file path"
    ]


def test_a_fifo_as_the_record_of_receive_is_exit_2_not_a_hang(tmp_path: Path) -> None:
    fifo = tmp_path / "received.jsonl"
    os.mkfifo(fifo)
    done = emulator("receive", "--port", "0", "--record", str(fifo), cwd=tmp_path)
    assert done.returncode == 2
    assert "not a regular file" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_dev_null_as_the_record_still_runs(tmp_path: Path) -> None:
    done = emulator("run", SCENARIO, "--builtin-receiver", "--virtual", "--no-live",
                    "--record", "/dev/null", cwd=tmp_path)  # fmt: skip
    assert done.returncode == 0, done.stderr
