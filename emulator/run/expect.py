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

from collections.abc import Iterable
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
        finished = list(outcomes)
        return cls(
            callbacks=len(finished) if planned is None else planned,
            delivered=sum(1 for outcome in finished if outcome.delivered),
            lost=sum(1 for outcome in finished if outcome.lost),
            attempts=sum(o.attempts for o in finished) if attempts is None else attempts,
            max_attempts=max((o.attempts for o in finished), default=0),
        )

    def value(self, name: str) -> int:
        return int(getattr(self, name))


@dataclass(frozen=True)
class ExpectationResult:
    """One checked expectation: ``{"name", "expected", "observed", "ok"}`` in the record."""

    name: str
    expected: int
    observed: int

    @property
    def ok(self) -> bool:
        return self.expected == self.observed

    def to_record(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "expected": self.expected,
            "observed": self.observed,
            "ok": self.ok,
        }

    def describe(self) -> str:
        """``lost: expected 0, observed 1`` — the line a failed run prints."""
        return f"{self.name}: expected {self.expected}, observed {self.observed}"


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
