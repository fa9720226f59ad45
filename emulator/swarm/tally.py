"""What each worker counts, and the master's sum of them: our summary under Locust's table.

    tally = Tally()
    tally.attempt(attempt)          # every request
    tally.outcome(outcome)          # every callback's fate
    report = tally.to_report()      # plain values: the worker's ``zego_done`` message
    total = merge([report, ...])    # the master's sum
    lines = describe(total)         # callbacks, delivered, lost, attempts, retry lateness

Retry lateness is how long after its scheduled instant a retry went out (real ms): what
tells a swarm that kept its schedule from one whose workers fell behind. It travels as a
histogram (Locust's rounding: 1 ms below 100 ms, 10 ms below 1 s, 100 ms above), so
percentiles over all workers come out of one merge. Pure.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from emulator.delivery.results import Attempt, Outcome

PERCENTILES = (50, 95, 99)


def bucket_ms(value: float) -> int:
    """A lateness rounded as Locust rounds response times (2 significant digits or so)."""
    if value < 100:
        return round(value)
    if value < 1000:
        return round(value / 10) * 10
    return round(value / 100) * 100


@dataclass
class Tally:
    """One worker's counts, kept as attempts and outcomes happen."""

    callbacks: int = 0  # started (first request scheduled)
    delivered: int = 0
    lost: int = 0
    attempts: int = 0
    answers: Counter[str] = field(default_factory=Counter)  # "200", "500", "timeout", ...
    retry_lateness: Counter[int] = field(default_factory=Counter)  # bucketed ms -> count
    first_start: float | None = None  # Unix time the first callback started
    last_start: float | None = None  # ... and the last one
    behind_max_s: float = 0.0  # real seconds the pacing fell behind its schedule at most
    max_attempts: int = 0  # the most requests one callback took

    def started(self, at: float, behind_s: float = 0.0) -> None:
        """A callback started at Unix time ``at``, ``behind_s`` after it was due."""
        self.callbacks += 1
        self.first_start = at if self.first_start is None else self.first_start
        self.last_start = at
        self.behind_max_s = max(self.behind_max_s, behind_s)

    def attempt(self, attempt: Attempt) -> None:
        self.attempts += 1
        self.answers[attempt.error or str(attempt.status)] += 1
        if attempt.attempt > 1:
            late_ms = max(0.0, (attempt.sent_at - attempt.scheduled_at) * 1000)
            self.retry_lateness[bucket_ms(late_ms)] += 1

    def outcome(self, outcome: Outcome) -> None:
        self.max_attempts = max(self.max_attempts, outcome.attempts)
        if outcome.delivered:
            self.delivered += 1
        else:
            self.lost += 1

    @property
    def pending(self) -> int:
        return self.callbacks - self.delivered - self.lost

    def to_report(self) -> dict[str, Any]:
        """Plain values (msgpack/JSON-safe): what a worker sends the master when done."""
        return {
            "callbacks": self.callbacks,
            "delivered": self.delivered,
            "lost": self.lost,
            "pending": self.pending,
            "attempts": self.attempts,
            "answers": dict(sorted(self.answers.items())),
            "retry_lateness_ms": {str(ms): n for ms, n in sorted(self.retry_lateness.items())},
            "first_start": self.first_start,
            "last_start": self.last_start,
            "behind_max_s": round(self.behind_max_s, 6),
        }


def merge(reports: Iterable[Mapping[str, Any]], rate: float | None = None) -> dict[str, Any]:
    """The sum of worker reports (as :meth:`Tally.to_report` gives them) plus percentiles;
    with the asked ``rate`` (callbacks per real second), the rate the workers achieved."""
    total = Tally()
    workers = 0
    for report in reports:
        workers += 1
        total.callbacks += int(report.get("callbacks", 0))
        total.delivered += int(report.get("delivered", 0))
        total.lost += int(report.get("lost", 0))
        total.attempts += int(report.get("attempts", 0))
        total.answers.update({str(k): int(v) for k, v in dict(report.get("answers", {})).items()})
        lateness = dict(report.get("retry_lateness_ms", {}))
        total.retry_lateness.update({int(k): int(v) for k, v in lateness.items()})
        total.behind_max_s = max(total.behind_max_s, float(report.get("behind_max_s", 0.0)))
        for key, pick in (("first_start", min), ("last_start", max)):
            value, mine = report.get(key), getattr(total, key)
            if isinstance(value, int | float):
                setattr(total, key, value if mine is None else pick(mine, value))
    merged = total.to_report()
    merged["workers"] = workers
    merged["retries"] = sum(total.retry_lateness.values())
    merged["retry_lateness"] = lateness_percentiles(total.retry_lateness)
    merged["rate"] = rate
    merged["achieved_rate"] = None
    if rate and total.first_start is not None and total.last_start is not None:
        span = total.last_start - total.first_start + 1 / rate
        merged["achieved_rate"] = round(total.callbacks / span, 3)
    return merged


def lateness_percentiles(histogram: Mapping[int, int]) -> dict[str, float | None]:
    """p50/p95/p99/max (nearest rank) of a bucketed-ms histogram; None when empty."""
    count = sum(histogram.values())
    out: dict[str, float | None] = {}
    ordered = sorted(histogram.items())
    for pct in PERCENTILES:
        out[f"p{pct}"] = None
        if count:
            rank = max(1, math.ceil(pct / 100 * count))
            seen = 0
            for value, n in ordered:
                seen += n
                if seen >= rank:
                    out[f"p{pct}"] = float(value)
                    break
    out["max"] = float(ordered[-1][0]) if ordered else None
    return out


def describe(total: Mapping[str, Any]) -> list[str]:
    """Our summary for a terminal, from :func:`merge`'s result."""

    def ms(value: Any) -> str:
        return "-" if value is None else f"{value:g} ms"

    answers = ", ".join(f"{key} x{n}" for key, n in dict(total["answers"]).items()) or "none"
    late = dict(total["retry_lateness"])
    workers = total["workers"]
    lines = [
        f"swarm: {workers} worker{'' if workers == 1 else 's'}, {total['callbacks']} callbacks, "
        f"{total['delivered']} delivered, {total['lost']} lost"
        + (f", {total['pending']} pending" if total["pending"] else ""),
    ]
    achieved, rate = total.get("achieved_rate"), total.get("rate")
    if achieved is not None and rate:
        behind = ""
        if achieved < 0.99 * rate:
            behind = f"  (the workers fell behind, by {total['behind_max_s']:.2f} s at most)"
        lines.append(f"  started {achieved:,.1f}/s real (asked {rate:,.6g}/s){behind}")
    lines.append(f"  attempts {total['attempts']}: {answers}")
    if total["retries"]:
        lines.append(
            f"  retry lateness p50 {ms(late['p50'])}  p95 {ms(late['p95'])}  "
            f"p99 {ms(late['p99'])}  max {ms(late['max'])}  (over {total['retries']} retries)"
        )
    else:
        lines.append("  retry lateness: no retries")
    return lines
