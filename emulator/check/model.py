"""What the conformance suite is made of: cases, the probes they send, and their verdicts.

A :class:`Case` has a stable ``id``, a ``title``, ``why`` it matters, a ``hint`` (what a
failure usually means in a receiver's code) and a builder of :class:`Probe` chains: the
callbacks it sends, in order, each with what the receiver should do with it
(``accepted`` or ``refused``). Running a case gives a :class:`CaseResult`: ``pass``,
``fail`` or ``warn`` and the evidence — every request, its answer and its latency.

Verdict of a case: ``fail`` when a probe's expectation broke (a refusal of a valid
callback, a timeout, a 2xx to a forged one); else ``warn`` when an answer took longer
than :data:`SLOW_MS` or a refusal was a 5xx (a crash is not a refusal); else ``pass``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from emulator.callback.model import Callback
from emulator.delivery.results import Outcome
from emulator.delivery.verdict import NAMED, CallbackVerdict, Expectation, ExpectName
from emulator.retry import RetryPolicy
from emulator.wire import decode

if TYPE_CHECKING:
    from emulator.check.context import CaseContext

CaseVerdict = Literal["pass", "fail", "warn"]
SLOW_MS = 1000.0  # an answer slower than this is a warning (ZEGO's timeout is not far off)
VERDICT_ORDER: dict[CaseVerdict, int] = {"pass": 0, "warn": 1, "fail": 2}


@dataclass(frozen=True)
class Probe:
    """One callback a case sends, and what the receiver should do with it.

    ``delay`` is emulated seconds after the previous probe of its chain finished (a
    retry gap; virtual time, so it costs nothing). ``expect`` is a name, or an expectation
    object (a hook's decision, :mod:`emulator.delivery.hook`); ``policy`` the probe's own
    (a hook's deadline), else the suite's one request with ``--timeout``.
    """

    callback: Callback
    expect: ExpectName | Expectation
    note: str
    delay: float = 0.0
    policy: RetryPolicy | None = None

    @property
    def expect_label(self) -> str:
        """How records and reports name the expectation (``refused``, ``answer=decision``)."""
        return self.expect if isinstance(self.expect, str) else self.expect.label


Chain = list[Probe]


@dataclass(frozen=True)
class Case:
    """A named conformance check (see the module docstring)."""

    id: str
    title: str
    why: str
    hint: str
    probes: Callable[[CaseContext], Sequence[Chain]]
    family: str = ""


@dataclass
class ProbeResult:
    """One probe as it went: the request, every answer, and its verdict."""

    probe: Probe
    outcome: Outcome
    verdict: CallbackVerdict

    @property
    def slowest_ms(self) -> float:
        return max((attempt.latency_ms for attempt in self.outcome.history), default=0.0)

    def to_json(self) -> dict[str, Any]:
        """The evidence of this probe: request, answers (status, error, latency), verdict."""
        callback = self.probe.callback
        content_type, body = callback.body()
        return {
            "callback_id": callback.callback_id,
            "note": self.probe.note,
            "expect": self.probe.expect_label,
            "ok": self.verdict.ok,
            "reason": self.verdict.reason,
            "request": {
                "event": callback.event,
                "encoding": callback.encoding,
                "content_type": content_type,
                "fields": decode(body, content_type),
            },
            "answers": [
                {
                    "attempt": attempt.attempt,
                    "offset_s": round(attempt.offset_s, 3),
                    "status": attempt.status,
                    "error": attempt.error,
                    "latency_ms": round(attempt.latency_ms, 3),
                    "response_excerpt": attempt.response_excerpt,
                }
                for attempt in self.outcome.history
            ],
        }


@dataclass
class CaseResult:
    """A case's verdict, the one line that explains it, and the evidence."""

    case: Case
    verdict: CaseVerdict
    reason: str
    probes: list[ProbeResult] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return self.verdict == "fail"

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.case.id,
            "title": self.case.title,
            "verdict": self.verdict,
            "why": self.case.why,
            "reason": self.reason,
            "hint": self.case.hint,
            "evidence": [probe.to_json() for probe in self.probes],
        }


@dataclass
class CheckResult:
    """Every case run against one target."""

    target: str
    cases: list[CaseResult]

    @property
    def passed(self) -> bool:
        """True when no case failed (warnings do not fail the suite)."""
        return not self.failed

    @property
    def failed(self) -> list[CaseResult]:
        return [result for result in self.cases if result.verdict == "fail"]

    @property
    def warned(self) -> list[CaseResult]:
        return [result for result in self.cases if result.verdict == "warn"]

    def counts(self) -> dict[CaseVerdict, int]:
        totals: dict[CaseVerdict, int] = {"pass": 0, "warn": 0, "fail": 0}
        for result in self.cases:
            totals[result.verdict] += 1
        return totals

    def to_json(self) -> dict[str, Any]:
        """``{"cases": [...], "passed": bool}`` (CONTRACT.md), plus the target and counts."""
        return {
            "target": self.target,
            "cases": [result.to_json() for result in self.cases],
            "counts": self.counts(),
            "passed": self.passed,
        }

    @property
    def failed_ids(self) -> list[str]:
        """The ids of the failed cases, in suite order."""
        return [result.case.id for result in self.failed]

    def describe_failures(self) -> str:
        """What an assertion message shows: per failed case ``id: reason`` and, indented,
        what that failure usually means in code."""
        return "\n".join(
            f"{result.case.id}: {result.reason}\n    usually: {result.case.hint}"
            for result in self.failed
        )

    def assert_passed(self) -> None:
        """Raise AssertionError listing every failed case (see :meth:`describe_failures`)."""
        if self.failed:
            count = len(self.failed)
            raise AssertionError(
                f"{count} of {len(self.cases)} conformance case{'s' if count != 1 else ''} "
                f"failed against {self.target}:\n{self.describe_failures()}"
            )


def judge_probe(probe: Probe, outcome: Outcome) -> ProbeResult:
    """A probe's verdict from its delivery's outcome."""
    expectation = NAMED[probe.expect] if isinstance(probe.expect, str) else probe.expect
    verdict = expectation.judge(outcome, probe.callback.tamper, what="this callback")
    return ProbeResult(probe, outcome, verdict)


def judge_case(case: Case, probes: list[ProbeResult]) -> CaseResult:
    """The case's verdict from its probes (see the module docstring)."""
    broken = next((result for result in probes if not result.verdict.ok), None)
    if broken is not None:
        return CaseResult(case, "fail", f"{broken.probe.note}: {broken.verdict.reason}", probes)
    slow = max(probes, key=lambda result: result.slowest_ms, default=None)
    if slow is not None and slow.slowest_ms > SLOW_MS:
        return CaseResult(
            case,
            "warn",
            f"{slow.probe.note}: answered after {slow.slowest_ms:.0f} ms (more than "
            f"{SLOW_MS:.0f} ms; ZEGO gives up at its timeout and retries)",
            probes,
        )
    crashed = next(
        (
            result
            for result in probes
            if result.probe.expect == "refused"
            and any((a.status or 0) >= 500 for a in result.outcome.history)
        ),
        None,
    )
    if crashed is not None:
        return CaseResult(
            case,
            "warn",
            f"{crashed.probe.note}: refused, but with {crashed.outcome.final_status} — a "
            "server error, not a refusal (verify before parsing; answer 401)",
            probes,
        )
    if not probes:
        return CaseResult(case, "pass", "nothing to send", probes)
    slowest = max(result.slowest_ms for result in probes)
    return CaseResult(case, "pass", f"as expected (slowest answer {slowest:.0f} ms)", probes)
