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
    RunOptions,
    Secret,
    Settings,
    check_url,
    resolve,
    resolve_secret,
    run_line_layer,
    secret_candidates,
)
from emulator.signing import verify_fields
from emulator.wire import WireFields, decode


@dataclass
class ResumeOptions:
    """Flags of ``resume``; ``None`` = what the record's ``run`` line says.

    Settings are resolved per run (:func:`resume_settings`): flags > the run's ``run``
    line (target, retry policy and timeout, speed, concurrency; its plan's ``secret_env``)
    > the environment (``ZEGO_CALLBACK_SECRET``) > the defaults.
    """

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

    def run_options(self) -> RunOptions:
        """These flags as the :class:`~emulator.settings.RunOptions` :func:`resolve` takes."""
        return RunOptions(
            target=self.target,
            secret=resolve_secret(self.secret, quiet=True) if self.secret else None,
            speed=self.speed,
            virtual=self.virtual,
            timeout=self.timeout,
            concurrency=self.concurrency,
            json=self.json,
            ca_bundle=self.ca_bundle,
            insecure=self.insecure,
            clock=self.clock,
        )


def check_flags(options: ResumeOptions) -> None:
    """The flags alone checked before a record is read: ``--target`` (one URL check) and
    ``--ca-bundle`` (one TLS setup); a bad one is a one-line UsageError."""
    resolve(options.run_options(), need_target=False, quiet=True)


def resume_settings(state: RunRecord, options: ResumeOptions, record: str | Path) -> Settings:
    """The settings of resuming ``state``: flags > its ``run`` line > environment > defaults."""
    layer = run_line_layer(state.run, f"{record}: run {state.run_id}")
    return resolve(options.run_options(), layer=layer, need_target=False, quiet=True)


def _secrets(state: RunRecord, options: ResumeOptions) -> list[str]:
    """The secrets to try, highest layer first (see :func:`secret_candidates`)."""
    layer = run_line_layer(state.run, "")
    return [found.value for found in secret_candidates(options.secret, layer.secret_env)]


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
    settings: Settings | None = None,
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

    settings = settings or resume_settings(state, options, record)
    check_receiver_alive(state, options, record)
    deliveries = []
    for callback_id in state.pending:
        line = state.callbacks[callback_id]
        policy = callback_policy(line, settings.policy, options.timeout)
        target = _callback_target(options.target or line.get("target") or settings.target)
        if target is None:
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


def _callback_target(url: Any) -> str | None:
    """A recorded (or --target) URL that passes the one URL check, else None."""
    if not isinstance(url, str):
        return None
    try:
        return check_url(url)
    except UsageError:
        return None


def unsent_deliveries(
    state: RunRecord,
    options: ResumeOptions,
    record: str,
    now: float,
    secret: str,
    resign: Callable[[Callback], Callback] | None = None,
    settings: Settings | None = None,
) -> list[Delivery]:
    """The planned callbacks a kill kept from being recorded at all, regenerated byte for
    byte from the run line's ``plan`` (checked against every callback line the record
    has: a difference is a UsageError, never a different callback)."""
    from emulator.run.planner import PlanSeeds, plan_run
    from emulator.scenario.model import Scenario

    plan = state.plan
    if plan is None:
        return []
    try:
        scenario = Scenario.model_validate(plan["scenario"])
        seeds = PlanSeeds.from_record(plan)
    except (KeyError, TypeError, ValueError) as exc:
        raise UsageError(f"{record}: run {state.run_id}: its plan cannot be read: {exc}") from None
    resolved = settings or resume_settings(state, options, record)
    target = _callback_target(resolved.target)
    if target is None:
        raise UsageError(f"{record}: run {state.run_id} has no http(s) target: give --target URL")
    regenerate = replace(
        resolved,
        name=scenario.name,
        target=target,
        secret=Secret(secret, "resume"),
        app_id=seeds.app_id,
        encoding=resolved.encoding if state.run.get("encoding") else scenario.encoding,
        seed=seeds.seed,
        clock=make_clock(virtual=True),  # generation only: the run core's clock sends
    )
    planned, _ = plan_run(scenario, regenerate, seeds.factory(), epoch=seeds.epoch)
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
    given = _secrets(state, options)
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
    secrets_to_try = _secrets(state, options)
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
    settings = resume_settings(state, options, record)
    secret = resign_secret(state, options, str(record))
    deliveries = plan_resume(state, options, str(record), now(), secret, settings)
    if state.plan is not None and state.unsent:
        resign = None
        if secret is not None:
            signer = secret
            resign = lambda cb: resign_callback(cb, signer)  # noqa: E731
        plan_key = secret or plan_secret(state, options, str(record))
        deliveries += unsent_deliveries(
            state, options, str(record), now(), plan_key, resign, settings
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
