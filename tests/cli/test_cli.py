"""The command line's own behaviour: bad flags are one line and exit 2; a closed pipe is quiet."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"


def zego(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "emulator", *args],
        capture_output=True,
        text=True,
        timeout=30,
        stdin=subprocess.DEVNULL,
    )


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (("run", "x.yaml", "--speed", "0"), "--speed"),
        (("run", "--encoding", "xml"), "--encoding"),
        (("send", "--timeout", "-1"), "--timeout"),
        (("send", "--concurrency", "many"), "--concurrency"),
        (("verify", "--secret"), "--secret"),
        (("schema", "--bogus"), "--bogus"),
        (("no-such-command",), "no-such-command"),
    ],
)
def test_a_bad_flag_is_one_line_naming_it_and_exit_2(args: tuple[str, ...], named: str) -> None:
    result = zego(*args)
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert named in lines[0]
    assert "--help" in lines[0]
    assert "Traceback" not in result.stderr + result.stdout


def test_output_into_a_closed_pipe_is_not_a_traceback() -> None:
    # `zego-emulator show burst-1000.yaml | head -1`: megabytes of output, the reader
    # goes away after one line
    producer = subprocess.Popen(
        [sys.executable, "-m", "emulator", "show", str(SCENARIOS / "burst-1000.yaml")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert producer.stdout is not None
    producer.stdout.readline()
    producer.stdout.close()
    _, err = producer.communicate(timeout=30)
    assert producer.returncode == 0
    assert b"Traceback" not in err
