"""``zego-emulator receive --respond`` vs ``--respond-per-task``, over real processes.

``--respond 500,500,200`` is one script shared by every callback; ``--respond-per-task``
gives each task id the script from its start, the form the Python API has (``respond_for``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SECRET = "per-task-secret"
ENV = {**os.environ, "PYTHONPATH": str(ROOT), "ZEGO_CALLBACK_SECRET": SECRET}


@pytest.fixture
def receive() -> Iterator[list[subprocess.Popen[str]]]:
    started: list[subprocess.Popen[str]] = []
    yield started
    for process in started:
        process.terminate()
        process.wait(timeout=30)


def start_receive(started: list[subprocess.Popen[str]], *flags: str) -> str:
    """Start ``zego-emulator receive`` on a free port; returns its callback URL."""
    process = subprocess.Popen(
        [sys.executable, "-m", "emulator", "receive", "--port", "0", "--json", *flags],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=ENV,
    )
    started.append(process)
    assert process.stdout is not None
    first = json.loads(process.stdout.readline())  # --json: {"type": "listening", "url"}
    assert first["type"] == "listening"
    return str(first["url"])


def attempts_by_task(record: Path) -> dict[str, list[int | None]]:
    statuses: dict[str, list[int | None]] = {}
    for text in record.read_text().splitlines():
        line = json.loads(text)
        if line["type"] == "attempt":
            statuses.setdefault(line["task_id"], []).append(line["status"])
    return statuses


def run_three_callbacks(url: str, tmp_path: Path) -> dict[str, list[int | None]]:
    scenario = tmp_path / "three.yaml"
    scenario.write_text("name: three\nconcurrency: 1\ncallbacks:\n  - repeat: 3\n")
    record = tmp_path / "three.jsonl"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "emulator",
            "run",
            str(scenario),
            "--target",
            url,
            "--virtual",
            "--no-live",
            "--record",
            str(record),
        ],
        capture_output=True,
        text=True,
        env=ENV,
        timeout=120,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    return attempts_by_task(record)


def test_respond_per_task_gives_every_task_the_whole_script(
    receive: list[subprocess.Popen[str]], tmp_path: Path
) -> None:
    url = start_receive(receive, "--respond-per-task", "500,500,200")
    statuses = run_three_callbacks(url, tmp_path)
    assert len(statuses) == 3
    assert list(statuses.values()) == [[500, 500, 200]] * 3


def test_respond_is_one_script_shared_by_all_callbacks(
    receive: list[subprocess.Popen[str]], tmp_path: Path
) -> None:
    url = start_receive(receive, "--respond", "500,500,200")
    statuses = run_three_callbacks(url, tmp_path)
    assert sum(len(seen) for seen in statuses.values()) == 5  # 500, 500, then 200 for all
    assert sorted(seen.count(500) for seen in statuses.values()) != [2, 2, 2]


def test_respond_and_respond_per_task_together_is_one_line_exit_2() -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "emulator",
            "receive",
            "--respond",
            "200",
            "--respond-per-task",
            "500,200",
        ],
        capture_output=True,
        text=True,
        env=ENV,
        timeout=60,
    )
    assert done.returncode == 2
    assert "not allowed with argument" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_a_bad_per_task_script_names_its_flag() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "emulator", "receive", "--respond-per-task", "500,abc"],
        capture_output=True,
        text=True,
        env=ENV,
        timeout=60,
    )
    assert done.returncode == 2
    assert "--respond-per-task" in done.stderr
