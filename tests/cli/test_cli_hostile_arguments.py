"""Hostile command-line input is refused up front, exit 2, one line, before any request.

Arguments and secrets that are not valid UTF-8, ``--target`` checked exactly like the
scenario's ``target:``, ``--speed`` capped like ``speed:``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = ROOT / "scenarios" / "first-try-success.yaml"
# nothing listens on port 9 (discard) on a test machine: a request would be connection_refused
NOWHERE = "http://127.0.0.1:9/zego/callback"


def _cli(
    *args: str | bytes, env: dict[str, str | bytes] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[bytes]:
    environment: dict[str | bytes, str | bytes] = {**os.environ, "PYTHONPATH": str(ROOT)}
    environment.pop("ZEGO_CALLBACK_SECRET", None)
    environment.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "emulator", *args],
        capture_output=True,
        timeout=120,
        env=environment,  # type: ignore[arg-type]  # bytes values on purpose: not UTF-8
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        check=False,
    )


def _one_error_line(done: subprocess.CompletedProcess[bytes]) -> str:
    """The single ``error:`` line of a refused command (notes may come before it)."""
    assert done.returncode == 2, done.stderr
    text = done.stderr.decode("utf-8", "backslashreplace")
    assert "Traceback" not in text, text
    errors = [line for line in text.splitlines() if "error:" in line]
    assert len(errors) == 1, text
    return errors[0]


BAD = b"\xff"


@pytest.mark.parametrize(
    ("args", "flag"),
    [
        ([b"run", str(SCENARIO).encode(), b"--record", BAD + b".jsonl"], "--record"),
        ([b"send", b"--task-id", b"t" + BAD], "--task-id"),
        ([b"send", b"--field", b"a=" + BAD], "--field"),
        ([b"send", b"--app-id", BAD], "--app-id"),
        ([b"run", BAD + b".yaml"], "SCENARIO"),
        ([b"send", b"--field=k" + BAD], "--field"),
    ],
)
def test_argument_that_is_not_utf8_is_refused_before_any_request(
    args: list[bytes], flag: str, tmp_path: Path
) -> None:
    done = _cli(*args, b"--target", NOWHERE.encode(), b"--virtual", cwd=tmp_path)
    line = _one_error_line(done)
    assert flag in line and "UTF-8" in line, line
    assert b"attempt" not in done.stdout
    assert list(tmp_path.iterdir()) == []  # no record started


@pytest.mark.parametrize("variable", ["ZEGO_CALLBACK_SECRET", "MY_SECRET"])
def test_secret_that_is_not_utf8_is_refused_before_any_request(
    variable: str, tmp_path: Path
) -> None:
    scenario = tmp_path / "s.yaml"
    scenario.write_text("name: s\nsecret_env: MY_SECRET\ncallbacks:\n  - event: procedure\n")
    done = _cli(
        "run",
        str(scenario),
        "--target",
        NOWHERE,
        "--virtual",
        "--record",
        str(tmp_path / "r.jsonl"),
        env={variable: b"bad" + BAD},
    )
    line = _one_error_line(done)
    assert variable in line and "UTF-8" in line, line
    assert b"bad" not in done.stderr.replace(b"error", b"")  # the value is never echoed
    assert not (tmp_path / "r.jsonl").exists()


BAD_TARGETS = [
    "http://127.0.0.1:0/cb",
    "http://127.0.0.1:99999/cb",
    "http://127.0.0.1:-1/cb",
    "http://127.0.0.1:abc/cb",
    "http://127.0.0.1 /cb",
    "http://[::1/cb",
    "ftp://127.0.0.1/cb",
]


@pytest.mark.parametrize("target", BAD_TARGETS)
@pytest.mark.parametrize("command", ["run", "send", "show", "resume", "replay"])
def test_target_flag_is_checked_like_the_scenario_key(
    command: str, target: str, tmp_path: Path
) -> None:
    record = tmp_path / "r.jsonl"
    args: list[str] = {
        "run": ["run", str(SCENARIO), "--virtual", "--record", str(record)],
        "send": ["send", "--virtual", "--record", str(record)],
        "show": ["show", str(SCENARIO)],
        "resume": ["resume", str(record), "--virtual"],
        "replay": ["run", "--replay", str(record), "--virtual"],
    }[command]
    if command in ("resume", "replay"):
        record.write_text('{"type":"run","run_id":"r1","target":"http://127.0.0.1:9/"}\n')
    line = _one_error_line(_cli(*args, "--target", target))
    assert "--target" in line, line
    assert b"attempt" not in _cli(*args, "--target", target).stdout


@pytest.mark.parametrize("speed", ["1e7", "1e300"])
@pytest.mark.parametrize("command", ["run", "send", "resume", "api", "demo"])
def test_speed_flag_is_capped_like_the_scenario_key(
    command: str, speed: str, tmp_path: Path
) -> None:
    args = {
        "run": ["run", str(SCENARIO), "--target", NOWHERE],
        "send": ["send", "--target", NOWHERE],
        "resume": ["resume", str(tmp_path / "none.jsonl")],
        "api": ["api", "--port", "0"],
        "demo": ["demo"],
    }[command]
    line = _one_error_line(_cli(*args, "--speed", speed))
    assert "--speed" in line and "1000000" in line, line
