"""virtual: 1,000 callbacks through ZEGO's full 6-request schedule in virtual time.

Every callback is generated, signed, encoded, recorded and sent to a real receiver (its own
process) that always answers 500, so each one makes all 6 requests and is lost — 62 s of
schedule. On a ``VirtualClock`` no one waits: the wall time is the CPU work of 6,000
requests. The baseline is the same schedule in real time (62 s).
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path

from bench import Figure, Result, as_the_cli_runs, command
from bench.receiver import ReceiverProcess

SECRET = "bench-callback-secret"
TARGET_S = 2.0


async def measure(url: str, callbacks: int, record: Path) -> tuple[float, int, float]:
    """``(wall seconds, requests, emulated seconds covered)`` for ``callbacks`` lost callbacks."""
    from emulator.callback.factory import CallbackFactory
    from emulator.clock import VirtualClock
    from emulator.delivery.dispatch import Delivery, Dispatcher
    from emulator.record.writer import Recorder
    from emulator.retry import RetryPolicy

    clock = VirtualClock()
    started = time.perf_counter()
    factory = CallbackFactory(seed=1, app_id="1234567890")
    with Recorder(record) as recorder:
        # the CLI's own runs pause the cyclic GC (run_in_cli); measure what it does
        async with (
            as_the_cli_runs(),
            Dispatcher(
                policy=RetryPolicy(), clock=clock, recorder=recorder, run_id="bench"
            ) as dispatcher,
        ):
            deliveries = [
                Delivery(factory.callback(factory.procedure(), SECRET), url)
                for _ in range(callbacks)
            ]
            outcomes = await dispatcher.deliver_all(deliveries)
    elapsed = time.perf_counter() - started
    requests = sum(outcome.attempts for outcome in outcomes)
    if requests != callbacks * 6 or any(outcome.delivered for outcome in outcomes):
        raise RuntimeError(f"expected {callbacks * 6} failed requests, got {requests}")
    return elapsed, requests, clock.now()


def run(quick: bool = False, callbacks: int | None = None) -> Result:
    callbacks = callbacks or (100 if quick else 1_000)
    result = Result("virtual", command("virtual", "--callbacks", str(callbacks)))
    with tempfile.TemporaryDirectory() as tmp, ReceiverProcess(500) as receiver:
        elapsed, requests, emulated = asyncio.run(
            measure(receiver.url, callbacks, Path(tmp, "record.jsonl"))
        )
    result.add(Figure("real-time schedule (baseline)", emulated, "s"))
    result.add(
        Figure(
            f"{callbacks:,} callbacks x 6 requests, virtual time",
            elapsed,
            "s",
            "target",
            elapsed / TARGET_S,
            f"< {TARGET_S:g} s",
            elapsed < TARGET_S,
        )
    )
    result.add(Figure("speed-up over real time", emulated / elapsed, "x"))
    result.notes.append(
        f"{requests:,} requests ({requests / elapsed:,.0f} req/s) to a receiver answering 500; "
        "includes generating, signing, encoding and recording every callback"
    )
    return result
