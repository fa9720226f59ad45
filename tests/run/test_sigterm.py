"""SIGTERM (``timeout``, CI cancellation, ``docker stop``) stops like Ctrl-C.

``run``, ``resume`` and load mode write the summary line (``"interrupted": true``) and
exit 130; ``receive`` shuts down cleanly (record closed, no traceback). Each process is
started against a receiver served by the test, signalled once it is provably waiting
(its record shows the state), and must end on its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path

from scripted import ScriptedReceiver

ROOT = Path(__file__).resolve().parents[2]
DEADLINE = 60.0  # seconds to wait for a state (never reached when healthy)

WAITING = """\
name: sigterm
seed: 3
callbacks:
  - event: procedure
    task_id: task-now
  - event: procedure
    task_id: task-later
    delay: 3000
"""


async def _wait_for(condition: Callable[[], bool], what: str) -> None:
    loop = asyncio.get_running_loop()
    give_up = loop.time() + DEADLINE
    while not condition():
        assert loop.time() < give_up, f"gave up waiting for {what}"
        await asyncio.sleep(0.02)


def _lines(path: Path) -> list[dict[str, object]]:
    if not path.exists():
        return []
    out = []
    for raw in path.read_text().splitlines():
        with contextlib.suppress(ValueError):  # a line being written
            out.append(json.loads(raw))
    return out


async def _start(cwd: Path, *args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "emulator", *args,
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(ROOT), "ZEGO_CALLBACK_SECRET": "sigterm-secret"},
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip


async def _terminate(process: asyncio.subprocess.Process) -> tuple[bytes, bytes]:
    process.send_signal(signal.SIGTERM)
    try:
        return await asyncio.wait_for(process.communicate(), DEADLINE)
    finally:
        if process.returncode is None:
            process.kill()
            await process.communicate()


def _assert_interrupted_summary(record: Path) -> dict[str, object]:
    summary = _lines(record)[-1]
    assert summary["type"] == "summary", summary
    assert summary["interrupted"] is True
    return summary


async def _run_until_waiting(tmp_path: Path, receiver: ScriptedReceiver) -> Path:
    """Start ``run`` and wait until the first callback is delivered (the second waits)."""
    (tmp_path / "s.yaml").write_text(WAITING)
    record = tmp_path / "run.jsonl"
    process = await _start(
        tmp_path, "run", "s.yaml", "--target", receiver.url, "--record", "run.jsonl", "--no-live"
    )
    await _wait_for(
        lambda: any(line.get("type") == "outcome" for line in _lines(record)), "an outcome"
    )
    stdout, stderr = await _terminate(process)
    assert process.returncode == 130, stderr.decode()
    assert b"Traceback" not in stdout + stderr
    assert b"interrupted" in stdout + stderr
    assert _assert_interrupted_summary(record)["pending"] == 1
    return record


async def test_sigterm_stops_a_run_with_its_summary_and_exit_130(tmp_path: Path) -> None:
    async with ScriptedReceiver() as receiver:
        await _run_until_waiting(tmp_path, receiver)


async def test_sigterm_stops_a_resume_with_its_summary_and_exit_130(tmp_path: Path) -> None:
    async with ScriptedReceiver() as receiver:
        record = await _run_until_waiting(tmp_path, receiver)
        before = len(_lines(record))
        process = await _start(tmp_path, "resume", "run.jsonl")
        await _wait_for(
            lambda: any(line.get("type") == "resume" for line in _lines(record)[before:]),
            "the resume line",
        )
        stdout, stderr = await _terminate(process)
    assert process.returncode == 130, stderr.decode()
    assert b"Traceback" not in stdout + stderr
    assert _assert_interrupted_summary(record)["pending"] == 1


async def test_sigterm_stops_load_mode_with_its_summary_and_exit_130(tmp_path: Path) -> None:
    record = tmp_path / "load.jsonl"
    async with ScriptedReceiver() as receiver:
        process = await _start(
            tmp_path, "run", "--target", receiver.url, "--rate", "2", "--duration", "3000",
            "--record", "load.jsonl", "--no-live",
        )  # fmt: skip
        await _wait_for(
            lambda: any(line.get("type") == "outcome" for line in _lines(record)), "an outcome"
        )
        stdout, stderr = await _terminate(process)
    assert process.returncode == 130, stderr.decode()
    assert b"Traceback" not in stdout + stderr
    _assert_interrupted_summary(record)


async def test_sigterm_shuts_receive_down_cleanly(tmp_path: Path) -> None:
    process = await _start(tmp_path, "receive", "--port", "0", "--json", "--record", "got.jsonl")
    assert process.stdout is not None
    listening = json.loads(await asyncio.wait_for(process.stdout.readline(), DEADLINE))
    assert listening["type"] == "listening"
    stdout, stderr = await _terminate(process)
    assert process.returncode == 130, stderr.decode()
    assert b"Traceback" not in stdout + stderr
    assert b"interrupted" in stderr
    assert (tmp_path / "got.jsonl").exists()
