"""load: ``zego-emulator run --rate R --duration D`` at R = 2,000 / 5,000 / 10,000 a second.

Each rate is one whole ``run --rate`` process sending to the fast receiver (bare asyncio +
llhttp, its own process). Figures per rate:

* the achieved rate (the summary's ``achieved_rate``) against the asked one (ratio; target
  >= 0.95 at every rate);
* lateness of first requests, ``sent_at - scheduled_at`` from the record (p99, ms): in
  load mode ``scheduled_at`` is the callback's slot in the rate schedule, so this is how
  far behind its schedule the sender went;
* the process's CPU time per callback against a burst's (``run`` of as many callbacks
  with ``repeat:``, measured here too), each less a one-callback run's CPU (start-up and
  imports): pacing should cost close to nothing.

``--loop uvloop`` runs every one of those processes (the baseline burst too) on uvloop.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import ROOT, Figure, Result, child_env, command, percentile
from bench.burst import SECRET, scenario_text
from bench.receiver import ReceiverProcess

TARGET_RATIO = 0.95


def child_run(argv: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """``(wall seconds, CPU seconds, standard output)`` of one child process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(argv, env=env, check=True, capture_output=True, text=True, cwd=ROOT)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, done.stdout


def first_request_lateness_ms(record: Path) -> list[float]:
    """``sent_at - scheduled_at`` of every first request in a record, in ms."""
    lateness = []
    with record.open(encoding="utf-8") as lines:
        for line in lines:
            if line.startswith('{"type":"attempt"'):
                attempt = json.loads(line)
                if attempt["attempt"] == 1:
                    lateness.append((attempt["sent_at"] - attempt["scheduled_at"]) * 1000)
    return lateness


def run(
    quick: bool = False,
    rates: tuple[int, ...] | None = None,
    duration: float | None = None,
    loop: str = "asyncio",
) -> Result:
    rates = rates or ((200, 500) if quick else (2_000, 5_000, 10_000))
    duration = duration or (1.0 if quick else 5.0)
    options = ["--rates", ",".join(map(str, rates)), "--duration", f"{duration:g}"]
    if loop != "asyncio":
        options += ["--loop", loop]
    result = Result("load", command("load", *options))
    env = dict(child_env(), ZEGO_CALLBACK_SECRET=SECRET)
    with tempfile.TemporaryDirectory() as tmp, ReceiverProcess(200, fast=True) as receiver:
        record = Path(tmp, "load.jsonl")
        base = [sys.executable, "-m", "emulator", "run", "--target", receiver.url, "--json"]
        base += ["--no-live", "--record", str(record), "--loop", loop]
        one = Path(tmp, "one.yaml")
        one.write_text(scenario_text(1), encoding="utf-8")
        _, startup_cpu, _ = child_run([*base, str(one)], env)
        burst_count = min(100_000, max(1, round(max(rates) * duration)))
        scenario = Path(tmp, "burst.yaml")
        scenario.write_text(scenario_text(burst_count), encoding="utf-8")
        _, burst_cpu, _ = child_run([*base, str(scenario)], env)
        burst_per = (burst_cpu - startup_cpu) / burst_count * 1e6
        record.unlink()
        result.add(Figure("burst run: CPU per callback (baseline)", burst_per, "us"))
        for rate in rates:
            argv = [*base, "--rate", str(rate), "--duration", f"{duration:g}"]
            wall, cpu, out = child_run(argv, env)
            load = json.loads(out)["load"]
            achieved = float(load["achieved_rate"])
            ratio = achieved / rate
            lateness = first_request_lateness_ms(record)
            record.unlink()
            result.add(
                Figure(
                    f"{rate:,}/s asked: achieved",
                    achieved,
                    "/s",
                    "asked",
                    ratio,
                    f">= {TARGET_RATIO:g}x",
                    ratio >= TARGET_RATIO,
                )
            )
            result.add(
                Figure(f"{rate:,}/s: first-request lateness p99", percentile(lateness, 99), "ms")
            )
            per = (cpu - startup_cpu) / max(1, len(lateness)) * 1e6
            result.add(Figure(f"{rate:,}/s: CPU per callback", per, "us", "burst", per / burst_per))
            result.notes.append(
                f"{rate:,}/s for {duration:g} s: {len(lateness):,} callbacks, wall {wall:.1f} s, "
                f"behind at most {load['behind_max_s']:.3f} s, window full "
                f"{load['window_full_s']:.2f} s"
            )
    result.notes.append(
        f"whole processes on {loop}; a one-callback run's CPU ({startup_cpu:.2f} s) is taken "
        f"off each; burst baseline: {burst_count:,} callbacks"
    )
    return result
