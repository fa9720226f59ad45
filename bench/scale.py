"""scale: peak memory (RSS) with 100,000 callback schedules pending at once.

Measured in a fresh child process (``python -m bench.scale --child N``): N callbacks are
generated, signed, encoded, recorded (their ``callback`` lines, to a temporary file) and
handed to one ``Dispatcher`` with a one-hour delay, so every schedule is alive and waiting
on the clock — the state of a large run between requests. When all N wait, the child
reports its peak RSS (``VmHWM``) and stops. The baseline is the same child with
N = 0 (interpreter, imports, an open dispatcher); the difference over N is the cost of
one pending schedule.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import ROOT, Figure, Result, as_the_cli_runs, child_env, command

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


def run(quick: bool = False, schedules: int | None = None) -> Result:
    schedules = schedules or (2_000 if quick else 100_000)
    result = Result("scale", command("scale", "--schedules", str(schedules)))
    base = child_peak(0)
    loaded = child_peak(schedules)
    peak = loaded["peak_mb"]
    target_mb = TARGET_MB * max(1, schedules) / 100_000  # 600 MB for 100,000, in proportion
    result.add(Figure("baseline: interpreter + imports + dispatcher", base["peak_mb"], "MB"))
    result.add(
        Figure(
            f"peak RSS, {schedules:,} schedules pending",
            peak,
            "MB",
            "target",
            peak / target_mb,
            f"< {target_mb:,.0f} MB",
            peak < target_mb,
        )
    )
    per_schedule = (peak - base["peak_mb"]) * 1024 / max(1, schedules)
    result.add(Figure("per pending schedule", per_schedule, "KB"))
    beyond = per_schedule - loaded["body_kb"]
    result.add(
        Figure(
            "per pending schedule, beyond its body",
            beyond,
            "KB",
            "target",
            beyond / TARGET_BEYOND_KB,
            f"<= {TARGET_BEYOND_KB:g} KB",
            beyond <= TARGET_BEYOND_KB,
        )
    )
    result.notes.append(
        f"bodies {loaded['body_kb']:.2f} KB each; "
        f"{int(loaded['pending']):,} schedules waiting (one-hour delay) after "
        f"{loaded['setup_s']:.1f} s of generating, signing, encoding and recording them; "
        "measured in a fresh child process"
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
