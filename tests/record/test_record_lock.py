"""One writer per record: a run (or resume) holds a lock on its record file, so a second
``resume`` of it — or a resume while the run still lives — is exit 2 before sending."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest
from scripted import ScriptedReceiver

from emulator.errors import UsageError
from emulator.record.writer import Recorder

ROOT = Path(__file__).resolve().parents[2]
DEADLINE = 60.0


def test_a_second_recorder_on_a_live_record_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    with Recorder(path), pytest.raises(UsageError, match="in use"):
        Recorder(path)
    with Recorder(path):  # released once the first is closed
        pass


async def test_resume_while_the_run_still_lives_is_exit_2_and_sends_nothing(
    tmp_path: Path,
) -> None:
    (tmp_path / "s.yaml").write_text(
        "name: lock\ncallbacks:\n  - event: procedure\n    delay: 3000\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT), "ZEGO_CALLBACK_SECRET": "lock-secret"}
    async with ScriptedReceiver() as receiver:
        run = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "emulator", "run", "s.yaml", "--target", receiver.url,
            "--record", "r.jsonl", "--no-live",
            cwd=tmp_path, env=env, stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        try:
            loop = asyncio.get_running_loop()
            give_up = loop.time() + DEADLINE
            record = tmp_path / "r.jsonl"
            while not (record.exists() and b'"type":"callback"' in record.read_bytes()):
                assert loop.time() < give_up, "the run never recorded its callback"
                await asyncio.sleep(0.02)
            resumed = await asyncio.to_thread(
                subprocess.run,
                [sys.executable, "-m", "emulator", "resume", "r.jsonl", "--virtual"],
                cwd=tmp_path, env=env, capture_output=True, text=True, timeout=DEADLINE,
                check=False,
            )  # fmt: skip
        finally:
            run.terminate()
            await asyncio.wait_for(run.communicate(), DEADLINE)
        assert resumed.returncode == 2, resumed.stderr
        assert "in use" in resumed.stderr and "Traceback" not in resumed.stderr
        assert receiver.bodies == []
