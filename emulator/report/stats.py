"""The numbers of a report: percentiles, attempt kinds, per-run and total statistics.

data = report_data(runs)   # what ``report --json`` prints
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from emulator.retry import ZEGO_INTERVALS

if TYPE_CHECKING:
    pass
from emulator.report.model import CallbackView, RunView, as_int, as_number, as_text

EXCERPT_IN_TITLE = 160  # characters of a response excerpt in a hover tooltip


EXPECTATIONS_ON_DELIVERY = ("delivered", "lost")


def percentile(values: Sequence[float], pct: float) -> float | None:
    """Nearest-rank percentile (``pct`` in 0..100) of ``values``; None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def attempt_kind(attempt: Mapping[str, Any]) -> str:
    """How an attempt went, for colours and legends: ok, 3xx, 4xx, 5xx, timeout, network."""
    error = attempt.get("error")
    if error == "timeout":
        return "timeout"
    if error:
        return "network"
    status = as_int(attempt.get("status"))
    if status is None:
        return "network"
    if 200 <= status <= 299:
        return "ok"
    if 400 <= status <= 499:
        return "4xx"
    if 500 <= status <= 599:
        return "5xx"
    return "3xx"


KIND_LABELS = {
    "ok": "2xx accepted",
    "3xx": "1xx/3xx",
    "4xx": "4xx rejected",
    "5xx": "5xx error",
    "timeout": "timeout",
    "network": "connection error",
}


def attempt_result(attempt: Mapping[str, Any]) -> str:
    """``HTTP 500``, ``timeout``, ``HTTP 200 then connection_reset``."""
    status = as_int(attempt.get("status"))
    error = as_text(attempt.get("error"))
    detail = as_text(attempt.get("error_detail"))
    if error and detail:
        error = f"{error} ({detail})"
    if status is None:
        return error or "no answer"
    return f"HTTP {status} then {error}" if error else f"HTTP {status}"


def stats(callbacks: Sequence[CallbackView]) -> dict[str, Any]:
    """The numbers of a set of callbacks (one run, or all runs)."""
    attempts = [attempt for cb in callbacks for attempt in cb.attempts]
    states = Counter(cb.state for cb in callbacks)
    highest = max([len(ZEGO_INTERVALS) + 1, *(cb.attempt_count for cb in callbacks)])
    per_callback = Counter(cb.attempt_count for cb in callbacks)
    delivered_on = Counter(cb.attempt_count for cb in callbacks if cb.state == "delivered")
    statuses = Counter(
        str(as_int(a.get("status"))) for a in attempts if as_int(a.get("status")) is not None
    )
    errors = Counter(as_text(a.get("error")) for a in attempts if a.get("error"))
    latencies = [v for v in (as_number(a.get("latency_ms")) for a in attempts) if v is not None]
    lateness = [
        (sent - scheduled) * 1000
        for sent, scheduled in (
            (as_number(a.get("sent_at")), as_number(a.get("scheduled_at"))) for a in attempts
        )
        if sent is not None and scheduled is not None
    ]
    return {
        "callbacks": len(callbacks),
        "delivered": states["delivered"],
        "lost": states["lost"],
        "pending": states["pending"],
        "attempts": len(attempts),
        "attempts_histogram": {str(n): per_callback[n] for n in range(1, highest + 1)},
        "delivered_on_attempt": {str(n): delivered_on[n] for n in range(1, highest + 1)},
        "status_codes": dict(sorted(statuses.items())),
        "errors": dict(sorted(errors.items())),
        "latency_ms": _percentiles(latencies, (50, 95, 99)),
        "lateness_ms": _percentiles(lateness, (50, 99)),
    }


def _percentiles(values: Sequence[float], pcts: Sequence[int]) -> dict[str, float | None]:
    out: dict[str, float | None] = {}
    for pct in pcts:
        value = percentile(values, pct)
        out[f"p{pct}"] = None if value is None else round(value, 3)
    out["max"] = round(max(values), 3) if values else None
    return out


def report_data(runs: Sequence[RunView]) -> dict[str, Any]:
    """Everything ``report --json`` prints: per run and in total."""
    run_items = []
    for run in runs:
        expectations = run.expectations
        run_items.append(
            {
                "run_id": run.run_id,
                "scenario": run.scenario,
                "worker": _swarm_worker(run.run),
                "target": run.target,
                "started_at": as_number((run.run or {}).get("started_at")),
                "speed": (run.run or {}).get("speed"),
                "records": run.sources,
                "stats": stats(run.views),
                "expectations": expectations,
                "expectations_ok": all(bool(e.get("ok")) for e in expectations)
                if expectations
                else None,
                "failed_callbacks": [
                    {
                        "callback_id": cb.callback_id,
                        "event": cb.event,
                        "expect": cb.expect,
                        "why": cb.why,
                    }
                    for cb in run.views
                    if cb.broken
                ],
            }
        )
    failed = sum(1 for run in runs for e in run.expectations if not e.get("ok"))
    broken = sum(1 for run in runs for cb in run.views if cb.broken)
    return {
        "runs": run_items,
        "total": stats([cb for run in runs for cb in run.views]),
        "expectations_failed": failed + broken,
        "callbacks_failed": broken,
    }


def ms_text(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.0f}" if abs(value) >= 100 else f"{value:.1f}"


def state_text(cb: CallbackView) -> str:
    if cb.state == "delivered":
        return "delivered" if cb.attempt_count == 1 else f"delivered on attempt {cb.attempt_count}"
    if cb.state == "lost":
        return f"lost after {cb.attempt_count} attempt{'s' if cb.attempt_count != 1 else ''}"
    return "no outcome (interrupted)"


def _swarm_worker(run_line: Mapping[str, Any] | None) -> str | None:
    """``w2`` for a shard of ``zego-emulator swarm`` (its run line says), else None."""
    swarm = (run_line or {}).get("swarm")
    worker = swarm.get("worker") if isinstance(swarm, Mapping) else None
    return worker if isinstance(worker, str) else None
