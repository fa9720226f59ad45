"""A closed stdout (``zego-emulator report r.jsonl | head -1``) is the same for every command:
the rest of the output is dropped, the work goes on, and the exit code is the real one —
never rich's exit 1 (which reads as "an expectation failed") and never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ROOT / "scenarios"


def run_into_closed_pipe(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run ``python -m emulator ARGS`` with stdout a pipe whose reader is already gone."""
    reader, writer = os.pipe()
    os.close(reader)  # every write to stdout now fails with EPIPE
    env = {**os.environ, "PYTHONPATH": str(ROOT), "ZEGO_CALLBACK_SECRET": "pipe-secret"}
    try:
        return subprocess.run(
            [sys.executable, "-m", "emulator", *args],
            stdout=writer,
            stderr=subprocess.PIPE,
            text=True,
            cwd=cwd,
            env=env,
            timeout=120,
        )
    finally:
        os.close(writer)


@pytest.fixture
def record(tmp_path: Path) -> Path:
    """A record of one run whose expectations held."""
    path = tmp_path / "run.jsonl"
    done = run_into_closed_pipe(
        "run",
        str(SCENARIOS / "retry-then-success.yaml"),
        "--builtin-receiver",
        "--virtual",
        "--record",
        str(path),
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    return path


@pytest.mark.parametrize(
    "args",
    [
        ("report", "{record}"),
        ("report", "{record}", "--json"),
        ("show", str(SCENARIOS / "demo.yaml")),
        ("schema",),
        ("--help",),
        ("sign", "--timestamp", "1470820198", "--nonce", "123412"),
    ],
    ids=lambda args: " ".join(args[:2]),
)
def test_a_closed_stdout_keeps_the_exit_code_and_prints_nothing(
    args: tuple[str, ...], record: Path, tmp_path: Path
) -> None:
    done = run_into_closed_pipe(*(a.format(record=record) for a in args), cwd=tmp_path)
    assert done.returncode == 0
    assert done.stderr == ""


def test_a_run_into_a_closed_stdout_still_finishes_and_records_everything(
    tmp_path: Path,
) -> None:
    path = tmp_path / "failing.jsonl"
    done = run_into_closed_pipe(
        "run",
        str(SCENARIOS / "always-failing.yaml"),
        "--builtin-receiver",
        "--virtual",
        "--record",
        str(path),
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    kinds = [
        line.split('"type":"', 1)[1].split('"', 1)[0] for line in path.read_text().splitlines()
    ]
    assert kinds.count("attempt") == 6
    assert kinds[-1] == "summary"


def test_a_failed_expectation_still_exits_1_when_stdout_is_closed(tmp_path: Path) -> None:
    scenario = tmp_path / "wrong.yaml"
    scenario.write_text(
        "name: expects the wrong thing\n"
        "callbacks:\n  - event: procedure\n"
        "receiver:\n  responses: [500]\n"
        "expect:\n  delivered: 1\n"
    )
    done = run_into_closed_pipe(
        "run",
        str(scenario),
        "--builtin-receiver",
        "--virtual",
        "--record",
        str(tmp_path / "wrong.jsonl"),
        cwd=tmp_path,
    )
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
