"""lateness: how far behind its schedule each request goes out (``sent_at - scheduled_at``).

N always-failing callbacks (the receiver answers 500 from its own process) run ZEGO's full
6-request schedule at ``--speed 10`` (62 s emulated = 6.2 s real each). Their first requests
are spread evenly over one schedule length (62 s emulated), so at the peak all N schedules
are pending at once while requests keep going out — without the spread, N first requests
at the same instant would measure the request queue, not the schedule. Every request is
recorded to a temporary record file, as in ``run``. Lateness is in real milliseconds (the
record's Unix times), p50/p99/max over every request of every callback.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path

from bench import Figure, Result, as_the_cli_runs, command, percentile
from bench.receiver import ReceiverProcess

SECRET = "bench-callback-secret"
TARGETS_MS = {1_000: 5.0, 10_000: 20.0}  # p99 targets of the issue


async def measure(
    url: str, callbacks: int, speed: float, record: Path
) -> tuple[list[float], float, int, int]:
    """``(lateness_ms of every request, wall seconds, requests, peak pending schedules)``."""
    from emulator.callback.factory import CallbackFactory
    from emulator.clock import ScaledClock
    from emulator.delivery.dispatch import Delivery, Dispatcher
    from emulator.record.writer import Recorder
    from emulator.retry import RetryPolicy

    policy = RetryPolicy()
    spread = policy.offsets()[-1]  # one full schedule, 62 emulated seconds
    factory = CallbackFactory(seed=1, app_id="1234567890")
    deliveries = [
        Delivery(factory.callback(factory.procedure(), SECRET), url, delay=spread * i / callbacks)
        for i in range(callbacks)
    ]
    for delivery in deliveries:
        delivery.callback.body()
    with Recorder(record) as recorder:
        # the CLI's own runs pause the cyclic GC (run_in_cli); measure what it does
        async with (
            as_the_cli_runs(),
            Dispatcher(
                policy=policy, clock=ScaledClock(speed), recorder=recorder, run_id="bench"
            ) as dispatcher,
        ):
            started = time.perf_counter()
            outcomes = await dispatcher.deliver_all(deliveries)
            elapsed = time.perf_counter() - started
    attempts = [attempt for outcome in outcomes for attempt in outcome.history]
    if any(attempt.status != 500 for attempt in attempts):
        raise RuntimeError("a request did not get the receiver's 500")
    lateness = [(a.sent_at - a.scheduled_at) * 1000 for a in attempts]
    spans = [(o.history[0].scheduled_at, o.history[-1].sent_at) for o in outcomes if o.history]
    return lateness, elapsed, len(attempts), peak_overlap(spans)


def peak_overlap(spans: list[tuple[float, float]]) -> int:
    """The most intervals ``(start, end)`` that are open at one instant."""
    events = sorted([(start, 1) for start, _ in spans] + [(end, -1) for _, end in spans])
    peak = open_now = 0
    for _, step in events:
        open_now += step
        peak = max(peak, open_now)
    return peak


def run(
    quick: bool = False, sizes: tuple[int, ...] | None = None, speed: float | None = None
) -> Result:
    sizes = sizes or ((20, 100) if quick else (1_000, 10_000))
    speed = speed or (1000.0 if quick else 10.0)
    options = ["--sizes", ",".join(map(str, sizes)), "--speed", f"{speed:g}"]
    result = Result("lateness", command("lateness", *options))
    with tempfile.TemporaryDirectory() as tmp, ReceiverProcess(500) as receiver:
        for size in sizes:
            lateness, elapsed, requests, peak = asyncio.run(
                measure(receiver.url, size, speed, Path(tmp, f"{size}.jsonl"))
            )
            target = TARGETS_MS.get(size)
            p99 = percentile(lateness, 99)
            result.add(Figure(f"{size} callbacks: p50", percentile(lateness, 50), "ms"))
            result.add(
                Figure(
                    f"{size} callbacks: p99",
                    p99,
                    "ms",
                    "target" if target else "",
                    p99 / target if target else None,
                    f"<= {target:g} ms" if target else "",
                    p99 <= target if target else None,
                )
            )
            result.add(Figure(f"{size} callbacks: max", max(lateness), "ms"))
            result.notes.append(
                f"{size} callbacks: {requests} requests in {elapsed:.1f} s "
                f"({requests / elapsed:,.0f} req/s), peak {peak} schedules pending at once"
            )
    result.notes.append(f"speed {speed:g}; first requests spread over one 62 s schedule")
    return result
