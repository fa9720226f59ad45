"""swarm: callbacks/s through Locust's runner with 1 and 2 local workers, against load mode.

All three send the same ``R x D`` fresh signed callbacks to the same receiver (its own
process, answering 200 at once), asked for far more than they can do, so each goes as
fast as it can (the three alternate for ``--rounds`` rounds; the best of each is kept):

* **load mode** — ``zego-emulator run --rate R --duration D`` (one asyncio process);
* **swarm, 1 worker** / **swarm, 2 workers** — ``zego-emulator swarm --workers N`` (a
  master and N gevent worker processes, every attempt also in Locust's statistics);
* **bare gevent loop** — :mod:`bench.gevent_loop`: one pre-built body POSTed over
  geventhttpclient, 100 at a time: the stack a worker sends on, doing nothing else.

Callbacks/s is read from each run's records, the same way for all three: delivered
callbacks over the span from the first request to the last answer. Process start-up
(Locust's imports, workers connecting) is outside that span. On a 2-core machine the
receiver takes one core, so 2 workers share the other with the master: the ratio says
what a second process buys *here*; on more cores (or machines) each worker adds its own.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

from bench import ROOT, Figure, Result, child_env, command
from bench.receiver import ReceiverProcess

OFFERED_RATE = 100_000  # callbacks a second asked for: far above what one machine does
SECRET = "bench-callback-secret"
TIMEOUT_S = 300  # real seconds one run may take


def delivered_rate(records: list[Path]) -> tuple[float, int]:
    """Delivered callbacks per second over first request -> last answer, and how many."""
    from emulator.record.reader import read_records

    lines = read_records(records)
    attempts = [line for line in lines if line.get("type") == "attempt"]
    delivered = sum(1 for line in lines if line.get("type") == "outcome" and line["delivered"])
    if not attempts:
        raise RuntimeError(f"no attempts recorded in {records}")
    start = min(float(a["sent_at"]) for a in attempts)
    end = max(float(a["sent_at"]) + float(a["latency_ms"]) / 1000 for a in attempts)
    return delivered / max(end - start, 1e-9), delivered


def gevent_loop(url: str, requests: int) -> tuple[float, float]:
    """Requests/s and CPU µs a request of the bare geventhttpclient loop (own process)."""
    done = subprocess.run(
        [sys.executable, "-m", "bench.gevent_loop", url, str(requests)],
        cwd=ROOT,
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        check=True,
    )
    rate, cpu_us = done.stdout.split()
    return float(rate), float(cpu_us)


def run_cli(args: list[str], cwd: Path) -> None:
    """Run ``zego-emulator ARGS``; one that outlives ``TIMEOUT_S`` gets Ctrl-C (a swarm then
    stops its master and workers) and the benchmark fails."""
    env = dict(child_env(), ZEGO_CALLBACK_SECRET=SECRET)
    with subprocess.Popen(
        [sys.executable, "-m", "emulator", *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    ) as process:
        try:
            _, err = process.communicate(timeout=TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.send_signal(signal.SIGINT)
            _, err = process.communicate(timeout=60)
            raise RuntimeError(f"zego-emulator {args[0]} took over {TIMEOUT_S} s: {err}") from None
    if process.returncode != 0:
        raise RuntimeError(f"zego-emulator {args[0]} exited {process.returncode}: {err}")


def run(quick: bool = False, callbacks: int | None = None, rounds: int | None = None) -> Result:
    callbacks = callbacks or (300 if quick else 10_000)
    rounds = rounds or (1 if quick else 3)
    duration = f"{callbacks / OFFERED_RATE:g}"
    options = ["--callbacks", str(callbacks), "--rounds", str(rounds)]
    result = Result("swarm", command("swarm", *options))
    common = ["--rate", str(OFFERED_RATE), "--duration", duration, "--encoding", "json"]
    modes = {"load": 0, "swarm-1": 1, "swarm-2": 2}  # workers (0: load mode)
    rates: dict[str, float] = dict.fromkeys(modes, 0.0)
    bare_rate, bare_cpu_us = 0.0, float("inf")
    with tempfile.TemporaryDirectory() as tmp, ReceiverProcess(200) as receiver:
        for number in range(rounds):  # modes alternate; the best of each is kept
            rate, cpu_us = gevent_loop(receiver.url, callbacks)
            bare_rate, bare_cpu_us = max(bare_rate, rate), min(bare_cpu_us, cpu_us)
            for mode, workers in modes.items():
                work = Path(tmp, f"{mode}-{number}")
                work.mkdir()
                if workers:
                    args = ["swarm", "--workers", str(workers), "--record-dir", "shards"]
                else:
                    args = ["run", "--record", "shards/load.jsonl"]
                run_cli([*args, "--target", receiver.url, *common], work)
                rate, delivered = delivered_rate(sorted((work / "shards").glob("*.jsonl")))
                if delivered != callbacks:
                    raise RuntimeError(f"{mode} delivered {delivered} of {callbacks} callbacks")
                rates[mode] = max(rates[mode], rate)
    load = rates["load"]
    result.add(Figure("bare gevent loop (pre-built bodies)", bare_rate, "req/s"))
    result.add(Figure("bare gevent loop, CPU a request", bare_cpu_us, "µs"))
    result.add(Figure("load mode (run --rate), one process", load, "callbacks/s"))
    for mode, workers in modes.items():
        if workers:
            rate = rates[mode]
            label = f"swarm, {workers} local worker{'s' if workers > 1 else ''}"
            result.add(Figure(label, rate, "callbacks/s", against="load mode", ratio=rate / load))
    result.notes.append(
        f"{callbacks} callbacks asked at {OFFERED_RATE:,}/s, best of {rounds}; "
        f"{os.cpu_count()} cores shared with the receiver process (2 workers: "
        f"x{rates['swarm-2'] / rates['swarm-1']:.2f} of 1 worker; 1 worker: "
        f"x{rates['swarm-1'] / bare_rate:.2f} of the bare gevent loop)"
    )
    return result
