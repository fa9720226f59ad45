"""What each record line kind may hold: one pydantic schema per ``type``, checked on read.

    problem = line_problem(json_line)    # None, or ("intervals[0]", "not a finite number")

A record is the emulator's own output, but it may be hand-edited or damaged: a value of
the wrong type, ``NaN``, ``1e300`` for a time, a lone surrogate in a ``body``. Readers
(``resume``, ``run --replay``, ``report``) check every line here first, so such a line is
one clear error naming its field, never a traceback or a hang later. Keys a line kind does
not know are allowed (a newer version may add some); a key it knows must have its type.
Free-form objects (``plan``, ``decision``, ``load``...) are only checked for non-finite
numbers and lone surrogates.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import AfterValidator, ConfigDict, Field, TypeAdapter, ValidationError, with_config
from typing_extensions import TypedDict

LATEST_TIME = 253_402_300_799.0  # 9999-12-31T23:59:59Z: any later "time" is not one
MAX_SECONDS = 1e9  # emulated seconds an offset, gap or delay can plausibly be
MAX_GAP = 1e7  # a retry interval (the scenario caps them at 86400)
MAX_COUNT = 10**12  # callbacks, attempts...: a count beyond this is not one
MAX_INT = 2**63 - 1


def _time(value: float) -> float:
    if not 0 <= value <= LATEST_TIME:
        raise ValueError("not a finite time (Unix seconds up to the year 9999)")
    return value


def _seconds(value: float) -> float:
    if not -MAX_SECONDS <= value <= MAX_SECONDS:
        raise ValueError(f"not a plausible number of seconds (at most {MAX_SECONDS:g})")
    return value


Time = Annotated[float, AfterValidator(_time)]
Seconds = Annotated[float, AfterValidator(_seconds)]
Count = Annotated[int, Field(ge=0, le=MAX_COUNT)]
Status = Annotated[int, Field(ge=0, le=999)]
Gap = Annotated[float, Field(ge=0, le=MAX_GAP)]
Number = Annotated[float, Field(ge=-1e15, le=1e15)]
FreeForm = dict[str, Any]

_CONFIG = ConfigDict(strict=True, extra="allow", allow_inf_nan=False)


@with_config(_CONFIG)
class RunLine(TypedDict, total=False):
    """A ``run`` line (CONTRACT "Record files"; writer: ``lines.run_line``)."""

    type: str
    run_id: str
    started_at: Time
    scenario: str | None
    target: str | None
    encoding: str | None
    speed: Annotated[float, Field(gt=0, le=1e6)] | None
    version: str | None
    scenario_file: str | None
    virtual: bool | None
    callbacks: Count | None
    intervals: Annotated[list[Gap], Field(max_length=1000)] | None
    timeout: Annotated[float, Field(gt=0, le=86400)] | None
    retry_profile: str | None
    retry_on: str | None
    resign_each_attempt: bool | None
    concurrency: Annotated[int, Field(ge=1, le=10_000_000)] | None
    seed: Annotated[int, Field(ge=-MAX_INT - 1, le=MAX_INT)] | None
    plan: FreeForm | None
    load: FreeForm | None
    swarm: FreeForm | None
    replay_of: list[str] | None
    resigned: bool | None
    builtin_receiver: bool | None


@with_config(_CONFIG)
class RetryLine(TypedDict, total=False):
    """A ``callback`` line's own ``retry`` policy."""

    intervals: Annotated[list[Gap], Field(max_length=1000)] | None
    timeout: Annotated[float, Field(gt=0, le=86400)] | None
    retry_on: str | None
    retry_profile: str | None
    profile: str | None
    resign_each_attempt: bool | None


@with_config(_CONFIG)
class _OfOneCallback(TypedDict, total=False):
    """The keys every line about one callback starts with."""

    type: str
    run_id: str
    callback_id: Annotated[str, Field(min_length=1)]
    event: str
    task_id: str


@with_config(_CONFIG)
class CallbackLine(_OfOneCallback, total=False):
    """A ``callback`` line: the exact body sent (writer: ``lines.callback_line``)."""

    target: str | None
    delay: Annotated[float, Field(ge=0, le=MAX_SECONDS)]
    encoding: str | None
    tamper: str | None
    content_type: str
    body: str
    expect: str | None
    retry: RetryLine | None


@with_config(_CONFIG)
class AttemptLine(_OfOneCallback, total=False):
    """An ``attempt`` line: one request and its answer (writer: ``lines.attempt_text``)."""

    attempt: Annotated[int, Field(ge=1, le=100_000)]
    scheduled_at: Time
    sent_at: Time
    offset_s: Seconds
    gap_s: Seconds | None
    status: Status | None
    error: str | None
    latency_ms: Annotated[float, Field(ge=0, le=1e12)]
    response_excerpt: str
    error_detail: str | None
    decision: FreeForm | None


@with_config(_CONFIG)
class OutcomeLine(_OfOneCallback, total=False):
    """An ``outcome`` line: delivered or lost (writer: ``lines.outcome_text``)."""

    delivered: bool
    lost: bool
    attempts: Annotated[int, Field(ge=0, le=100_000)]
    final_status: Status | None
    expect: str | None
    verdict: str | None
    why: str | None


@with_config(_CONFIG)
class ExpectationItem(TypedDict, total=False):
    """One entry of a summary's ``expectations``."""

    name: str
    expected: Number
    observed: Number | str | None
    ok: bool
    at_most: bool


@with_config(_CONFIG)
class SummaryLine(TypedDict, total=False):
    """A ``summary`` line (writer: ``lines.summary_line``)."""

    type: str
    run_id: str
    callbacks: Count
    delivered: Count
    lost: Count
    attempts: Count
    expectations: Annotated[list[ExpectationItem], Field(max_length=100_000)]
    scenario: str | None
    max_attempts: Count
    pending: Count
    interrupted: bool
    ok: bool
    record: str | None
    verdicts: dict[str, Count]
    failed_callbacks: list[FreeForm]
    resumed: bool
    load: FreeForm | None


@with_config(_CONFIG)
class ResumeLine(TypedDict, total=False):
    """A ``resume`` line: a run picked up again (writer: ``lines.resume_line``)."""

    type: str
    run_id: str
    resumed_at: Time
    pending: Count
    speed: Annotated[float, Field(gt=0, le=1e6)] | None
    target: str | None
    timeout: Annotated[float, Field(gt=0, le=86400)] | None
    resigned: bool
    version: str | None


LINE_KINDS: dict[str, TypeAdapter[Any]] = {
    "run": TypeAdapter(RunLine),
    "callback": TypeAdapter(CallbackLine),
    "attempt": TypeAdapter(AttemptLine),
    "outcome": TypeAdapter(OutcomeLine),
    "summary": TypeAdapter(SummaryLine),
    "resume": TypeAdapter(ResumeLine),
}
REQUIRED: dict[str, tuple[str, ...]] = {
    "callback": ("callback_id", "body", "content_type"),
    "attempt": ("callback_id", "attempt", "sent_at"),
    "outcome": ("callback_id", "delivered"),
}
FREE_FORM = ("plan", "load", "swarm", "decision", "failed_callbacks")


class NonFinite:
    """Where JSON text held ``NaN``/``Infinity`` (a reader's placeholder, found by path)."""

    def __init__(self, name: str) -> None:
        self.name = name


def line_problem(line: Mapping[str, Any]) -> tuple[str, str] | None:
    """The first problem of one parsed record line, as ``(field, what)``; None when it is fine.

    Lines of a kind this version does not know are not checked (a newer version's).
    """
    kind = line.get("type")
    if kind is None:
        return "type", "missing (expected run, callback, attempt, outcome, resume or summary)"
    if not isinstance(kind, str):
        return "type", f"expected text, got {type_name(kind)}"
    adapter = LINE_KINDS.get(kind)
    if adapter is None:
        return None
    for key in REQUIRED.get(kind, ()):
        if key not in line:
            return key, f"missing from the {kind} line"
    try:
        adapter.validate_python(line)
    except ValidationError as exc:
        error = exc.errors(include_url=False)[0]
        return _path(error["loc"]), _message(error)
    for key in FREE_FORM:
        if key in line:
            found = odd_value(line[key], key)
            if found is not None:
                return found
    return None


def odd_value(value: Any, path: str) -> tuple[str, str] | None:
    """The first non-finite number, NaN/Infinity placeholder or lone surrogate in a JSON value."""
    if isinstance(value, str):
        if not value.isascii():
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                return path or "line", "a lone surrogate (\\ud800-\\udfff) is not text"
        return None
    if isinstance(value, float):
        return None if math.isfinite(value) else (path or "line", "not a finite number")
    if isinstance(value, NonFinite):
        return path or "line", f"{value.name} is not a number JSON allows"
    if isinstance(value, dict):
        for key, item in value.items():
            found = odd_value(key, path) or odd_value(item, f"{path}.{key}" if path else str(key))
            if found is not None:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found = odd_value(item, f"{path}[{index}]")
            if found is not None:
                return found
    return None


def _path(loc: tuple[int | str, ...]) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        elif not str(part).startswith(("constrained-", "function-", "nullable")):
            text += f".{part}" if text else str(part)
    return text or "line"


def _message(error: Mapping[str, Any]) -> str:
    message = str(error.get("msg", "invalid"))
    message = message.removeprefix("Value error, ")
    if error.get("type") == "missing":
        return "missing"
    message = message.replace("Input should be", "expected", 1)
    if str(error.get("type", "")).endswith("_type"):
        return f"{message}, got {type_name(error.get('input'))}"
    return message


def type_name(value: object) -> str:
    """How a JSON value's type reads in a message: ``text``, ``a number``, ``a list``..."""
    names = {bool: "true/false", int: "a number", float: "a number", str: "text"}
    if value is None:
        return "null"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    return names.get(type(value), type(value).__name__)
