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
SECRET_FLAG_ENV = "ZEGO_SWARM_SECRET"  # a worker's --secret, handed to its process this way


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

    The child has a session of its own and this process hands it Ctrl-C and SIGTERM, once
    each time (the child ends the run cleanly: workers write their summaries first).
    """
    child = subprocess.Popen(
        list(argv),
        stdin=subprocess.PIPE if stdin_text is not None else None,
        env=dict(env) if env is not None else None,
        start_new_session=True,
    )

    def forward(signum: int, frame: object) -> None:
        child.send_signal(signum)

    previous = {sig: signal.signal(sig, forward) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        if stdin_text is not None and child.stdin is not None:
            try:
                child.stdin.write(stdin_text.encode("utf-8"))
                child.stdin.close()
            except BrokenPipeError:
                pass  # the child ended before reading: its exit code says why
        return child.wait()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
