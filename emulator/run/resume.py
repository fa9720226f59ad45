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
import dataclasses
import os
import ssl
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from emulator.callback.model import Callback
from emulator.clock import Clock, make_clock
from emulator.delivery.dispatch import (
    Delivery,
    DispatchListener,
    Resumed,
    delivery_chains,
)
from emulator.delivery.results import Outcome
from emulator.delivery.verdict import Expectation, callback_expectation, default_expectation
from emulator.errors import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    DecodeError,
    EmulatorError,
    UsageError,
)
from emulator.events import answer_reader
from emulator.record.reader import (
    RunRecord,
    callback_from_line,
)
from emulator.redact import hides_a_password
from emulator.retry import RetryPolicy, recorded_policy
from emulator.run.core import Prior, RunCore
from emulator.run.expect import EXPECTATION_NAMES, ExpectationResult
from emulator.run.replay import resign_callback
from emulator.settings import (
    CALLBACK_SECRET_ENV,
    DEFAULT_CONCURRENCY,
    DEV_CALLBACK_SECRET,
    Secret,
    Settings,
    tls_context,
)
from emulator.signing import verify_fields
from emulator.wire import WireFields, decode


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


def check_receiver_alive(state: RunRecord, options: ResumeOptions, record: str) -> None:
    """UsageError when the recorded target cannot be sent to again: the run's own built-in
    receiver ended with the run, or the record hides the target's password (a record never
    holds one). ``--target`` says where to send instead."""
    if options.target is not None or not (state.pending or state.unsent):
        return  # told where to send, or nothing left to send
    if state.run.get("builtin_receiver") is True:
        raise UsageError(
            f"{record}: this run sent to its built-in receiver (--builtin-receiver), which "
            "ended with the run; give --target URL of a receiver that is running to resume it"
        )
    targets = [state.run.get("target"), *(line.get("target") for line in state.callbacks.values())]
    if any(isinstance(url, str) and hides_a_password(url) for url in targets):
        raise UsageError(
            f"{record}: the record hides the password of its target (records never hold "
            "one); give --target URL with the credentials to resume"
        )


def plan_resume(
    state: RunRecord,
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

    run_policy = resume_policy(state, options)
    check_receiver_alive(state, options, record)
    deliveries = []
    for callback_id in state.pending:
        line = state.callbacks[callback_id]
        policy = callback_policy(line, run_policy, options.timeout)
        target = options.target or line.get("target") or state.run.get("target")
        if not isinstance(target, str) or not target.startswith(("http://", "https://")):
            raise UsageError(
                f"{record}: callback {callback_id} has no http(s) target: give --target URL"
            )
        history = state.history(callback_id)
        callback = callback_from_line(line, record)
        expect = recorded_expectation(line, callback.tamper)
        if history:
            resumed = Resumed(history, since(history[-1].sent_at))
            deliveries.append(
                Delivery(
                    callback,
                    target,
                    0.0,
                    resign,
                    resumed=resumed,
                    read_answer=answer_reader(callback.event),
                    policy=policy,
                    expect=expect,
                )
            )
        else:
            delay = float(line.get("delay") or 0.0)
            started = float(state.run.get("started_at") or now)
            remaining = max(0.0, delay - since(started))
            deliveries.append(
                Delivery(
                    callback,
                    target,
                    remaining,
                    resign,
                    resumed=Resumed(),
                    read_answer=answer_reader(callback.event),
                    policy=policy,
                    expect=expect,
                )
            )
    return deliveries


def unsent_deliveries(
    state: RunRecord,
    options: ResumeOptions,
    record: str,
    now: float,
    secret: str,
    resign: Callable[[Callback], Callback] | None = None,
) -> list[Delivery]:
    """The planned callbacks a kill kept from being recorded at all, regenerated byte for
    byte from the run line's ``plan`` (checked against every callback line the record
    has: a difference is a UsageError, never a different callback)."""
    from emulator.run.runner import PlanSeeds, plan_run
    from emulator.scenario.model import Scenario

    plan = state.plan
    if plan is None:
        return []
    try:
        scenario = Scenario.model_validate(plan["scenario"])
        seeds = PlanSeeds.from_record(plan)
    except (KeyError, TypeError, ValueError) as exc:
        raise UsageError(f"{record}: run {state.run_id}: its plan cannot be read: {exc}") from None
    target = options.target or state.run.get("target")
    if not isinstance(target, str) or not target.startswith(("http://", "https://")):
        raise UsageError(f"{record}: run {state.run_id} has no http(s) target: give --target URL")
    settings = Settings(
        name=scenario.name,
        target=target,
        secret=Secret(secret, "resume"),
        app_id=seeds.app_id,
        encoding=state.run.get("encoding") or scenario.encoding,
        seed=seeds.seed,
        policy=resume_policy(state, options),
        clock=make_clock(virtual=True),
        concurrency=DEFAULT_CONCURRENCY,
        tls=True,
        record=None,
    )
    planned, _ = plan_run(scenario, settings, seeds.factory(), epoch=seeds.epoch)
    for item in planned:
        recorded = state.callbacks.get(item.delivery.callback.callback_id)
        if recorded is not None and recorded.get("body") != item.delivery.callback.body()[1].decode(
            "utf-8"
        ):
            raise UsageError(
                f"{record}: run {state.run_id}: callback {item.delivery.callback.callback_id} "
                "does not regenerate as recorded (another version, secret or scenario?)"
            )
    started = float(state.run.get("started_at") or now)
    run_speed = state.speed
    elapsed = (
        max(0.0, state.frontier() - started)
        if run_speed is None
        else max(0.0, (now - started) * run_speed)
    )
    unsent = []
    for item in planned:
        delivery = item.delivery
        callback_id = delivery.callback.callback_id
        if callback_id in state.callbacks or callback_id in state.outcomes:
            continue
        unsent.append(
            dataclasses.replace(
                delivery,
                delay=max(0.0, delivery.delay - elapsed),
                resign=resign if resign is not None else delivery.resign,
            )
        )
    return unsent


def plan_secret(state: RunRecord, options: ResumeOptions, record: str) -> str:
    """The secret that signed the run's callbacks (to sign those never sent): ``--secret``,
    ``$ZEGO_CALLBACK_SECRET`` or the development secret, whichever signed a recorded body
    (the first given when the record has none)."""
    candidates = [options.secret, os.environ.get(CALLBACK_SECRET_ENV), DEV_CALLBACK_SECRET]
    given = [candidate for candidate in candidates if candidate]
    signed = _untampered_fields(state)
    if signed is None:
        return given[0]
    for candidate in given:
        if verify_fields(signed, candidate):
            return candidate
    raise UsageError(
        f"{record}: run {state.run_id} has callbacks that were never sent, and neither "
        f"--secret, {CALLBACK_SECRET_ENV} nor the development secret signed its recorded "
        f"callbacks: give the run's callback secret (in {CALLBACK_SECRET_ENV}, or --secret)"
    )


def resign_secret(state: RunRecord, options: ResumeOptions, record: str) -> str | None:
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


def _untampered_fields(state: RunRecord) -> WireFields | None:
    """The decoded fields of one recorded body that carries its true signature."""
    for line in state.callbacks.values():
        if (line.get("tamper") or "none") != "none":
            continue
        try:
            return decode(str(line.get("body", "")).encode(), line.get("content_type"))
        except DecodeError:
            continue
    return None


def resume_policy(state: RunRecord, options: ResumeOptions) -> RetryPolicy:
    """The run's retry policy as its run line records it: intervals, timeout, profile and
    what a retry is for (``--timeout`` wins)."""
    policy = recorded_policy(state.run, RetryPolicy())
    if options.timeout:
        policy = replace(policy, timeout=options.timeout)
    return policy


def callback_policy(
    line: Mapping[str, Any], run: RetryPolicy, timeout: float | None = None
) -> RetryPolicy | None:
    """A callback's own policy (its ``callback`` line's ``retry``, e.g. a Cloud Recording
    callback in a run of RTC ones), ``timeout`` (``--timeout``) winning; None when it
    follows the run's."""
    own = line.get("retry")
    if not isinstance(own, dict):
        return None
    policy = recorded_policy(own, run)
    return replace(policy, timeout=timeout) if timeout else policy


def resume_clock(state: RunRecord, options: ResumeOptions) -> Clock:
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
    state: RunRecord,
    record: str | Path,
    options: ResumeOptions,
    listeners: Sequence[DispatchListener] = (),
    *,
    stop: asyncio.Event | None = None,
    now: Callable[[], float] = time.time,
) -> ResumeResult:
    """Continue one run's pending callbacks on the run core, appending to its record; never
    raises for receiver failures. ``stop`` set (Ctrl-C) ends it early, summary written."""
    secret = resign_secret(state, options, str(record))
    deliveries = plan_resume(state, options, str(record), now(), secret)
    if state.plan is not None and state.unsent:
        resign = None
        if secret is not None:
            signer = secret
            resign = lambda cb: resign_callback(cb, signer)  # noqa: E731
        plan_key = secret or plan_secret(state, options, str(record))
        deliveries += unsent_deliveries(state, options, str(record), now(), plan_key, resign)
    policy = resume_policy(state, options)
    settings = Settings(
        name=str(state.run.get("scenario") or "run"),
        target=options.target,
        secret=Secret("", "none"),
        app_id=None,
        encoding=state.run.get("encoding") or "form",
        seed=None,
        policy=policy,
        clock=resume_clock(state, options),
        concurrency=options.concurrency or state.run.get("concurrency") or DEFAULT_CONCURRENCY,
        tls=tls_context(options.ca_bundle, options.insecure),
        record=Path(record),
    )
    _end_torn_line(Path(record))
    prior = Prior(
        outcomes=[_outcome_from_line(state, line) for line in state.outcomes.values()],
        attempts=sum(len(by_number) for by_number in state.attempts.values()),
        planned=state.planned,
        pending=len(deliveries),
        resigned=secret is not None,
    )
    core = RunCore(
        settings,
        planned=None,
        listeners=listeners,
        run_id=state.run_id,
        expected=_expected(state),
        resume=prior,
        append_to=Path(record),
    )
    async with core:
        # a callback's duplicates go after it, in turn, as in the run
        chains = delivery_chains(deliveries)
        await core.run(core.dispatcher.deliver_chains(chains), stop)
    assert core.result is not None
    result = core.result
    return ResumeResult(
        state.run_id,
        len(deliveries),
        result.outcomes,
        result.summary,
        result.expectations,
        result.interrupted,
    )


def trust(options: ResumeOptions) -> ssl.SSLContext | bool:
    """The TLS setting of ``--ca-bundle``/``--insecure``; an unusable CA file is a UsageError."""
    return tls_context(options.ca_bundle, options.insecure)


def _outcome_from_line(state: RunRecord, line: Mapping[str, Any]) -> Outcome:
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


def _expected(state: RunRecord) -> dict[str, int]:
    """``expect:`` values: from the run's last summary, else from the scenario its ``run``
    line holds (``plan.scenario``: whatever the current directory), else — for a record
    written before runs held their plan — from its scenario file."""
    for summary in reversed(state.summaries):
        found = summary.get("expectations")
        if isinstance(found, list) and found:
            return {
                str(item["name"]): int(item["expected"])
                for item in found
                if isinstance(item, dict) and "name" in item and "expected" in item
            }
    plan = state.run.get("plan")
    planned = plan.get("scenario") if isinstance(plan, dict) else None
    if isinstance(planned, dict):
        expect = planned.get("expect")
        if not isinstance(expect, dict):
            return {}
        return {
            name: value
            for name, value in expect.items()
            if name in EXPECTATION_NAMES and isinstance(value, int) and not isinstance(value, bool)
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


def recorded_expectation(line: Mapping[str, Any], tamper: str) -> Expectation:
    """A ``callback`` line's per-callback expectation (its ``expect``, else the default)."""
    try:
        return callback_expectation(line.get("expect"), tamper)
    except ValueError:  # a record from another version: judge it by its tamper
        return default_expectation(tamper)
