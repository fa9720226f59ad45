"""Resuming an interrupted run from its record: pending schedules carry on where they stood.

    zego-emulator resume runs/20240501T120000Z-retry.jsonl

A run killed mid-schedule (SIGKILL, a crash, a closed laptop) leaves a record whose
``callback`` lines hold each callback's exact body and whose ``attempt`` lines say how far
its schedule got. For every callback without an ``outcome`` line, resume sends its next
attempt when it falls due — the last request's ``sent_at`` plus the policy's gap after it,
at the run's ``speed`` (``run`` line), counted against the wall clock now; overdue attempts
go at once — and carries the schedule on from there (same attempt numbers, offsets and
gaps). A callback that had not sent its first request yet waits out what is left of its
``delay``. A callback whose last recorded attempt succeeded, or that used up its retries,
only gets its missing ``outcome`` line.

Everything is appended to the same record under the same ``run_id``: a ``resume`` line,
the new ``attempt``/``outcome`` lines, and a fresh ``summary`` for the whole run (the
expectations come from the run's last summary, else from its scenario file when it can
still be read). A virtual-time run (``speed: null``) resumes in virtual time, its "now"
being the last request it recorded.

A callback's duplicate deliveries (``duplicates: N``) follow it in turn, as in the run:
their ``callback`` lines are recorded when the first of them starts, so even those a kill
kept from starting are resumed.

A run that re-signed each attempt (``retry.resign_each_attempt``) is resumed the same
way: each retry gets a fresh timestamp, nonce and signature, with the secret that signed
the recorded bodies (``--secret``, ``$ZEGO_CALLBACK_SECRET`` or the development secret,
checked against them). Every other run's recorded bytes are re-sent as they are.
"""

from __future__ import annotations

import asyncio
import json
import os
import ssl
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from emulator._version import __version__
from emulator.callback.model import Callback
from emulator.clock import Clock, make_clock
from emulator.delivery.dispatch import (
    Delivery,
    Dispatcher,
    DispatchListener,
    Resumed,
    delivery_chains,
    ssl_context,
)
from emulator.delivery.results import Attempt, Outcome
from emulator.errors import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    DecodeError,
    EmulatorError,
    UsageError,
)
from emulator.record.reader import read_record
from emulator.record.writer import Recorder
from emulator.retry import DEFAULT_TIMEOUT, ZEGO_INTERVALS, RetryPolicy
from emulator.run.expect import EXPECTATION_NAMES, ExpectationResult, Observed
from emulator.run.interrupt import stop_on_sigint, until_done_or_stopped
from emulator.run.replay import resign_callback
from emulator.settings import CALLBACK_SECRET_ENV, DEV_CALLBACK_SECRET
from emulator.signing import verify_fields
from emulator.wire import WireFields, decode

DEFAULT_CONCURRENCY = 100


@dataclass
class ResumeOptions:
    """Flags of ``resume``; ``None`` = what the record's ``run`` line says."""

    target: str | None = None  # send here instead of each callback's recorded target
    speed: float | None = None
    virtual: bool = False
    timeout: float | None = None  # per request, real seconds
    concurrency: int | None = None
    json: bool = False
    ca_bundle: str | None = None
    insecure: bool = False
    secret: str | None = None  # --secret: only for a run that re-signed each attempt
    clock: Clock | None = None  # a clock to use instead of the one speed/virtual describe


@dataclass
class RunState:
    """One run of a record as the record left it."""

    run_id: str
    run: dict[str, Any] = field(default_factory=dict)
    callbacks: dict[str, dict[str, Any]] = field(default_factory=dict)  # callback lines
    attempts: dict[str, dict[int, Attempt]] = field(default_factory=dict)  # by number
    outcomes: dict[str, dict[str, Any]] = field(default_factory=dict)  # outcome lines
    summaries: list[dict[str, Any]] = field(default_factory=list)

    @property
    def pending(self) -> list[str]:
        """Callback ids with a ``callback`` line and no ``outcome`` line, in record order."""
        return [cid for cid in self.callbacks if cid not in self.outcomes]

    @property
    def planned(self) -> int:
        """Deliveries the run planned (its ``run`` line), else the callbacks it recorded."""
        count = self.run.get("callbacks")
        return count if isinstance(count, int) else len(self.callbacks)

    @property
    def needs_resume(self) -> bool:
        """Pending callbacks, or no final summary (none, or an interrupted one) yet."""
        if self.pending:
            return True
        last = self.summaries[-1] if self.summaries else None
        return last is None or bool(last.get("interrupted"))

    @property
    def speed(self) -> float | None:
        """The run's speed; None for a virtual-time run."""
        speed = self.run.get("speed")
        return float(speed) if isinstance(speed, int | float) and speed > 0 else None

    def history(self, callback_id: str) -> list[Attempt]:
        """The attempts recorded for a callback, in attempt order."""
        by_number = self.attempts.get(callback_id, {})
        return [by_number[number] for number in sorted(by_number)]

    def frontier(self) -> float:
        """The latest instant the record reached (virtual runs resume from it)."""
        times = [float(self.run.get("started_at") or 0.0)]
        times += [a.sent_at for by_number in self.attempts.values() for a in by_number.values()]
        return max(times)


def read_runs(path: str | Path) -> list[RunState]:
    """The runs of a record file, in the order their lines first appear."""
    record = Path(path)
    if not record.is_file():
        raise UsageError(f"record {record} does not exist or is not a file")
    try:
        lines = read_record(record)
    except OSError as exc:
        raise UsageError(f"cannot read record {record}: {exc.strerror or exc}") from exc
    runs = runs_from_lines(lines)
    if not any(run.run for run in runs):
        raise UsageError(f"{record} has no run line: expected a zego-emulator record (JSONL)")
    return [run for run in runs if run.run]


def runs_from_lines(lines: Sequence[Mapping[str, Any]]) -> list[RunState]:
    """Group record lines by ``run_id`` into :class:`RunState` objects."""
    runs: dict[str, RunState] = {}
    for line in lines:
        run_id = str(line.get("run_id") or "")
        state = runs.setdefault(run_id, RunState(run_id))
        kind = line.get("type")
        callback_id = str(line.get("callback_id") or "")
        if kind == "run":
            state.run = dict(line)
        elif kind == "callback" and callback_id:
            state.callbacks.setdefault(callback_id, dict(line))
        elif kind == "attempt" and callback_id:
            attempt = attempt_from_line(line)
            if attempt is not None:
                state.attempts.setdefault(callback_id, {}).setdefault(attempt.attempt, attempt)
        elif kind == "outcome" and callback_id:
            state.outcomes[callback_id] = dict(line)
        elif kind == "summary":
            state.summaries.append(dict(line))
    return list(runs.values())


def attempt_from_line(line: Mapping[str, Any]) -> Attempt | None:
    """An :class:`Attempt` back from its record line (None when the line is unusable)."""
    try:
        number = int(line["attempt"])
        sent_at = float(line["sent_at"])
    except (KeyError, TypeError, ValueError):
        return None
    if number < 1:
        return None
    status = line.get("status")
    gap = line.get("gap_s")
    return Attempt(
        callback_id=str(line.get("callback_id")),
        event=str(line.get("event") or ""),
        task_id=str(line.get("task_id") or ""),
        attempt=number,
        scheduled_at=float(line.get("scheduled_at") or sent_at),
        sent_at=sent_at,
        offset_s=float(line.get("offset_s") or 0.0),
        gap_s=float(gap) if isinstance(gap, int | float) else None,
        status=status if isinstance(status, int) else None,
        error=line.get("error"),
        latency_ms=float(line.get("latency_ms") or 0.0),
        response_excerpt=str(line.get("response_excerpt") or ""),
        run_id=str(line.get("run_id") or ""),
    )


def callback_from_line(line: Mapping[str, Any], record: str) -> Callback:
    """The exact callback a ``callback`` line describes (the recorded bytes, not re-signed)."""
    callback_id = str(line.get("callback_id"))
    body = line.get("body")
    content_type = line.get("content_type")
    if not isinstance(body, str) or not isinstance(content_type, str):
        raise UsageError(f"{record}: callback {callback_id}: no body to re-send in its line")
    raw = body.encode("utf-8")
    try:
        fields = decode(raw, content_type)
    except (DecodeError, ValueError):
        fields = {}
    return Callback(
        callback_id=callback_id,
        event=str(line.get("event") or ""),
        task_id=str(line.get("task_id") or ""),
        fields=fields,
        encoding=line.get("encoding") or "form",
        tamper=line.get("tamper") or "none",
        _body=(content_type, raw),
    )


def plan_resume(
    state: RunState,
    options: ResumeOptions,
    record: str,
    now: float,
    resign_secret: str | None = None,
) -> list[Delivery]:
    """The deliveries that continue a run's pending callbacks (``now``: Unix time).

    With ``resign_secret`` every retry gets a fresh timestamp, nonce and signature, as in
    a run with ``retry.resign_each_attempt``.
    """
    resign = None
    if resign_secret is not None:
        secret = resign_secret

        def resign(callback: Callback) -> Callback:
            return resign_callback(callback, secret)

    run_speed = state.speed
    frontier = state.frontier()

    def since(instant: float) -> float:
        """Emulated seconds from a recorded instant to the resume."""
        if run_speed is None:
            return max(0.0, frontier - instant)
        return max(0.0, (now - instant) * run_speed)

    deliveries = []
    for callback_id in state.pending:
        line = state.callbacks[callback_id]
        target = options.target or line.get("target") or state.run.get("target")
        if not isinstance(target, str) or not target.startswith(("http://", "https://")):
            raise UsageError(
                f"{record}: callback {callback_id} has no http(s) target: give --target URL"
            )
        history = state.history(callback_id)
        callback = callback_from_line(line, record)
        if history:
            resumed = Resumed(history, since(history[-1].sent_at))
            deliveries.append(Delivery(callback, target, 0.0, resign, resumed=resumed))
        else:
            delay = float(line.get("delay") or 0.0)
            started = float(state.run.get("started_at") or now)
            remaining = max(0.0, delay - since(started))
            deliveries.append(Delivery(callback, target, remaining, resign, resumed=Resumed()))
    return deliveries


def resign_secret(state: RunState, options: ResumeOptions, record: str) -> str | None:
    """The secret to re-sign retries with when the run re-signed each attempt, else None.

    Tried in turn: ``--secret``, ``$ZEGO_CALLBACK_SECRET``, the development secret; the
    first that signed the run's own recorded bodies (checked against an untampered one)
    is used. None of them signing it is a UsageError: re-signing with another secret
    would only make the receiver refuse every retry.
    """
    if state.run.get("resign_each_attempt") is not True:
        return None
    candidates = [options.secret, os.environ.get(CALLBACK_SECRET_ENV), DEV_CALLBACK_SECRET]
    secrets_to_try = [candidate for candidate in candidates if candidate]
    signed = _untampered_fields(state)
    if signed is None:  # nothing to check against: the first one given
        return secrets_to_try[0]
    for candidate in secrets_to_try:
        if verify_fields(signed, candidate):
            return candidate
    raise UsageError(
        f"{record}: run {state.run_id} re-signed every attempt, and neither --secret, "
        f"{CALLBACK_SECRET_ENV} nor the development secret signed its callbacks: give the "
        f"run's callback secret (in {CALLBACK_SECRET_ENV}, or --secret)"
    )


def _untampered_fields(state: RunState) -> WireFields | None:
    """The decoded fields of one recorded body that carries its true signature."""
    for line in state.callbacks.values():
        if (line.get("tamper") or "none") != "none":
            continue
        try:
            return decode(str(line.get("body", "")).encode(), line.get("content_type"))
        except DecodeError:
            continue
    return None


def resume_policy(state: RunState, options: ResumeOptions) -> RetryPolicy:
    """The run's retry intervals and timeout (``--timeout`` wins)."""
    intervals = state.run.get("intervals")
    gaps = tuple(float(gap) for gap in intervals) if isinstance(intervals, list) else None
    timeout = options.timeout or state.run.get("timeout") or DEFAULT_TIMEOUT
    return RetryPolicy(intervals=gaps or ZEGO_INTERVALS, timeout=float(timeout))


def resume_clock(state: RunState, options: ResumeOptions) -> Clock:
    """``--virtual``/``--speed``, else the run's own: virtual when it ran virtual."""
    if options.clock is not None:
        return options.clock
    if options.virtual or (options.speed is None and state.speed is None):
        return make_clock(virtual=True)
    return make_clock(options.speed or state.speed or 1.0)


# --- running -----------------------------------------------------------------------------


@dataclass
class ResumeResult:
    """What resuming one run did; ``summary`` is exactly the summary line appended."""

    run_id: str
    resumed: int
    outcomes: list[Outcome]
    summary: dict[str, Any]
    expectations: list[ExpectationResult]
    interrupted: bool = False

    @property
    def exit_code(self) -> int:
        if self.interrupted:
            return EXIT_INTERRUPTED
        return EXIT_FAILED if any(not result.ok for result in self.expectations) else EXIT_OK


async def resume_run(
    state: RunState,
    record: str | Path,
    options: ResumeOptions,
    listeners: Sequence[DispatchListener] = (),
    *,
    stop: asyncio.Event | None = None,
    now: Callable[[], float] = time.time,
) -> ResumeResult:
    """Continue one run's pending callbacks, appending to its record; never raises for
    receiver failures. ``stop`` set (Ctrl-C) ends it early with the summary written."""
    secret = resign_secret(state, options, str(record))
    deliveries = plan_resume(state, options, str(record), now(), secret)
    clock = resume_clock(state, options)
    policy = resume_policy(state, options)
    tls = trust(options)
    _end_torn_line(Path(record))
    finished = _Finished()
    with Recorder(record) as recorder:
        recorder.write(
            {
                "type": "resume",
                "run_id": state.run_id,
                "resumed_at": round(now(), 6),
                "pending": len(deliveries),
                "speed": None if clock.speed == float("inf") else clock.speed,
                "target": options.target,
                "timeout": policy.timeout,
                "resigned": secret is not None,
                "version": __version__,
            }
        )
        dispatcher = Dispatcher(
            policy=policy,
            clock=clock,
            recorder=recorder,
            run_id=state.run_id,
            concurrency=options.concurrency or state.run.get("concurrency") or DEFAULT_CONCURRENCY,
            ssl=tls,
            listeners=[finished, *listeners],
        )
        async with dispatcher:
            # a callback's duplicates go after it, in turn, as in the run
            work = asyncio.ensure_future(dispatcher.deliver_chains(delivery_chains(deliveries)))
            interrupted = await until_done_or_stopped(work, stop)
        summary, expectations = _summary(state, finished.outcomes, str(record), interrupted)
        recorder.write(summary)
    return ResumeResult(
        state.run_id, len(deliveries), finished.outcomes, summary, expectations, interrupted
    )


def trust(options: ResumeOptions) -> ssl.SSLContext | bool:
    """The TLS setting of ``--ca-bundle``/``--insecure``; an unusable CA file is a UsageError."""
    try:
        return ssl_context(options.ca_bundle, options.insecure)
    except OSError as exc:  # ssl.SSLError too
        reason = exc.strerror or str(exc)
        raise UsageError(f"--ca-bundle {options.ca_bundle}: cannot use it: {reason}") from None


class _Finished(DispatchListener):
    """Keeps every outcome as the dispatcher reports it."""

    def __init__(self) -> None:
        self.outcomes: list[Outcome] = []

    def delivery_finished(self, outcome: Outcome) -> None:
        self.outcomes.append(outcome)


def _summary(
    state: RunState, resumed: list[Outcome], record: str, interrupted: bool
) -> tuple[dict[str, Any], list[ExpectationResult]]:
    """The whole run's summary line: earlier outcomes plus the resumed ones."""
    outcomes = [_outcome_from_line(state, line) for line in state.outcomes.values()]
    outcomes += resumed
    attempts = sum(len(by_number) for by_number in state.attempts.values())
    attempts += sum(
        1
        for outcome in resumed
        for attempt in outcome.history
        if attempt.attempt not in state.attempts.get(outcome.callback_id, {})
    )
    observed = Observed.from_outcomes(outcomes, state.planned, attempts)
    expected = _expected(state)
    expectations = [
        ExpectationResult(name, expected[name], observed.value(name))
        for name in EXPECTATION_NAMES
        if name in expected
    ]
    summary = {
        "type": "summary",
        "run_id": state.run_id,
        "callbacks": observed.callbacks,
        "delivered": observed.delivered,
        "lost": observed.lost,
        "attempts": observed.attempts,
        "expectations": [result.to_record() for result in expectations],
        "scenario": state.run.get("scenario"),
        "max_attempts": observed.max_attempts,
        "pending": state.planned - len(outcomes),
        "interrupted": interrupted,
        "ok": not interrupted and all(result.ok for result in expectations),
        "record": record,
        "resumed": True,
    }
    return summary, expectations


def _outcome_from_line(state: RunState, line: Mapping[str, Any]) -> Outcome:
    """A finished callback's :class:`Outcome` back from its record lines."""
    callback_id = str(line.get("callback_id"))
    return Outcome(
        callback_id,
        str(line.get("event") or ""),
        str(line.get("task_id") or ""),
        bool(line.get("delivered")),
        history=state.history(callback_id),
        run_id=state.run_id,
    )


def _expected(state: RunState) -> dict[str, int]:
    """``expect:`` values: from the run's last summary, else from its scenario file."""
    for summary in reversed(state.summaries):
        found = summary.get("expectations")
        if isinstance(found, list) and found:
            return {
                str(item["name"]): int(item["expected"])
                for item in found
                if isinstance(item, dict) and "name" in item and "expected" in item
            }
    source = state.run.get("scenario_file")
    if isinstance(source, str) and source:
        try:
            from emulator.scenario.reader import load_scenario

            expect = load_scenario(source).expect
        except (EmulatorError, OSError):
            return {}
        if expect is not None:
            values = {name: getattr(expect, name, None) for name in EXPECTATION_NAMES}
            return {name: int(value) for name, value in values.items() if value is not None}
    return {}


def _end_torn_line(record: Path) -> None:
    """A run killed mid-write may leave half a line: end it so ours start on a fresh one."""
    with record.open("rb+") as handle:
        handle.seek(0, 2)
        if handle.tell() == 0:
            return
        handle.seek(-1, 2)
        if handle.read(1) != b"\n":
            handle.write(b"\n")


# --- the command -------------------------------------------------------------------------


def resume_command(record: str, options: ResumeOptions, stdout: IO[str] | None = None) -> int:
    """``zego-emulator resume RECORD``: continue every unfinished run in it; the exit code."""
    out = stdout or sys.stdout
    trust(options)  # a bad --ca-bundle is exit 2 before anything happens
    runs = [run for run in read_runs(record) if run.needs_resume]
    for run in runs:
        resign_secret(run, options, record)  # so is a secret that cannot re-sign a run
    if not runs:
        if options.json:
            print(json.dumps({"record": record, "resumed": 0}), file=out, flush=True)
        else:
            print(f"nothing to resume: every run in {record} finished", file=out, flush=True)
        return EXIT_OK
    results = asyncio.run(_resume_all(runs, record, options, out))
    for result in results:
        if options.json:
            print(json.dumps(result.summary, ensure_ascii=False), file=out, flush=True)
        else:
            _print_result(result, out)
    if any(result.interrupted for result in results):
        return EXIT_INTERRUPTED
    return max(result.exit_code for result in results)


async def _resume_all(
    runs: Sequence[RunState], record: str, options: ResumeOptions, out: IO[str]
) -> list[ResumeResult]:
    from emulator.term.live import LineLog

    listeners: list[DispatchListener] = [] if options.json else [LineLog(out)]
    stop = asyncio.Event()
    results = []
    with stop_on_sigint(stop):
        for state in runs:
            if not options.json:
                pending = len(state.pending)
                print(f"resume run {state.run_id}: {pending} pending callbacks", file=out)
            result = await resume_run(state, record, options, listeners, stop=stop)
            results.append(result)
            if result.interrupted:
                break
    return results


def _print_result(result: ResumeResult, out: IO[str]) -> None:
    summary = result.summary
    state = "interrupted" if result.interrupted else "finished"
    print(
        f"run {result.run_id} {state}: {summary['callbacks']} callbacks, "
        f"{summary['delivered']} delivered, {summary['lost']} lost, "
        f"{summary['attempts']} attempts, {summary['pending']} pending "
        f"(record {summary['record']})",
        file=out,
        flush=True,
    )
    for expectation in [] if result.interrupted else result.expectations:
        if not expectation.ok:
            print(f"expectation failed: {expectation.describe()}", file=out, flush=True)
