"""``--loop uvloop``: a run on uvloop's event loop delivers and records as on asyncio's.

uvloop is a test dependency (not a runtime one), so these always run. A real receiver
in its own thread on 127.0.0.1; the run is the command line's, in-process or fresh.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from emulator.errors import UsageError
from emulator.record.reader import read_record
from emulator.run import core
from emulator.run.core import run_in_cli, use_event_loop


class _Ok(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def receiver_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Ok)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/zego/callback"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def restore_loop() -> Iterator[None]:
    yield
    use_event_loop("asyncio")


def test_run_in_cli_runs_on_the_chosen_loop(restore_loop: None) -> None:
    async def loop_module(stop: asyncio.Event) -> str:
        return type(asyncio.get_running_loop()).__module__

    use_event_loop("uvloop")
    assert run_in_cli(loop_module).startswith("uvloop")
    use_event_loop("asyncio")
    assert run_in_cli(loop_module).startswith("asyncio")


def test_an_unknown_loop_is_bad_input() -> None:
    with pytest.raises(UsageError, match="expected one of asyncio, uvloop"):
        use_event_loop("trio")
    assert core._event_loop == "asyncio"


def test_a_run_on_uvloop_delivers_and_records(receiver_url: str, tmp_path: Path) -> None:
    scenario = tmp_path / "few.yaml"
    scenario.write_text(
        "name: few\nseed: 2\ncallbacks:\n  - status: SUCCESS\n    repeat: 20\n", encoding="utf-8"
    )
    record = tmp_path / "run.jsonl"
    argv = [sys.executable, "-m", "emulator", "run", str(scenario), "--target", receiver_url]
    argv += ["--loop", "uvloop", "--json", "--record", str(record)]
    done = subprocess.run(
        argv,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert (summary["callbacks"], summary["delivered"], summary["attempts"]) == (20, 20, 20)
    attempts = [line for line in read_record(record) if line["type"] == "attempt"]
    assert len(attempts) == 20 and all(line["status"] == 200 for line in attempts)


def test_the_loop_flag_refuses_other_loops(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "emulator", "send", "--loop", "trio"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "invalid choice: 'trio'" in done.stderr
