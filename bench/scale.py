"""scale: peak memory (RSS) with 100,000 callback schedules pending at once.

Measured in a fresh child process (``python -m bench.scale --child N``): N callbacks are
generated, signed, encoded, recorded (their ``callback`` lines, to a temporary file) and
handed to one ``Dispatcher`` with a one-hour delay, so every schedule is alive and waiting
on the clock — the state of a large run between requests. When all N wait, the child
reports its peak RSS (``VmHWM``) and stops. The baseline is the same child with
N = 0 (interpreter, imports, an open dispatcher); the difference over N is the cost of
one pending schedule.

**Through ``run``** (the figure the issue's target is about): a whole ``zego-emulator run``
process of a scenario of N callbacks with ``delay: 3600`` against a receiver process. Once
the record holds all N ``callback`` lines (every schedule begun and waiting), the process's
``VmHWM`` is read from /proc and it is stopped (SIGTERM). The baseline is the same run of
one callback; (peak - baseline) / N, less the mean body, is what one pending schedule costs
through ``run`` — planning, generating, recording and waiting, the whole process.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import ROOT, Figure, Result, as_the_cli_runs, child_env, command
from bench.receiver import ReceiverProcess

SECRET = "bench-callback-secret"
TARGET_MB = 600.0
TARGET_BEYOND_KB = 2.0  # a waiting schedule's cost beyond its body


async def hold_pending(schedules: int, record: Path) -> dict[str, float]:
    """Start ``schedules`` deliveries an hour out; measure once every one is waiting."""
    from emulator.callback.factory import CallbackFactory
    from emulator.callback.model import Callback
    from emulator.clock import ScaledClock
    from emulator.delivery.dispatch import Delivery, Dispatcher, DispatchListener
    from emulator.record.writer import Recorder

    class Waiting(DispatchListener):
        def __init__(self) -> None:
            self.count = 0
            self.all_waiting = asyncio.Event()

        def retry_scheduled(self, callback: Callback, attempt: int, at: float) -> None:
            self.count += 1
            if self.count >= schedules:
                self.all_waiting.set()

    waiting = Waiting()
    factory = CallbackFactory(seed=1, app_id="1234567890")
    started = time.perf_counter()
    with Recorder(record) as recorder:
        # the CLI's own runs pause the cyclic GC (run_in_cli); measure what it does
        async with (
            as_the_cli_runs(),
            Dispatcher(
                clock=ScaledClock(),
                recorder=recorder,
                run_id="bench",
                listeners=[waiting],
                release_fields=True,  # as the CLI's runs do
            ) as dispatcher,
        ):
            futures = []  # what a caller holds per delivery: a future, no task
            body_bytes = 0
            for _ in range(schedules):
                callback = factory.callback(factory.procedure(), SECRET)
                body_bytes += len(callback.body()[1])
                delivery = Delivery(callback, "http://127.0.0.1:9/zego/callback", delay=3600)
                futures.append(dispatcher.start(delivery))
            if schedules:
                await waiting.all_waiting.wait()
            await asyncio.sleep(0.05)
            setup = time.perf_counter() - started
            peak_kb = peak_rss_kb()
            for future in futures:
                future.cancel()
    return {
        "peak_mb": peak_kb / 1024,
        "setup_s": setup,
        "pending": waiting.count,
        "body_kb": body_bytes / 1024 / max(1, schedules),
    }


def peak_rss_kb() -> int:
    """This process's peak RSS in KiB: ``VmHWM`` of /proc (``getrusage`` where there is none).

    (``ru_maxrss`` of a child can start at its parent's RSS: Linux carries it over the fork.)
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def child_peak(schedules: int) -> dict[str, float]:
    """Run one measurement in a fresh interpreter and return what it reported."""
    output = subprocess.run(
        [sys.executable, "-m", "bench.scale", "--child", str(schedules)],
        cwd=ROOT,
        env=child_env(),
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    value: dict[str, float] = json.loads(output.strip().splitlines()[-1])
    return value


def process_peak_kb(pid: int) -> int:
    """Another process's peak RSS (``VmHWM``) in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmHWM for process {pid}")


def run_peak(callbacks: int, url: str, tmp: Path) -> dict[str, float]:
    """Peak RSS of a whole ``zego-emulator run`` once its ``callbacks`` (an hour out) all
    wait: ``{"peak_mb", "body_kb", "setup_s"}``; the run is stopped with SIGTERM after."""
    scenario = tmp / f"scale-{callbacks}.yaml"
    scenario.write_text(
        f"name: bench scale\nseed: 1\ncallbacks:\n  - status: SUCCESS\n"
        f"    repeat: {callbacks}\n    delay: 3600\n",
        encoding="utf-8",
    )
    record = tmp / f"scale-{callbacks}.jsonl"
    argv = [sys.executable, "-m", "emulator", "run", str(scenario), "--target", url]
    argv += ["--json", "--no-live", "--record", str(record)]
    env = dict(child_env(), ZEGO_CALLBACK_SECRET=SECRET)
    started = time.perf_counter()
    child = subprocess.Popen(
        argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        seen, body_bytes, offset, partial = 0, 0, 0, b""
        deadline = time.monotonic() + 600
        while seen < callbacks:
            if child.poll() is not None:
                raise RuntimeError(f"the run ended early (exit {child.returncode})")
            if time.monotonic() > deadline:
                raise RuntimeError(f"only {seen:,} of {callbacks:,} callbacks began in 600 s")
            time.sleep(0.05)
            if not record.exists():
                continue
            with record.open("rb") as file:  # read only what was appended since last time
                file.seek(offset)
                chunk = partial + file.read()
            offset += len(chunk) - len(partial)
            lines = chunk.split(b"\n")
            partial = lines.pop()
            for raw in lines:
                if raw.startswith(b'{"type":"callback"'):
                    seen += 1
                    body_bytes += len(json.loads(raw)["body"].encode())
        setup = time.perf_counter() - started
        time.sleep(0.2)  # every timer set: the state of the run while it waits
        peak_kb = process_peak_kb(child.pid)
    finally:
        if child.poll() is None:
            os.kill(child.pid, signal.SIGTERM)
            try:
                child.wait(60)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
    return {"peak_mb": peak_kb / 1024, "body_kb": body_bytes / 1024 / callbacks, "setup_s": setup}


def through_run(result: Result, schedules: int) -> None:
    """The through-``run`` figures (module docstring)."""
    with tempfile.TemporaryDirectory() as tmp, ReceiverProcess(200, fast=True) as receiver:
        base = run_peak(1, receiver.url, Path(tmp))
        loaded = run_peak(schedules, receiver.url, Path(tmp))
    result.add(Figure("through run: baseline (a run of 1 callback)", base["peak_mb"], "MB"))
    result.add(Figure(f"through run: peak RSS, {schedules:,} pending", loaded["peak_mb"], "MB"))
    per_schedule = (loaded["peak_mb"] - base["peak_mb"]) * 1024 / schedules
    result.add(Figure("through run: per pending schedule", per_schedule, "KB"))
    beyond = per_schedule - loaded["body_kb"]
    result.add(beyond_figure("through run: per pending schedule, beyond body", beyond))
    result.notes.append(
        f"through run: a whole zego-emulator run process, {schedules:,} callbacks with "
        f"delay: 3600 all begun after {loaded['setup_s']:.1f} s (bodies "
        f"{loaded['body_kb']:.2f} KB each), VmHWM read, then SIGTERM"
    )


def beyond_figure(name: str, beyond_kb: float) -> Figure:
    """The cost per pending schedule beyond its body, judged against the 2 KB target."""
    return Figure(
        name,
        beyond_kb,
        "KB",
        "target",
        beyond_kb / TARGET_BEYOND_KB,
        f"<= {TARGET_BEYOND_KB:g} KB",
        beyond_kb <= TARGET_BEYOND_KB,
    )


# above this many schedules the through-run figure is skipped (its record alone is ~1 GB)
THROUGH_RUN_MAX = 200_000


def run(quick: bool = False, schedules: int | None = None) -> Result:
    schedules = schedules or (2_000 if quick else 100_000)
    result = Result("scale", command("scale", "--schedules", str(schedules)))
    base = child_peak(0)
    loaded = child_peak(schedules)
    peak = loaded["peak_mb"]
    result.add(Figure("baseline: interpreter + imports + dispatcher", base["peak_mb"], "MB"))
    if schedules >= 100_000:  # 600 MB for 100,000, in proportion above that
        target_mb = TARGET_MB * schedules / 100_000
        whole = Figure(
            f"peak RSS, {schedules:,} schedules pending",
            peak,
            "MB",
            "target",
            peak / target_mb,
            f"< {target_mb:,.0f} MB",
            peak < target_mb,
        )
    else:  # below it the interpreter's own ~35 MB dominates: only the per-schedule targets
        whole = Figure(f"peak RSS, {schedules:,} schedules pending", peak, "MB")
    result.add(whole)
    per_schedule = (peak - base["peak_mb"]) * 1024 / max(1, schedules)
    result.add(Figure("per pending schedule", per_schedule, "KB"))
    beyond = per_schedule - loaded["body_kb"]
    result.add(beyond_figure("per pending schedule, beyond its body", beyond))
    result.notes.append(
        f"bodies {loaded['body_kb']:.2f} KB each; "
        f"{int(loaded['pending']):,} schedules waiting (one-hour delay) after "
        f"{loaded['setup_s']:.1f} s of generating, signing, encoding and recording them; "
        "measured in a fresh child process"
    )
    if schedules <= THROUGH_RUN_MAX:
        through_run(result, schedules)
    else:
        result.notes.append(
            f"through run: skipped above {THROUGH_RUN_MAX:,} schedules (run it at 100,000)"
        )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.scale")
    parser.add_argument("--child", type=int, required=True, help="pending schedules to hold")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        report = asyncio.run(hold_pending(args.child, Path(tmp, "record.jsonl")))
    print(json.dumps(report))


if __name__ == "__main__":
    main()
