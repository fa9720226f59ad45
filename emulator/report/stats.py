"""The numbers of a report: percentiles, attempt kinds, per-run and total statistics.

data = report_data(runs)   # what ``report --json`` prints
"""

from __future__ import annotations

import heapq
import math
from array import array
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
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


class Tally:
    """The numbers of a set of callbacks, added one at a time (a report streams them):
    counters, and two floats an attempt (latency, lateness) for exact percentiles."""

    def __init__(self) -> None:
        self.callbacks = 0
        self.attempts = 0
        self.states: Counter[str] = Counter()
        self.per_callback: Counter[int] = Counter()
        self.delivered_on: Counter[int] = Counter()
        self.statuses: Counter[str] = Counter()
        self.errors: Counter[str] = Counter()
        self.latencies = array("d")
        self.lateness = array("d")
        self._result: dict[str, Any] | None = None

    def add(self, cb: CallbackView) -> None:
        """Count one callback and its attempts."""
        self._result = None
        state = cb.state
        count = cb.attempt_count
        self.callbacks += 1
        self.attempts += count
        self.states[state] += 1
        self.per_callback[count] += 1
        if state == "delivered":
            self.delivered_on[count] += 1
        for attempt in cb.attempts:
            status = as_int(attempt.get("status"))
            if status is not None:
                self.statuses[str(status)] += 1
            if attempt.get("error"):
                self.errors[as_text(attempt.get("error"))] += 1
            latency = as_number(attempt.get("latency_ms"))
            if latency is not None:
                self.latencies.append(latency)
            sent, scheduled = (
                as_number(attempt.get("sent_at")),
                as_number(attempt.get("scheduled_at")),
            )
            if sent is not None and scheduled is not None:
                self.lateness.append((sent - scheduled) * 1000)

    @classmethod
    def combined(cls, tallies: Sequence[Tally]) -> Tally:
        """One tally of several (all runs)."""
        if len(tallies) == 1:
            return tallies[0]
        total = cls()
        for tally in tallies:
            total.callbacks += tally.callbacks
            total.attempts += tally.attempts
            total.states.update(tally.states)
            total.per_callback.update(tally.per_callback)
            total.delivered_on.update(tally.delivered_on)
            total.statuses.update(tally.statuses)
            total.errors.update(tally.errors)
            total.latencies.extend(tally.latencies)
            total.lateness.extend(tally.lateness)
        return total

    def result(self) -> dict[str, Any]:
        """The numbers, as ``report --json`` prints them (worked out once)."""
        if self._result is None:
            self._result = self._numbers()
        return self._result

    def _numbers(self) -> dict[str, Any]:
        highest = max([len(ZEGO_INTERVALS) + 1, *self.per_callback])
        return {
            "callbacks": self.callbacks,
            "delivered": self.states["delivered"],
            "lost": self.states["lost"],
            "pending": self.states["pending"],
            "attempts": self.attempts,
            "attempts_histogram": {str(n): self.per_callback[n] for n in range(1, highest + 1)},
            "delivered_on_attempt": {str(n): self.delivered_on[n] for n in range(1, highest + 1)},
            "status_codes": dict(sorted(self.statuses.items())),
            "errors": dict(sorted(self.errors.items())),
            "latency_ms": _percentiles(self.latencies, (50, 95, 99)),
            "lateness_ms": _percentiles(self.lateness, (50, 99)),
        }


def stats(callbacks: Sequence[CallbackView]) -> dict[str, Any]:
    """The numbers of a set of callbacks (one run, or all runs)."""
    tally = Tally()
    for cb in callbacks:
        tally.add(cb)
    return tally.result()


SORTED_CHUNK = 65_536  # values sorted at a time: no sorted copy of every attempt's latency


def _percentiles(values: array[float], pcts: Sequence[int]) -> dict[str, float | None]:
    """Nearest-rank percentiles and the max, from values sorted in place in chunks and
    merged, so that no list of every value is built (an 800,000-line record)."""
    count = len(values)
    out: dict[str, float | None] = {f"p{pct}": None for pct in pcts}
    if not count:
        return {**out, "max": None}
    ranks = {pct: min(count, max(1, math.ceil(pct / 100 * count))) for pct in pcts}
    if count <= SORTED_CHUNK:
        ordered: Iterable[float] = sorted(values)
    else:
        for start in range(0, count, SORTED_CHUNK):
            values[start : start + SORTED_CHUNK] = array(
                "d", sorted(values[start : start + SORTED_CHUNK])
            )
        ordered = heapq.merge(
            *(values[start : start + SORTED_CHUNK] for start in range(0, count, SORTED_CHUNK))
        )
    wanted = sorted(set(ranks.values()))
    at_rank: dict[int, float] = {}
    for position, value in enumerate(ordered, 1):
        if position == wanted[len(at_rank)]:
            at_rank[position] = value
            if len(at_rank) == len(wanted):
                break
    for pct, rank in ranks.items():
        out[f"p{pct}"] = round(at_rank[rank], 3)
    out["max"] = round(max(values), 3)
    return out


def report_data(runs: Sequence[RunView]) -> dict[str, Any]:
    """Everything ``report --json`` prints: per run and in total."""
    tallies = []
    failed = []
    for run in runs:
        tally = Tally()
        for cb in run.views:
            tally.add(cb)
        tallies.append(tally)
        failed.append([failed_item(cb) for cb in run.views if cb.broken])
    return assemble(runs, tallies, failed)


def failed_item(cb: CallbackView) -> dict[str, Any]:
    """A callback whose expectation failed, as ``failed_callbacks`` lists it."""
    return {"callback_id": cb.callback_id, "event": cb.event, "expect": cb.expect, "why": cb.why}


def assemble(
    runs: Sequence[RunView], tallies: Sequence[Tally], failed: Sequence[list[dict[str, Any]]]
) -> dict[str, Any]:
    """``report --json`` from each run's tally and failed callbacks (in run order)."""
    run_items = []
    for run, tally, broken_items in zip(runs, tallies, failed, strict=True):
        expectations = run.expectations
        run_items.append(
            {
                "run_id": run.run_id,
                "scenario": run.scenario,
                "worker": _swarm_worker(run.run),
                "target": run.target,
                "started_at": as_number(run.run.get("started_at")),
                "speed": run.run.get("speed"),
                "records": run.sources,
                "stats": tally.result(),
                "expectations": expectations,
                "expectations_ok": all(bool(e.get("ok")) for e in expectations)
                if expectations
                else None,
                "failed_callbacks": broken_items,
            }
        )
    failed_expectations = sum(1 for run in runs for e in run.expectations if not e.get("ok"))
    broken = sum(len(items) for items in failed)
    return {
        "runs": run_items,
        "total": Tally.combined(list(tallies)).result() if tallies else Tally().result(),
        "expectations_failed": failed_expectations + broken,
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
