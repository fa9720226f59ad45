"""The processes of a swarm: what the master is told, and how each process is started.

    code = run_child(master_command(), stdin_text=master_input(plan, options))
    code = run_child(worker_command("10.0.0.1", 5557, "runs"))

``zego-emulator swarm`` (the command line, no gevent) validates every flag, then runs the
master or a worker as ``python -m emulator.swarm ROLE`` — a fresh interpreter, so that
gevent patches the standard library before anything else is imported. The master gets
the plan and its options as one JSON document on stdin (a scenario may be larger than a
command line allows); a worker needs only where the master is and where to record. With
``--workers N`` the master starts N workers itself, on 127.0.0.1 and the port it bound.
Pure apart from starting processes.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from collections.abc import Mapping, Sequence

from pydantic import BaseModel, ConfigDict, Field

from emulator.swarm.plan import SwarmPlan

DEFAULT_MASTER_PORT = 5557  # Locust's
DEFAULT_WEB_PORT = 8089  # Locust's
LOOPBACK = "127.0.0.1"


class MasterOptions(BaseModel):
    """How the master runs: where it listens, what it starts, what it writes."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    expect_workers: int = Field(default=1, ge=1)
    bind_host: str = LOOPBACK
    bind_port: int = Field(default=DEFAULT_MASTER_PORT, ge=0, le=65535)  # 0: any free port
    local_workers: int = Field(default=0, ge=0)  # worker processes the master starts itself
    record_dir: str = "runs"  # where those local workers record
    web: bool = False
    web_host: str = LOOPBACK
    web_port: int = Field(default=DEFAULT_WEB_PORT, ge=1, le=65535)
    csv_prefix: str | None = None
    html_path: str | None = None
    json_summary: bool = False


def master_input(plan: SwarmPlan, options: MasterOptions) -> str:
    """The JSON document the master reads on stdin."""
    return json.dumps({"plan": plan.to_message(), "options": options.model_dump(mode="json")})


def read_master_input(text: str) -> tuple[SwarmPlan, MasterOptions]:
    """The plan and options back from :func:`master_input`'s text."""
    data = json.loads(text)
    return SwarmPlan.from_message(data["plan"]), MasterOptions.model_validate(data["options"])


def master_command() -> list[str]:
    return [sys.executable, "-m", "emulator.swarm", "master"]


def worker_command(master_host: str, master_port: int, record_dir: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "emulator.swarm",
        "worker",
        "--master-host",
        master_host,
        "--master-port",
        str(master_port),
        "--record-dir",
        record_dir,
    ]


def run_child(
    argv: Sequence[str], stdin_text: str | None = None, env: Mapping[str, str] | None = None
) -> int:
    """Run one swarm process in the foreground and return its exit code.

    Ctrl-C reaches the child from the terminal (same process group) and the child ends the
    run cleanly; this process waits for it rather than dying first.
    """
    child = subprocess.Popen(
        list(argv),
        stdin=subprocess.PIPE if stdin_text is not None else None,
        env=dict(env) if env is not None else None,
    )
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)  # after Popen: not inherited
    try:
        if stdin_text is not None and child.stdin is not None:
            try:
                child.stdin.write(stdin_text.encode("utf-8"))
                child.stdin.close()
            except BrokenPipeError:
                pass  # the child ended before reading: its exit code says why
        return child.wait()
    finally:
        signal.signal(signal.SIGINT, previous)
