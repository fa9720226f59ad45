"""Expectations: a scenario's ``expect:`` checked against what a run observed.

    observed = Observed.from_outcomes(outcomes)
    results = check(scenario.expect, observed)      # one ExpectationResult per key given
    failed = [r for r in results if not r.ok]

Every key is compared for equality with the observed count:

* ``callbacks``    deliveries made — every planned callback, each duplicate counting as one
* ``delivered``    deliveries that got a 2xx
* ``lost``         deliveries dropped after their last retry failed
* ``attempts``     HTTP requests sent in total (first requests and retries)
* ``max_attempts`` the most requests any one delivery took (6 = lost under ZEGO's policy)
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from emulator.delivery.results import Outcome
from emulator.scenario.model import Expect

EXPECTATION_NAMES: tuple[str, ...] = ("callbacks", "delivered", "lost", "attempts", "max_attempts")


@dataclass(frozen=True)
class Observed:
    """The counts a run produced, under the names ``expect:`` uses."""

    callbacks: int = 0
    delivered: int = 0
    lost: int = 0
    attempts: int = 0
    max_attempts: int = 0

    @classmethod
    def from_outcomes(
        cls, outcomes: Iterable[Outcome], planned: int | None = None, attempts: int | None = None
    ) -> Observed:
        """Counts from finished outcomes; ``planned``/``attempts`` override for cut-short runs."""
        counts = OutcomeCounts()
        for outcome in outcomes:
            counts.add(outcome)
        return counts.observed(planned, attempts)

    def value(self, name: str) -> int:
        return int(getattr(self, name))


@dataclass(frozen=True)
class ExpectationResult:
    """One checked expectation: ``{"name", "expected", "observed", "ok"}`` in the record."""

    name: str
    expected: int | float
    observed: int | float | None  # None: nothing to measure (a p99 with no answers)
    at_most: bool = False  # a threshold: holds when observed <= expected

    @property
    def ok(self) -> bool:
        if self.observed is None:
            return False
        if self.at_most:
            return self.observed <= self.expected
        return self.expected == self.observed

    def to_record(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "expected": self.expected,
            "observed": self.observed,
            "ok": self.ok,
            **({"at_most": True} if self.at_most else {}),
        }

    @classmethod
    def from_record(cls, item: Mapping[str, Any]) -> ExpectationResult:
        """The result a summary line's ``expectations`` entry describes."""
        return cls(
            str(item.get("name")),
            item.get("expected") or 0,
            item.get("observed"),
            bool(item.get("at_most")),
        )

    def describe(self) -> str:
        """``lost: expected 0, observed 1`` (``max_lost: at most 5, observed 12``) — the line
        a failed run prints."""
        observed = "nothing" if self.observed is None else _number(self.observed)
        if self.at_most:
            return f"{self.name}: at most {_number(self.expected)}, observed {observed}"
        return f"{self.name}: expected {self.expected}, observed {observed}"


def _number(value: int | float) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def thresholds(
    *, lost: int, p99_ms: float | None, max_lost: int | None, max_p99_ms: float | None
) -> list[ExpectationResult]:
    """Load mode's ``--max-lost N`` and ``--max-p99-ms MS`` as expectation results."""
    results = []
    if max_lost is not None:
        results.append(ExpectationResult("max_lost", max_lost, lost, at_most=True))
    if max_p99_ms is not None:
        observed = None if p99_ms is None else round(p99_ms, 3)
        results.append(ExpectationResult("max_p99_ms", max_p99_ms, observed, at_most=True))
    return results


def check(expect: Expect | None, observed: Observed) -> list[ExpectationResult]:
    """One result per key the scenario set, in :data:`EXPECTATION_NAMES` order."""
    if expect is None:
        return []
    results = []
    for name in EXPECTATION_NAMES:
        expected = getattr(expect, name, None)
        if expected is not None:
            results.append(ExpectationResult(name, int(expected), observed.value(name)))
    return results


def failed(results: Iterable[ExpectationResult]) -> list[ExpectationResult]:
    """The results that did not hold."""
    return [result for result in results if not result.ok]


FAILED_CALLBACKS_KEPT = 100  # failed callbacks named in a summary line at most


def broken_verdicts(outcomes: Iterable[Outcome]) -> list[Outcome]:
    """The deliveries whose per-callback expectation (``expect:``) did not hold."""
    return [o for o in outcomes if o.verdict is not None and not o.verdict.ok]


def verdict_summary(outcomes: Iterable[Outcome]) -> dict[str, Any]:
    """The summary line's ``verdicts`` (``{"pass": n, "fail": m}``) and ``failed_callbacks``
    (the first :data:`FAILED_CALLBACKS_KEPT`: ``callback_id``, ``event``, ``expect``, ``why``)."""
    counts = OutcomeCounts()
    for outcome in outcomes:
        counts.add(outcome)
    return counts.verdicts()


class OutcomeCounts:
    """What a summary line needs of a run's outcomes, counted as each one finishes — for a
    run that keeps no outcome (load mode: its memory must not grow with its length). Of
    the broken ones it keeps the first :data:`FAILED_CALLBACKS_KEPT` by callback id."""

    def __init__(self) -> None:
        self.callbacks = 0
        self.delivered = 0
        self.lost = 0
        self.attempts = 0
        self.max_attempts = 0
        self.judged = 0
        self.failed = 0
        self.broken: list[tuple[str, Outcome]] = []  # (callback id, outcome), in id order

    def add(self, outcome: Outcome) -> None:
        self.callbacks += 1
        self.delivered += outcome.delivered
        self.lost += outcome.lost
        attempts = outcome.attempts
        self.attempts += attempts
        if attempts > self.max_attempts:
            self.max_attempts = attempts
        verdict = outcome.verdict
        if verdict is None:
            return
        self.judged += 1
        if verdict.ok:
            return
        self.failed += 1
        broken = self.broken
        if len(broken) < FAILED_CALLBACKS_KEPT or outcome.callback_id < broken[-1][0]:
            bisect.insort(broken, (outcome.callback_id, outcome), key=lambda item: item[0])
            del broken[FAILED_CALLBACKS_KEPT:]

    def observed(self, planned: int | None = None, attempts: int | None = None) -> Observed:
        """The counts as :meth:`Observed.from_outcomes` gives them."""
        return Observed(
            callbacks=self.callbacks if planned is None else planned,
            delivered=self.delivered,
            lost=self.lost,
            attempts=self.attempts if attempts is None else attempts,
            max_attempts=self.max_attempts,
        )

    def verdicts(self) -> dict[str, Any]:
        """The summary line's ``verdicts`` and ``failed_callbacks``."""
        return {
            "verdicts": {"pass": self.judged - self.failed, "fail": self.failed},
            "failed_callbacks": [
                {
                    "callback_id": o.callback_id,
                    "event": o.event,
                    "expect": o.verdict.expect if o.verdict else "",
                    "why": o.verdict.reason if o.verdict else "",
                }
                for _, o in self.broken
            ],
        }


def describe_broken(outcome: Outcome) -> str:
    """``callback cb-000002 (procedure): expected refused, accepted (200 on attempt 1): ...``
    — the line a run prints for a broken per-callback expectation."""
    why = outcome.verdict.reason if outcome.verdict is not None else ""
    return f"callback {outcome.callback_id} ({outcome.event}): {why}"
