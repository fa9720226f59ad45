"""Benchmarks of the emulator, each printed as ratios against its baseline in one run.

    python -m bench                 # every benchmark
    python -m bench throughput      # one (or several) by name
    python -m bench --quick         # tiny sizes: proves the harness works, numbers mean little

One module per benchmark (``throughput``, ``burst``, ``load``, ``lateness``, ``scale``,
``virtual``, ``startup``, ``hostile``, ``swarm``, ``report``); each exposes ``run(quick: bool) ->
Result``. The receiver they send to runs in its own process (:mod:`bench.receiver`) so
that it does not share the client's event loop.
"""

from __future__ import annotations

import contextlib
import math
import os
import platform
import shlex
import sys
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

BENCHMARKS = (
    "throughput",
    "burst",
    "load",
    "lateness",
    "scale",
    "virtual",
    "startup",
    "hostile",
    "swarm",
    "report",
)
ROOT = Path(__file__).resolve().parent.parent  # the checkout: bench/ and emulator/


@dataclass
class Figure:
    """One measured number, with the baseline or target it is judged against."""

    name: str
    value: float
    unit: str
    against: str = ""  # what the ratio is taken against
    ratio: float | None = None  # value / baseline (or target)
    target: str = ""  # e.g. ">= 0.9x"
    ok: bool | None = None  # None: no target

    def line(self) -> str:
        value = f"{self.value:,.1f}" if abs(self.value) >= 100 else f"{self.value:,.3g}"
        text = f"  {self.name:<44} {value:>10} {self.unit:<12}"
        if self.ratio is not None:
            text += f" {self.ratio:8.2f}x {self.against}"
        if self.target:
            verdict = {True: "ok", False: "MISSED", None: ""}[self.ok]
            text += f"  (target {self.target}: {verdict})"
        return text


@dataclass
class Result:
    """What one benchmark prints: its figures, notes and the command that reproduces it."""

    name: str
    command: str
    figures: list[Figure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, figure: Figure) -> Figure:
        self.figures.append(figure)
        return figure

    def text(self) -> str:
        lines = [f"{self.name}", f"  reproduce: {self.command}"]
        lines += [figure.line() for figure in self.figures]
        lines += [f"  note: {note}" for note in self.notes]
        return "\n".join(lines)

    def as_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "command": self.command,
            "figures": [vars(figure) for figure in self.figures],
            "notes": self.notes,
        }


def command(benchmark: str, *options: str) -> str:
    """The shell command that reproduces one benchmark with the given options."""
    return shlex.join(["python", "-m", "bench", benchmark, *options])


def percentile(values: Sequence[float], p: float) -> float:
    """The ``p``-th percentile (0..100) by nearest rank; NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def machine() -> str:
    """One line naming the machine the figures came from."""
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else math.nan
    return (
        f"machine: {os.cpu_count()} cores ({platform.machine()}), "
        f"Python {platform.python_version()} ({sys.implementation.name}), "
        f"{platform.system()} {platform.release()}, load average {load:.2f}"
    )


def child_env() -> dict[str, str]:
    """The environment for a child ``python -m bench.<module>``: this checkout importable."""
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    return dict(os.environ, PYTHONPATH=path)


@contextlib.asynccontextmanager
async def as_the_cli_runs() -> AsyncIterator[None]:
    """The cyclic-GC pause the CLI holds for its own runs (``run_in_cli``): a benchmark that
    drives a Dispatcher directly measures what ``zego-emulator run`` does."""
    from emulator.delivery.dispatch import quiet_gc

    with quiet_gc():
        yield
