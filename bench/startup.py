"""startup: how long the command line takes, end to end, in a fresh process (best of N).

The baseline is ``python -c "import aiohttp"``: what a hand-written aiohttp script pays
before it sends anything. Against it:

* ``zego-emulator --help`` — argument parsing only (target <= 0.5x): must not import
  aiohttp, pydantic, faker or rich;
* ``zego-emulator run`` of a one-callback scenario to the receiver (its own process,
  answering 200), recorded, summary as JSON (target <= 1.5x) — with every event of the
  catalogue registered: an event's models are built only when a scenario uses it;
* ``zego-emulator send`` (one callback from flags), for reference.

Every process runs with its bytecode cached, as an installed package has it (``pip
install`` compiles every module; ``import aiohttp`` reads site-packages' ``.pyc`` files):
``PYTHONDONTWRITEBYTECODE`` is dropped and the checkout's ``.pyc`` files go to a temporary
``PYTHONPYCACHEPREFIX`` (all of them: stdlib and aiohttp's too), written by one untimed
run of each command. The one-callback
``run`` without cached bytecode (every emulator module compiled from source, each run) is
shown too, for reference.

``python -c pass`` (the interpreter's own start, which no command beats) is shown too.
To see where an import's time goes: ``python -X importtime -m emulator --help``.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from bench import Figure, Result, child_env, command
from bench.receiver import ReceiverProcess

TARGETS = {"help": 0.5, "run": 1.5}  # at most, times the baseline
ONE_CALLBACK = "name: one\nseed: 1\ncallbacks:\n  - status: SUCCESS\n"


def best_time(argv: Sequence[str], rounds: int, env: dict[str, str]) -> float:
    """The fastest of ``rounds`` runs of ``argv`` (wall seconds), after one untimed run
    that writes its bytecode; fails if it fails."""
    best = float("inf")
    for round_ in range(rounds + 1):
        started = time.perf_counter()
        done = subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        if round_:
            best = min(best, time.perf_counter() - started)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(argv)} failed: {done.stderr.decode()[-500:]}")
    return best


def cli() -> list[str]:
    """``python -m emulator`` of this checkout (an installed script may be another tree's)."""
    return [sys.executable, "-m", "emulator"]


def cached_env(pycache: str) -> dict[str, str]:
    """The children's environment: bytecode written to and read from ``pycache``."""
    env = dict(child_env(), ZEGO_CALLBACK_SECRET="bench-callback-secret")
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = pycache
    return env


def run(quick: bool = False, rounds: int | None = None) -> Result:
    rounds = rounds or (1 if quick else 5)
    result = Result("startup", command("startup", "--rounds", str(rounds)))
    with tempfile.TemporaryDirectory() as pycache:
        _measure(result, rounds, cached_env(pycache))
    result.notes.append(f"best of {rounds} fresh processes each; {' '.join(cli())}")
    result.notes.append("bytecode cached as installed (see the module docstring)")
    return result


def _measure(result: Result, rounds: int, env: dict[str, str]) -> None:
    floor = best_time([sys.executable, "-c", "pass"], rounds, env)
    base = best_time([sys.executable, "-c", "import aiohttp"], rounds, env)
    result.add(Figure("python -c pass", floor, "s"))
    result.add(Figure('python -c "import aiohttp" (baseline)', base, "s"))

    def against(name: str, label: str, seconds: float) -> None:
        ratio = seconds / base
        target = TARGETS.get(name)
        result.add(
            Figure(
                label,
                seconds,
                "s",
                "import aiohttp",
                ratio,
                f"<= {target:g}x" if target else "",
                ratio <= target if target else None,
            )
        )

    help_argv = [*cli(), "--help"]
    against("help", "zego-emulator --help", best_time(help_argv, rounds, env))
    with tempfile.TemporaryDirectory() as tmp, ReceiverProcess(200, fast=True) as receiver:
        scenario = Path(tmp, "one.yaml")
        scenario.write_text(ONE_CALLBACK, encoding="utf-8")
        record = ["--record", str(Path(tmp, "run.jsonl"))]
        run_argv = [*cli(), "run", str(scenario), "--target", receiver.url, "--json", *record]
        against("run", "zego-emulator run (one callback, --json)", best_time(run_argv, rounds, env))
        send = [*cli(), "send", "--target", receiver.url, "--no-live"]
        send += ["--record", str(Path(tmp, "send.jsonl"))]
        against("send", "zego-emulator send (one callback)", best_time(send, rounds, env))
        uncached = dict(env, PYTHONDONTWRITEBYTECODE="1")
        uncached.pop("PYTHONPYCACHEPREFIX")
        against(
            "run-uncached",
            "run, no cached bytecode (reference)",
            best_time(run_argv, rounds, uncached),
        )
