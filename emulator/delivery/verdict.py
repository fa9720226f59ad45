"""Per-callback verdicts: what one callback's delivery should come to, and whether it did.

    expectation = callback_expectation(entry.expect, entry.tamper)   # "refused" for a tamper
    verdict = expectation.judge(outcome, tamper="bad_signature")
    verdict.ok, verdict.reason   # False, "accepted (200 on attempt 1) ... must be refused"

The named expectations a scenario entry's ``expect:`` takes:

* ``accepted``  some request was answered 2xx (the callback was delivered)
* ``refused``   every request was answered, and none with a 2xx: the receiver said no
* ``lost``      never delivered, whatever the reason (refusals, timeouts, resets)
* ``any``       anything goes (the default for an untampered callback)

A tampered callback (``bad_signature``, ``missing_signature``, ``stale_timestamp``)
defaults to ``refused``: a receiver must never answer it 2xx. Another kind of expectation
(e.g. a hook's answer) is one more class with ``label`` and ``judge`` beside these.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol, get_args

from emulator.delivery.results import Attempt, Outcome

ExpectName = Literal["accepted", "refused", "lost", "any"]
EXPECT_NAMES: tuple[ExpectName, ...] = get_args(ExpectName)
TAMPERED_DEFAULT: ExpectName = "refused"
UNTAMPERED_DEFAULT: ExpectName = "any"
SHOWN_ANSWERS = 6  # answers listed in a reason at most

_TAMPER_TEXT = {
    "bad_signature": "a forged signature",
    "missing_signature": "no signature",
    "stale_timestamp": "a stale (1 h old) timestamp",
}


@dataclass(frozen=True)
class CallbackVerdict:
    """The judgement of one callback: its expectation, whether it held, and why (one line)."""

    expect: str
    ok: bool
    reason: str

    @property
    def verdict(self) -> Literal["pass", "fail"]:
        return "pass" if self.ok else "fail"

    def to_record(self) -> dict[str, Any]:
        """The keys the ``outcome`` record line gains: ``expect``, ``verdict``, ``why``."""
        return {"expect": self.expect, "verdict": self.verdict, "why": self.reason}


class Expectation(Protocol):
    """What a callback's delivery is expected to come to."""

    @property
    def label(self) -> str:
        """How the record and the reports name it (``refused``)."""
        ...

    def judge(
        self, outcome: Outcome, tamper: str = "none", what: str | None = None
    ) -> CallbackVerdict:
        """The verdict on a finished delivery of a callback carrying ``tamper``
        (``what`` names the callback in the reason; default: by its tamper)."""
        ...


def answer_text(attempt: Attempt) -> str:
    """``500`` or ``timeout`` — what one request got."""
    if attempt.error is not None:
        return attempt.error if attempt.status is None else f"{attempt.status} ({attempt.error})"
    return str(attempt.status)


def answers_text(history: Sequence[Attempt]) -> str:
    """``500, 500, 200`` — the answers of a delivery, cut after :data:`SHOWN_ANSWERS`."""
    shown = [answer_text(attempt) for attempt in history[:SHOWN_ANSWERS]]
    more = len(history) - SHOWN_ANSWERS
    return ", ".join(shown) + (f" and {more} more" if more > 0 else "")


def what_it_carried(tamper: str) -> str:
    """``a callback with a forged signature`` / ``a validly signed callback``."""
    text = _TAMPER_TEXT.get(tamper)
    return f"a callback with {text}" if text else "a validly signed callback"


@dataclass(frozen=True)
class NamedExpectation:
    """One of :data:`EXPECT_NAMES` (see the module docstring)."""

    name: ExpectName

    @property
    def label(self) -> str:
        return self.name

    def judge(
        self, outcome: Outcome, tamper: str = "none", what: str | None = None
    ) -> CallbackVerdict:
        history = outcome.history
        if len(history) != 1:
            return self._judge(history, tamper, what)
        # one request (most deliveries): the verdict depends only on its number and answer,
        # so each distinct one is worked out once (verdicts are immutable: shared)
        only = history[0]
        number, status, error = only.attempt, only.status, only.error
        if type(number) is not int or not (status is None or type(status) is int):
            return self._judge(history, tamper, what)
        key = (self.name, tamper, what, number, status, error)
        verdict = _ONE_REQUEST.get(key)
        if verdict is None:
            verdict = self._judge(history, tamper, what)
            if len(_ONE_REQUEST) >= ONE_REQUEST_KEPT:
                _ONE_REQUEST.clear()
            _ONE_REQUEST[key] = verdict
        return verdict

    def _judge(self, history: Sequence[Attempt], tamper: str, what: str | None) -> CallbackVerdict:
        carried = what or what_it_carried(tamper)
        answers = answers_text(history) or "no request made"
        if self.name == "any":
            return CallbackVerdict(self.name, True, f"any outcome will do ({answers})")
        accepted = next((a for a in history if a.ok), None)
        if self.name == "accepted":
            if accepted is not None:
                return CallbackVerdict(
                    self.name, True, f"acknowledged on attempt {accepted.attempt}"
                )
            return CallbackVerdict(
                self.name,
                False,
                f"expected accepted, never acknowledged: {answers}; {carried} must get a 2xx",
            )
        if self.name == "lost":
            if accepted is None:
                return CallbackVerdict(self.name, True, f"never acknowledged ({answers})")
            return CallbackVerdict(
                self.name,
                False,
                f"expected lost, acknowledged ({answer_text(accepted)} on attempt "
                f"{accepted.attempt})",
            )
        # refused
        if accepted is not None:
            return CallbackVerdict(
                self.name,
                False,
                f"expected refused, accepted ({answer_text(accepted)} on attempt "
                f"{accepted.attempt}): {carried} must never get a 2xx",
            )
        unanswered = next((a for a in history if a.status is None), None)
        if unanswered is not None:
            return CallbackVerdict(
                self.name,
                False,
                f"expected refused, attempt {unanswered.attempt} got no answer "
                f"({answer_text(unanswered)}): a refusal is a prompt non-2xx answer",
            )
        if not history:
            return CallbackVerdict(self.name, False, "expected refused, no request was made")
        return CallbackVerdict(self.name, True, f"refused ({answers})")


ONE_REQUEST_KEPT = 4096  # verdicts on one-request deliveries kept (NamedExpectation.judge)
_ONE_REQUEST: dict[tuple[str, str, str | None, int, int | None, str | None], CallbackVerdict] = {}

NAMED: Mapping[str, NamedExpectation] = {name: NamedExpectation(name) for name in EXPECT_NAMES}


def default_expectation(tamper: str) -> Expectation:
    """``refused`` for a tampered callback, ``any`` for the others."""
    return NAMED[TAMPERED_DEFAULT if tamper != "none" else UNTAMPERED_DEFAULT]


def callback_expectation(expect: object, tamper: str = "none") -> Expectation:
    """The expectation of a scenario entry's ``expect:`` value (None = the default).

    Raises ValueError for a value that names no expectation (the scenario model has
    already refused it with file and line; this is for programmatic use).
    """
    if expect is None:
        return default_expectation(tamper)
    if isinstance(expect, str) and expect in NAMED:
        return NAMED[expect]
    if hasattr(expect, "judge") and hasattr(expect, "label"):
        return expect  # already an Expectation
    raise ValueError(f"unknown expect {expect!r}; expected one of {', '.join(EXPECT_NAMES)}")


__all__ = [
    "EXPECT_NAMES",
    "CallbackVerdict",
    "ExpectName",
    "Expectation",
    "NamedExpectation",
    "answers_text",
    "callback_expectation",
    "default_expectation",
]
