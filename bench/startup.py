"""startup: how long the command line takes, end to end, in a fresh process (best of N).

* ``zego-emulator --help`` — argument parsing only: must not import aiohttp, pydantic,
  faker or rich;
* ``zego-emulator send --target URL`` — one callback built, signed, sent to the receiver
  (its own process, answering 200) and recorded, then exit.

The baseline is ``python -c pass``: the interpreter's own start, which no command beats.
To see where an import's time goes: ``python -X importtime -m emulator --help``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from bench import Figure, Result, command
from bench.receiver import ReceiverProcess

TARGETS_S = {"help": 0.25, "send": 0.8}


def best_time(argv: Sequence[str], rounds: int, env: dict[str, str]) -> float:
    """The fastest of ``rounds`` runs of ``argv`` (wall seconds); fails if it fails."""
    best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL)
        best = min(best, time.perf_counter() - started)
    return best


def cli() -> list[str]:
    """The installed ``zego-emulator`` script, else ``python -m emulator``."""
    script = shutil.which("zego-emulator")
    return [script] if script else [sys.executable, "-m", "emulator"]


def run(quick: bool = False, rounds: int | None = None) -> Result:
    rounds = rounds or (1 if quick else 7)
    result = Result("startup", command("startup", "--rounds", str(rounds)))
    env = dict(os.environ, ZEGO_CALLBACK_SECRET="bench-callback-secret")
    floor = best_time([sys.executable, "-c", "pass"], rounds, env)
    result.add(Figure("python -c pass (baseline)", floor, "s"))
    help_time = best_time([*cli(), "--help"], rounds, env)
    result.add(
        Figure(
            "zego-emulator --help",
            help_time,
            "s",
            "target",
            help_time / TARGETS_S["help"],
            f"<= {TARGETS_S['help']:g} s",
            help_time <= TARGETS_S["help"],
        )
    )
    with tempfile.TemporaryDirectory() as tmp, ReceiverProcess(200) as receiver:
        send = [*cli(), "send", "--target", receiver.url, "--no-live"]
        send += ["--record", str(Path(tmp, "send.jsonl"))]
        send_time = best_time(send, rounds, env)
    result.add(
        Figure(
            "zego-emulator send (one callback, delivered)",
            send_time,
            "s",
            "target",
            send_time / TARGETS_S["send"],
            f"<= {TARGETS_S['send']:g} s",
            send_time <= TARGETS_S["send"],
        )
    )
    result.notes.append(
        f"best of {rounds} fresh processes; {shutil.which('zego-emulator') or 'python -m emulator'}"
    )
    return result
