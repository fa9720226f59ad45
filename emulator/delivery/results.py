"""What a delivery produces: one Attempt per request, one Outcome per callback.

Their record lines (``attempt``, ``outcome``) are written by :mod:`emulator.record.lines`;
a synchronous hook's attempt adds the ``decision`` its answer made (see :data:`AnswerReader`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, get_args

if TYPE_CHECKING:
    from emulator.delivery.verdict import CallbackVerdict

AttemptError = Literal[
    "timeout", "connection_refused", "connection_reset", "dns", "tls", "protocol", "too_large"
]
ATTEMPT_ERRORS: tuple[AttemptError, ...] = get_args(AttemptError)
# a synchronous hook's answer reader: (status, error, response body) -> the ``decision``
# object its attempt line carries (ZIM's before_send_msg, see emulator.events.zim.hook_answer)
AnswerReader = Callable[[int | None, str | None, bytes], dict[str, Any]]


@dataclass(slots=True)
class Attempt:
    """One HTTP request of one callback, and what came back."""

    callback_id: str
    event: str
    task_id: str
    attempt: int  # 1 = first request, 2..6 = retries
    scheduled_at: float  # Unix time the schedule asked for
    sent_at: float  # Unix time the request started
    offset_s: float  # emulated seconds since this callback's first request
    gap_s: float | None  # emulated seconds since the previous request (None on the first)
    status: int | None
    error: AttemptError | None
    latency_ms: float
    response_excerpt: str
    run_id: str = ""
    decision: dict[str, Any] | None = None  # what a hook's answer decided (hooks only)
    error_detail: str | None = None  # why ``error`` happened, in words (None: no error)

    @property
    def ok(self) -> bool:
        """True when the receiver accepted (2xx, and no error reading the answer)."""
        return self.error is None and self.status is not None and 200 <= self.status <= 299


@dataclass(slots=True)
class Outcome:
    """The fate of one callback: delivered on some attempt, or lost after the last."""

    callback_id: str
    event: str
    task_id: str
    delivered: bool
    history: list[Attempt] = field(default_factory=list)
    run_id: str = ""
    verdict: CallbackVerdict | None = None  # the per-callback expectation's judgement

    @property
    def lost(self) -> bool:
        return not self.delivered

    @property
    def attempts(self) -> int:
        """How many requests were made (1..6)."""
        return len(self.history)

    @property
    def final_status(self) -> int | None:
        return self.history[-1].status if self.history else None
