"""The record format (CONTRACT.md, README "Record"): the one module that writes each line.

    run_line(...)        first: what the run is (scenario, target, policy, planned size...)
    callback_line(...)   before a callback's first request: the exact body text sent
    attempt_text(a)      after each request (the hot path: formatted from a template)
    outcome_text(o)      when a callback is delivered or lost
    resume_line(...)     when ``resume`` picks a run up again
    summary_line(...)    last, also after Ctrl-C

Every line carries the ``run_id``; no line ever holds a secret (a body carries only its
signature). The ``*_KEYS`` tuples are the documented keys of each line, in order.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from json.encoder import encode_basestring as _json_string
from typing import TYPE_CHECKING, Any

from emulator._version import __version__
from emulator.jsontext import record_encoder
from emulator.redact import without_password

if TYPE_CHECKING:
    from emulator.callback.model import Callback
    from emulator.clock import Clock
    from emulator.delivery.results import Attempt, Outcome
    from emulator.delivery.verdict import CallbackVerdict
    from emulator.retry import RetryPolicy

RUN_KEYS = (
    "type", "run_id", "started_at", "scenario", "target", "encoding", "speed", "version",
    "scenario_file", "virtual", "callbacks", "intervals", "timeout", "retry_profile", "retry_on",
    "resign_each_attempt", "concurrency", "seed",
)  # fmt: skip
# "expect" when the delivery has a per-callback expectation (run, load, check)
CALLBACK_KEYS = (
    "type", "run_id", "callback_id", "event", "task_id", "target", "delay", "encoding",
    "tamper", "content_type", "body", "expect",
)  # fmt: skip
ATTEMPT_KEYS = (
    "type",
    "run_id",
    "callback_id",
    "event",
    "task_id",
    "attempt",
    "scheduled_at",
    "sent_at",
    "offset_s",
    "gap_s",
    "status",
    "error",
    "latency_ms",
    "response_excerpt",
    "error_detail",
)  # fmt: skip; a hook's attempt adds "decision"
# the last three when the delivery was judged by its expect:
OUTCOME_KEYS = (
    "type", "run_id", "callback_id", "event", "task_id", "delivered", "lost", "attempts",
    "final_status", "expect", "verdict", "why",
)  # fmt: skip
SUMMARY_KEYS = (
    "type", "run_id", "callbacks", "delivered", "lost", "attempts", "expectations", "scenario",
    "max_attempts", "pending", "interrupted", "ok", "record", "verdicts", "failed_callbacks",
)  # fmt: skip
# keys a line carries only when they apply (after the keys above)
OPTIONAL_KEYS: dict[str, tuple[str, ...]] = {
    "run": ("plan", "load", "replay_of", "resigned"),
    "callback": ("retry", "expect"),
    "attempt": ("decision",),
    "outcome": ("expect", "verdict", "why"),
    "summary": ("resumed", "load", "verdicts", "failed_callbacks"),
}
RESUME_KEYS = (
    "type", "run_id", "resumed_at", "pending", "speed", "target", "timeout", "resigned",
    "version",
)  # fmt: skip

_record_text = record_encoder()
# The attempt and outcome lines as templates (~2x faster than building and encoding the
# dicts; tests prove each line parses to the dict). Times are written by "%.6f", which
# rounds as round(x, 6) does (both correctly rounded) without round()'s float -> text ->
# float trip.
_ATTEMPT_LINE = (
    '{"type":"attempt",%s,"attempt":%d,"scheduled_at":%.6f,"sent_at":%.6f,"offset_s":%s,'
    '"gap_s":%s,"status":%s,"error":%s,"latency_ms":%.3f,"response_excerpt":%s,'
    '"error_detail":%s}'
)
_OUTCOME_LINE = '{"type":"outcome",%s,"delivered":%s,"lost":%s,"attempts":%d,"final_status":%s%s}'
_IDENTITY_KEYS = '"run_id":%s,"callback_id":%s,"event":%s,"task_id":%s'
_VERDICT_KEYS = ',"expect":%s,"verdict":%s,"why":%s'  # an outcome judged by its expect:


def clock_speed(clock: Clock) -> float | None:
    """A clock's speed as the record writes it: None for virtual time."""
    return None if clock.speed == float("inf") else clock.speed


def run_line(
    *,
    run_id: str,
    scenario: str,
    target: str | None,
    encoding: str | None,
    clock: Clock,
    policy: RetryPolicy,
    callbacks: int | None,
    concurrency: int,
    seed: int | None = None,
    scenario_file: str | None = None,
    started_at: float | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """The ``run`` line: what this run is about to do (``extra``: mode-specific keys)."""
    speed = clock_speed(clock)
    line: dict[str, Any] = {
        "type": "run",
        "run_id": run_id,
        "started_at": round(time.time() if started_at is None else started_at, 6),
        "scenario": scenario,
        "target": None if target is None else without_password(target),
        "encoding": encoding,
        "speed": speed,
        "version": __version__,
        "scenario_file": scenario_file,
        "virtual": speed is None,
        "callbacks": callbacks,
        "intervals": list(policy.intervals),
        "timeout": policy.timeout,
        "retry_profile": policy.profile,
        "retry_on": policy.retry_on,
        "resign_each_attempt": policy.resign_each_attempt,
        "concurrency": concurrency,
        "seed": seed,
    }
    line.update(extra)
    return line


def callback_line(
    callback: Callback,
    target: str,
    delay: float,
    run_id: str,
    retry: Mapping[str, Any] | None = None,
    expect: str | None = None,
) -> dict[str, Any]:
    """The ``callback`` line: enough to re-send the exact bytes later (and ``retry``, the
    callback's own retry policy when it is not the run's; ``expect``, its per-callback
    expectation's label, when it has one)."""
    content_type, body = callback.body()
    line: dict[str, Any] = {
        "type": "callback",
        "run_id": run_id,
        "callback_id": callback.callback_id,
        "event": callback.event,
        "task_id": callback.task_id,
        "target": without_password(target),
        "delay": delay,
        "encoding": callback.encoding,
        "tamper": callback.tamper,
        "content_type": content_type,
        "body": body.decode("utf-8"),
    }
    if retry is not None:
        line["retry"] = dict(retry)
    if expect is not None:
        line["expect"] = expect
    return line


_CALLBACK_LINE = (
    '{"type":"callback","run_id":%s,"callback_id":%s,"event":%s,"task_id":%s,"target":%s,'
    '"delay":%s,"encoding":%s,"tamper":%s,"content_type":%s,"body":%s%s%s}'
)


def callback_text(
    callback: Callback,
    target: str,
    delay: float,
    run_id: str,
    retry: Mapping[str, Any] | None = None,
    expect: str | None = None,
) -> str | None:
    """:func:`callback_line` as compact JSON text, formatted directly: the body is escaped
    into the line once, with no dict built and re-encoded (only ``retry``, a small dict, is
    encoded on its own). None for a delay JSON cannot write as it stands (inf, nan, not a
    number)."""
    if type(delay) not in (int, float) or not math.isfinite(delay):
        return None
    content_type = callback.body()[0]
    return _CALLBACK_LINE % (
        _json_string(run_id),
        _json_string(callback.callback_id),
        _json_string(callback.event),
        _json_string(callback.task_id),
        _json_string(without_password(target)),
        repr(delay),
        _json_string(callback.encoding),
        _json_string(callback.tamper),
        _json_string(content_type),
        callback.body_literal(),
        "" if retry is None else ',"retry":' + _record_text(dict(retry)),
        "" if expect is None else ',"expect":' + _json_string(expect),
    )


def attempt_record(attempt: Attempt) -> dict[str, Any]:
    """The ``attempt`` line as a dict."""
    return {
        "type": "attempt",
        "run_id": attempt.run_id,
        "callback_id": attempt.callback_id,
        "event": attempt.event,
        "task_id": attempt.task_id,
        "attempt": attempt.attempt,
        "scheduled_at": round(attempt.scheduled_at, 6),
        "sent_at": round(attempt.sent_at, 6),
        "offset_s": round(attempt.offset_s, 6),
        "gap_s": None if attempt.gap_s is None else round(attempt.gap_s, 6),
        "status": attempt.status,
        "error": attempt.error,
        "latency_ms": round(attempt.latency_ms, 3),
        "response_excerpt": attempt.response_excerpt,
        "error_detail": attempt.error_detail,
        **({} if attempt.decision is None else {"decision": attempt.decision}),
    }


def attempt_text(attempt: Attempt) -> str:
    """:func:`attempt_record` as compact JSON text, formatted directly (one line a request
    is the hot path); its values and types are those of :func:`attempt_record`."""
    scheduled, sent, offset, latency, gap = (
        attempt.scheduled_at,
        attempt.sent_at,
        attempt.offset_s,
        attempt.latency_ms,
        attempt.gap_s,
    )
    number, status, error, detail = (
        attempt.attempt,
        attempt.status,
        attempt.error,
        attempt.error_detail,
    )
    # every number must have the type its template slot writes: "%.6f" has no text for inf
    # or nan and would write an int time as a float, "%d" a float as an int
    if not (
        type(scheduled) is float
        and type(sent) is float
        and type(offset) is float
        and type(latency) is float
        and (gap is None or type(gap) is float)
        and _isfinite(scheduled + sent + offset + latency + (gap or 0.0))
        and type(number) is int
        and (status is None or type(status) is int)
        and attempt.decision is None
    ):
        return _record_text(attempt_record(attempt))
    return _ATTEMPT_LINE % (
        _identity.text(attempt.run_id, attempt.callback_id, attempt.event, attempt.task_id),
        number,
        scheduled,
        sent,
        # a first request's offset is 0.0 (+0.0: x - x is never -0.0)
        _ZERO if offset == 0.0 and _copysign(1.0, offset) > 0 else f"{offset:.6f}",
        "null" if gap is None else f"{gap:.6f}",
        "null" if status is None else str(status),
        "null" if error is None else _json_string(error),
        latency,
        _json_string(attempt.response_excerpt),
        "null" if detail is None else _json_string(detail),
    )


_ZERO = f"{0.0:.6f}"
_isfinite = math.isfinite
_copysign = math.copysign


class _IdentityText:
    """The four keys that start every attempt and outcome line (``run_id``,
    ``callback_id``, ``event``, ``task_id``) as JSON text, escaped once per callback: the
    text of the last callback is kept, and a callback's outcome line comes right after its
    final attempt's. Kept only for the very same strings (``is``: an equal-looking id never
    gets another's text), all in one tuple swapped at once."""

    __slots__ = ("last",)

    def __init__(self) -> None:
        self.last = ("", "", "", "", _IDENTITY_KEYS % ('""', '""', '""', '""'))

    def text(self, run_id: str, callback_id: str, event: str, task_id: str) -> str:
        last = self.last
        if callback_id is last[1] and task_id is last[3] and run_id is last[0] and event is last[2]:
            return last[4]
        value = _IDENTITY_KEYS % (
            _json_string(run_id),
            _json_string(callback_id),
            _json_string(event),
            _json_string(task_id),
        )
        self.last = (run_id, callback_id, event, task_id, value)
        return value


_identity = _IdentityText()


def outcome_record(outcome: Outcome) -> dict[str, Any]:
    """The ``outcome`` line as a dict."""
    return {
        "type": "outcome",
        "run_id": outcome.run_id,
        "callback_id": outcome.callback_id,
        "event": outcome.event,
        "task_id": outcome.task_id,
        "delivered": outcome.delivered,
        "lost": outcome.lost,
        "attempts": outcome.attempts,
        "final_status": outcome.final_status,
        **(outcome.verdict.to_record() if outcome.verdict is not None else {}),
    }


def outcome_text(outcome: Outcome) -> str:
    """:func:`outcome_record` as compact JSON text, formatted directly (one line a callback)."""
    delivered, history = outcome.delivered, outcome.history
    final_status = history[-1].status if history else None
    if type(delivered) is not bool or not (final_status is None or type(final_status) is int):
        return _record_text(outcome_record(outcome))
    judged = outcome.verdict
    return _OUTCOME_LINE % (
        _identity.text(outcome.run_id, outcome.callback_id, outcome.event, outcome.task_id),
        "true" if delivered else "false",
        "false" if delivered else "true",
        len(history),
        "null" if final_status is None else str(final_status),
        "" if judged is None else _verdict_keys(judged),
    )


_VERDICT_TEXTS: dict[tuple[str, bool, str], str] = {}  # see _verdict_keys
_VERDICT_TEXTS_MAX = 4096


def _verdict_keys(judged: CallbackVerdict) -> str:
    """The outcome line's ``expect``/``verdict``/``why`` of a verdict (the few distinct
    verdicts of a run are escaped once each)."""
    key = (judged.expect, judged.ok, judged.reason)
    text = _VERDICT_TEXTS.get(key)
    if text is None:
        text = _VERDICT_KEYS % (
            _json_string(judged.expect),
            _json_string(judged.verdict),
            _json_string(judged.reason),
        )
        if len(_VERDICT_TEXTS) >= _VERDICT_TEXTS_MAX:
            _VERDICT_TEXTS.clear()
        _VERDICT_TEXTS[key] = text
    return text


def resume_line(
    *,
    run_id: str,
    pending: int,
    clock: Clock,
    target: str | None,
    policy: RetryPolicy,
    resigned: bool,
    resumed_at: float | None = None,
) -> dict[str, Any]:
    """The ``resume`` line: a run picked up again from its record."""
    return {
        "type": "resume",
        "run_id": run_id,
        "resumed_at": round(time.time() if resumed_at is None else resumed_at, 6),
        "pending": pending,
        "speed": clock_speed(clock),
        "target": None if target is None else without_password(target),
        "timeout": policy.timeout,
        "resigned": resigned,
        "version": __version__,
    }


def summary_line(
    *,
    run_id: str,
    scenario: str | None,
    callbacks: int,
    delivered: int,
    lost: int,
    attempts: int,
    max_attempts: int,
    pending: int,
    expectations: Sequence[dict[str, Any]],
    interrupted: bool,
    record: str | None,
    **extra: Any,
) -> dict[str, Any]:
    """The ``summary`` line. ``ok`` only when the run finished (not interrupted, nothing
    pending), every expectation held and no per-callback verdict (``verdicts`` in
    ``extra``) failed."""
    line: dict[str, Any] = {
        "type": "summary",
        "run_id": run_id,
        "callbacks": callbacks,
        "delivered": delivered,
        "lost": lost,
        "attempts": attempts,
        "expectations": list(expectations),
        "scenario": scenario,
        "max_attempts": max_attempts,
        "pending": pending,
        "interrupted": interrupted,
        "ok": not interrupted and pending == 0 and all(e.get("ok") for e in expectations),
        "record": record,
    }
    line.update(extra)
    if extra.get("verdicts", {}).get("fail"):
        line["ok"] = False
    return line
