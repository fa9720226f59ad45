"""Per-callback expectations of a synchronous hook (ZIM's ``before_send_msg``).

    expectation = hook_expectation({"result": 3}, tamper="none")
    verdict = expectation.judge(outcome)         # ok when the final answer's result is 3

A hook's answer is read into a ``decision`` on each attempt (see
:mod:`emulator.events.zim.hook_answer`); the final attempt's decision is the hook's. An
entry's ``expect:`` may name what that decision must say — any of ``answer``
(``decision`` | ``invalid`` | ``error_status`` | ``no_answer``), ``result``, ``meaning``,
``message`` (``sent`` | ``silent`` | ``not_sent``), ``reason``, ``new_msg_body``,
``new_payload`` — and the verdict's reason quotes the decision either way.

An answer that is not the documented JSON is a named failure: the default expectation of a
hook (no ``expect:``) and every named one (``accepted``...) fail on it; only an ``expect:``
that asks for ``answer: invalid`` accepts it. A tampered hook request keeps the tamper's
default (``refused``): a receiver must refuse it before deciding anything.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from emulator.delivery.results import Outcome
from emulator.delivery.verdict import CallbackVerdict, Expectation, callback_expectation

DECISION_KEYS = (
    "answer",
    "result",
    "meaning",
    "message",
    "reason",
    "new_msg_body",
    "new_payload",
)


def decision_summary(decision: Mapping[str, Any]) -> str:
    """One line for a decision (imported when first judged: a run without a hook never
    loads the ZIM package)."""
    from emulator.events.zim.hook_answer import decision_summary as summary

    return summary(decision)


def final_decision(outcome: Outcome) -> dict[str, Any] | None:
    """The decision of the delivery's last answer (None: no request, or not a hook)."""
    return outcome.history[-1].decision if outcome.history else None


@dataclass(frozen=True)
class DecisionExpectation:
    """The hook's final decision must carry these values (none: just be a valid answer)."""

    wanted: Mapping[str, Any] = field(default_factory=dict)

    @property
    def label(self) -> str:
        if not self.wanted:
            return "valid answer"
        return " ".join(f"{key}={value}" for key, value in self.wanted.items())

    def judge(
        self, outcome: Outcome, tamper: str = "none", what: str | None = None
    ) -> CallbackVerdict:
        decision = final_decision(outcome)
        if decision is None:
            return CallbackVerdict(self.label, False, "no answer was read: no request was made")
        said = decision_summary(decision)
        if decision.get("answer") == "invalid" and self.wanted.get("answer") != "invalid":
            return CallbackVerdict(
                self.label, False, f"the hook's answer is not the documented JSON: {said}"
            )
        differing = [key for key, value in self.wanted.items() if decision.get(key) != value]
        if differing:
            expected = ", ".join(f"{key} {self.wanted[key]!r}" for key in differing)
            return CallbackVerdict(self.label, False, f"expected {expected}; the hook: {said}")
        return CallbackVerdict(self.label, True, said)


@dataclass(frozen=True)
class ValidAnswerAnd:
    """A named expectation (``accepted``...) of a hook: it holds and the answer is valid."""

    inner: Expectation

    @property
    def label(self) -> str:
        return self.inner.label

    def judge(
        self, outcome: Outcome, tamper: str = "none", what: str | None = None
    ) -> CallbackVerdict:
        decision = final_decision(outcome)
        if decision is not None and decision.get("answer") == "invalid":
            said = decision_summary(decision)
            return CallbackVerdict(
                self.label, False, f"the hook's answer is not the documented JSON: {said}"
            )
        verdict = self.inner.judge(outcome, tamper, what)
        if decision is None:
            return verdict
        return CallbackVerdict(
            verdict.expect, verdict.ok, f"{verdict.reason}; {decision_summary(decision)}"
        )


def hook_expectation(expect: object, tamper: str = "none") -> Expectation:
    """The expectation of a hook entry's ``expect:`` (a decision mapping, a name, or None)."""
    if isinstance(expect, Mapping):
        return DecisionExpectation(dict(expect))
    if expect is None and tamper == "none":
        return DecisionExpectation()
    return ValidAnswerAnd(callback_expectation(expect, tamper))
