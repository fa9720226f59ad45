"""What a delivery produces: one Attempt per request, one Outcome per callback.

Their ``to_record()`` dicts are exactly the ``attempt`` and ``outcome`` lines of
CONTRACT.md's record format.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from json.encoder import encode_basestring as _json_string
from typing import Any, Literal, get_args

from emulator.jsontext import compact_encoder

AttemptError = Literal[
    "timeout", "connection_refused", "connection_reset", "dns", "tls", "protocol", "too_large"
]
ATTEMPT_ERRORS: tuple[AttemptError, ...] = get_args(AttemptError)

_record_text = compact_encoder()
# The record lines as templates (~2x faster than building and encoding the dicts; tests
# prove each line parses to ``to_record()``). Times are written by "%.6f", which rounds as
# round(x, 6) does (both correctly rounded) without round()'s float -> text -> float trip.
_ATTEMPT_LINE = (
    '{"type":"attempt","run_id":%s,"callback_id":%s,"event":%s,"task_id":%s,"attempt":%d,'
    '"scheduled_at":%.6f,"sent_at":%.6f,"offset_s":%.6f,"gap_s":%s,"status":%s,"error":%s,'
    '"latency_ms":%.3f,"response_excerpt":%s}'
)
_OUTCOME_LINE = (
    '{"type":"outcome","run_id":%s,"callback_id":%s,"event":%s,"task_id":%s,'
    '"delivered":%s,"lost":%s,"attempts":%d,"final_status":%s}'
)


@dataclass
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

    @property
    def ok(self) -> bool:
        """True when the receiver accepted (2xx, and no error reading the answer)."""
        return self.error is None and self.status is not None and 200 <= self.status <= 299

    def to_record(self) -> dict[str, Any]:
        return {
            "type": "attempt",
            "run_id": self.run_id,
            "callback_id": self.callback_id,
            "event": self.event,
            "task_id": self.task_id,
            "attempt": self.attempt,
            "scheduled_at": round(self.scheduled_at, 6),
            "sent_at": round(self.sent_at, 6),
            "offset_s": round(self.offset_s, 6),
            "gap_s": None if self.gap_s is None else round(self.gap_s, 6),
            "status": self.status,
            "error": self.error,
            "latency_ms": round(self.latency_ms, 3),
            "response_excerpt": self.response_excerpt,
        }

    def record_line(self) -> str:
        """``to_record()`` as compact JSON text, formatted directly (one line a request is the
        hot path); its values and types are those of ``to_record()``."""
        gap, status, error = self.gap_s, self.status, self.error
        if not self._fits_template():
            return _record_text(self.to_record())
        return _ATTEMPT_LINE % (
            _json_string(self.run_id),
            _json_string(self.callback_id),
            _json_string(self.event),
            _json_string(self.task_id),
            self.attempt,
            self.scheduled_at,
            self.sent_at,
            self.offset_s,
            "null" if gap is None else f"{gap:.6f}",
            "null" if status is None else f"{status:d}",
            "null" if error is None else _json_string(error),
            self.latency_ms,
            _json_string(self.response_excerpt),
        )

    def _fits_template(self) -> bool:
        """True when every number has the type its template slot writes: "%.6f" has no
        text for inf or nan and would write an int time as a float, "%d" a float as an int."""
        scheduled, sent, offset, latency, gap = (
            self.scheduled_at,
            self.sent_at,
            self.offset_s,
            self.latency_ms,
            self.gap_s,
        )
        return (
            type(scheduled) is float
            and type(sent) is float
            and type(offset) is float
            and type(latency) is float
            and (gap is None or type(gap) is float)
            and math.isfinite(scheduled + sent + offset + latency + (gap or 0.0))
            and type(self.attempt) is int
            and (self.status is None or type(self.status) is int)
        )


@dataclass
class Outcome:
    """The fate of one callback: delivered on some attempt, or lost after the last."""

    callback_id: str
    event: str
    task_id: str
    delivered: bool
    history: list[Attempt] = field(default_factory=list)
    run_id: str = ""

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

    def to_record(self) -> dict[str, Any]:
        return {
            "type": "outcome",
            "run_id": self.run_id,
            "callback_id": self.callback_id,
            "event": self.event,
            "task_id": self.task_id,
            "delivered": self.delivered,
            "lost": self.lost,
            "attempts": self.attempts,
            "final_status": self.final_status,
        }

    def record_line(self) -> str:
        """``to_record()`` as compact JSON text, formatted directly (one line a callback);
        its values and types are those of ``to_record()``."""
        delivered, final_status = self.delivered, self.final_status
        if type(delivered) is not bool or not (final_status is None or type(final_status) is int):
            return _record_text(self.to_record())
        return _OUTCOME_LINE % (
            _json_string(self.run_id),
            _json_string(self.callback_id),
            _json_string(self.event),
            _json_string(self.task_id),
            "true" if delivered else "false",
            "false" if delivered else "true",
            len(self.history),
            "null" if final_status is None else f"{final_status:d}",
        )
