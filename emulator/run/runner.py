"""Running scenarios: plan the deliveries, dispatch them, record everything, check ``expect``.

    scenario = load_scenario("scenarios/retry-then-success.yaml")
    result = await execute(scenario, RunOptions(target="http://127.0.0.1:8080/cb", virtual=True))
    assert result.exit_code == 0, [r.describe() for r in result.failed]

The flow of one run (one scenario):

1. :func:`plan` turns the scenario into :class:`~emulator.delivery.dispatch.Delivery` objects:
   callback entries expanded by ``repeat`` (ids ``cb-000001``... in listed order, so a
   seed gives the same payloads whatever the ``order``), each generated, signed, tampered,
   renamed and given its extra ``fields``, then put in delivery ``order``. A callback
   with ``duplicates: N`` is followed by N deliveries of the very same body
   (``cb-000003-dup1``...), each starting once the one before it finished.
2. :func:`execute` writes the record's ``run`` line, hands the deliveries to one
   :class:`~emulator.delivery.dispatch.Dispatcher` (one HTTP session) which records every
   ``callback``/``attempt``/``outcome`` line as it happens, then checks the expectations
   and writes the ``summary`` line — also when the run is stopped early (Ctrl-C).
3. :mod:`emulator.term.commands` drives it for the ``run``, ``send`` and ``show`` commands.

Flags (:class:`RunOptions`) override the scenario file; ``None`` means "the scenario's
value, else the default".
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import shlex
import ssl
import time
import uuid
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from emulator import settings as config
from emulator._version import __version__
from emulator.callback.factory import CallbackFactory, wire_fields
from emulator.callback.model import DUPLICATE_MARK, Callback, Tamper
from emulator.clock import Clock, make_clock
from emulator.delivery.dispatch import (
    USER_AGENT,
    Delivery,
    Dispatcher,
    DispatchListener,
    delivery_chains,
    ssl_context,
)
from emulator.delivery.results import Attempt, Outcome
from emulator.delivery.transport import request_headers
from emulator.errors import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, UsageError
from emulator.events.base import CallbackModel
from emulator.record.writer import Recorder, default_record_path
from emulator.retry import RetryPolicy
from emulator.run.expect import ExpectationResult, Observed, check
from emulator.run.interrupt import cancel_and_wait, until_done_or_stopped
from emulator.scenario.compose import scenario_entries
from emulator.scenario.model import CallbackCommon, Scenario
from emulator.wire import Encoding, WireValue, decode

if TYPE_CHECKING:
    from emulator.servers.receiver import Receiver

DEFAULT_CONCURRENCY = 100


@dataclass
class RunOptions:
    """Command-line settings of a run; ``None`` = the scenario's value, else the default."""

    target: str | None = None
    secret: config.Secret | None = None
    app_id: str | None = None
    encoding: Encoding | None = None
    seed: int | None = None
    speed: float | None = None
    virtual: bool = False
    timeout: float | None = None  # per request, real seconds
    concurrency: int | None = None
    record: str | Path | None = None  # record file; None = runs/<UTC time>-<scenario>.jsonl
    json: bool = False
    ca_bundle: str | None = None
    insecure: bool = False
    live: bool | None = None  # None = a live view when stdout is a terminal and not --json
    builtin_receiver: bool = False
    clock: Clock | None = None  # a clock to use instead of the one speed/virtual describe

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> RunOptions:
        """The flags of ``run``/``send``/``show`` (a flag a command lacks stays None)."""

        def flag(name: str) -> Any:
            return getattr(args, name, None)

        secret_flag = flag("secret")
        return cls(
            target=flag("target"),
            secret=config.resolve_secret(secret_flag) if secret_flag else None,
            app_id=flag("app_id"),
            encoding=flag("encoding"),
            seed=flag("seed"),
            speed=flag("speed"),
            virtual=bool(flag("virtual")),
            timeout=flag("timeout"),
            concurrency=flag("concurrency"),
            record=flag("record"),
            json=bool(flag("json")),
            ca_bundle=flag("ca_bundle"),
            insecure=bool(flag("insecure")),
            live=False if flag("no_live") else None,
            builtin_receiver=bool(flag("builtin_receiver")),
        )


# --- resolving settings ------------------------------------------------------------------


def resolve_scenario_secret(scenario: Scenario, options: RunOptions) -> config.Secret:
    """The callback secret: ``--secret``, else the scenario's ``secret_env``, else the default."""
    if options.secret is not None:
        return options.secret
    from emulator.scenario import model as scenario_module

    named = getattr(scenario_module, "scenario_secret", None)
    if callable(named):
        secret: config.Secret = named(scenario, None)
        return secret
    return config.resolve_secret(None, scenario.secret_env or config.CALLBACK_SECRET_ENV)


def resolve_target(scenario: Scenario, options: RunOptions, source: str | None = None) -> str:
    """Where to deliver: ``--target``, else the scenario's ``target``; UsageError otherwise."""
    target = options.target or scenario.target
    if not target:
        where = source or f"scenario {scenario.name!r}"
        raise UsageError(
            f"{where}: no target: give --target URL, set target: in the scenario, "
            "or use --builtin-receiver"
        )
    parts = urlsplit(target)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"target {target!r}: expected an http:// or https:// URL with a host")
    return target


def retry_policy(scenario: Scenario, options: RunOptions) -> RetryPolicy:
    """The scenario's ``retry:`` policy with ``--timeout`` applied."""
    policy = scenario.retry.policy()
    if options.timeout is not None:
        policy = replace(policy, timeout=options.timeout)
    return policy


def run_clock(scenario: Scenario, options: RunOptions) -> Clock:
    """``options.clock``, else virtual time (``--virtual``), else real time / speed."""
    if options.clock is not None:
        return options.clock
    return make_clock(options.speed or scenario.speed or 1.0, options.virtual)


def make_factory(scenario: Scenario, options: RunOptions) -> CallbackFactory:
    """The seeded factory for a scenario (``--seed``/``--app-id`` win)."""
    seed = options.seed if options.seed is not None else scenario.seed
    return CallbackFactory(seed=seed, app_id=options.app_id or scenario.app_id)


# --- planning ----------------------------------------------------------------------------


@dataclass
class PlannedDelivery:
    """A delivery and the scenario entry it came from (``duplicate_of`` for duplicates)."""

    delivery: Delivery
    entry: CallbackCommon
    duplicate_of: str | None = None


def plan(
    scenario: Scenario,
    options: RunOptions,
    secret: config.Secret,
    factory: CallbackFactory | None = None,
    now: Callable[[], float] = time.time,
) -> list[Delivery]:
    """Every delivery of the scenario, in delivery order (see the module docstring).

    ``now`` gives the Unix time a re-signed retry is stamped with
    (``retry.resign_each_attempt``); :func:`execute` passes its clock's.
    """
    return [item.delivery for item in plan_entries(scenario, options, secret, factory, now)]


def plan_entries(
    scenario: Scenario,
    options: RunOptions,
    secret: config.Secret,
    factory: CallbackFactory | None = None,
    now: Callable[[], float] = time.time,
) -> list[PlannedDelivery]:
    """:func:`plan`, keeping each delivery's scenario entry (the built-in receiver needs it)."""
    target = resolve_target(scenario, options)
    factory = factory or make_factory(scenario, options)
    encoding: Encoding = options.encoding or scenario.encoding
    resign_each = scenario.retry.resign_each_attempt
    generated: list[tuple[Callback, CallbackModel, CallbackCommon]] = []
    entries = scenario_entries(scenario, now(), factory_seed(scenario, options))
    for entry in entries:
        event = str(getattr(entry, "event", "procedure"))
        for _ in range(entry.repeat):
            model = _with_overrides(
                factory.build(event, entry.event_params(), timestamp=entry.timestamp), entry
            )
            callback = factory.callback(
                model,
                secret.value,
                encoding=encoding,
                tamper=entry.tamper,
                rename=entry.rename,
                extra_fields=entry.fields,
            )
            generated.append((callback, model, entry))
    ordered = _in_order(generated, scenario.order, factory_seed(scenario, options))
    planned: list[PlannedDelivery] = []
    for callback, model, entry in ordered:
        resign = (
            _resigner(model, entry, secret.value, now, factory.fake.seed) if resign_each else None
        )
        planned.append(PlannedDelivery(Delivery(callback, target, entry.delay, resign), entry))
        for number in range(1, entry.duplicates + 1):
            duplicate = Callback(
                callback_id=f"{callback.callback_id}{DUPLICATE_MARK}{number}",
                event=callback.event,
                task_id=callback.task_id,
                fields=dict(callback.fields),
                encoding=callback.encoding,
                tamper=callback.tamper,
            )
            planned.append(
                PlannedDelivery(
                    Delivery(duplicate, target, 0.0, resign), entry, callback.callback_id
                )
            )
    return planned


def factory_seed(scenario: Scenario, options: RunOptions) -> int | None:
    return options.seed if options.seed is not None else scenario.seed


def _with_overrides(model: CallbackModel, entry: CallbackCommon) -> CallbackModel:
    """The entry's fixed ``timestamp``/``nonce`` (before signing)."""
    update: dict[str, str] = {}
    if entry.timestamp is not None:
        update["timestamp"] = str(entry.timestamp)
    if entry.nonce is not None:
        update["nonce"] = entry.nonce
    return model.model_copy(update=update) if update else model


def _in_order(
    generated: list[tuple[Callback, CallbackModel, CallbackCommon]], order: str, seed: int | None
) -> list[tuple[Callback, CallbackModel, CallbackCommon]]:
    if order == "reversed":
        return list(reversed(generated))
    if order == "shuffled":
        shuffled = list(generated)
        random.Random(f"order:{seed}" if seed is not None else None).shuffle(shuffled)
        return shuffled
    return list(generated)


def _resigner(
    model: CallbackModel,
    entry: CallbackCommon,
    callback_secret: str,
    now: Callable[[], float],
    seed: int | None,
) -> Callable[[Callback], Callback]:
    """A ``Delivery.resign``: the same callback with a fresh timestamp, nonce and signature."""
    counters: dict[str, int] = {}

    def resign(callback: Callback) -> Callback:
        count = counters[callback.callback_id] = counters.get(callback.callback_id, 0) + 1
        rng = random.Random(f"resign:{seed}:{callback.callback_id}:{count}")
        timestamp = entry.timestamp if entry.timestamp is not None else int(now())
        fresh = model.model_copy(
            update={"timestamp": str(timestamp), "nonce": str(rng.randint(100_000, 999_999))}
        )
        return callback.with_fields(
            wire_fields(
                fresh.to_fields(), callback_secret, callback.tamper, entry.rename, entry.fields
            )
        )

    return resign


# --- running -----------------------------------------------------------------------------


@dataclass
class RunInfo:
    """What a run is about to do (handed to :class:`RunListener.run_started`)."""

    run_id: str
    scenario: str
    target: str
    record_path: Path
    deliveries: list[Delivery]
    clock: Clock


class RunListener(DispatchListener):
    """A dispatch listener that also hears when a run starts and ends (the live view)."""

    def run_started(self, info: RunInfo) -> None:
        """The record's ``run`` line is written; deliveries are about to start."""

    def run_finished(self, result: RunResult) -> None:
        """The ``summary`` line is written."""


@dataclass
class RunResult:
    """What one run of one scenario produced."""

    run_id: str
    scenario: str
    target: str
    record_path: Path
    outcomes: list[Outcome]  # finished deliveries, in the order they finished
    summary: dict[str, Any]  # exactly the record's summary line
    expectations: list[ExpectationResult]
    planned: int = 0
    interrupted: bool = False
    wall_s: float = 0.0

    @property
    def failed(self) -> list[ExpectationResult]:
        """Expectations that did not hold."""
        return [result for result in self.expectations if not result.ok]

    @property
    def delivered(self) -> int:
        return sum(1 for outcome in self.outcomes if outcome.delivered)

    @property
    def lost(self) -> int:
        return sum(1 for outcome in self.outcomes if outcome.lost)

    @property
    def exit_code(self) -> int:
        """130 stopped early, 1 an expectation failed, 0 otherwise."""
        if self.interrupted:
            return EXIT_INTERRUPTED
        return EXIT_FAILED if self.failed else EXIT_OK


class _Tally(DispatchListener):
    """Counts every attempt and keeps every outcome as the dispatcher reports them."""

    def __init__(self) -> None:
        self.attempts = 0
        self.outcomes: list[Outcome] = []

    def attempt_finished(self, attempt: Attempt) -> None:
        self.attempts += 1

    def delivery_finished(self, outcome: Outcome) -> None:
        self.outcomes.append(outcome)


def new_run_id() -> str:
    """``20240501T120000Z-3f2a9c1b``: sortable, unique enough for a record."""
    return f"{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}-{uuid.uuid4().hex[:8]}"


async def execute(
    scenario: Scenario,
    options: RunOptions,
    listeners: Sequence[DispatchListener] = (),
    *,
    source: str | None = None,
    stop: asyncio.Event | None = None,
) -> RunResult:
    """Run one scenario: deliver, record, check ``expect``; never raises for receiver failures.

    ``stop`` (set by the CLI on Ctrl-C) ends the run early: pending deliveries are
    cancelled and the summary is still written (``interrupted: true``, exit code 130).
    Cancelling the task running this coroutine does the same, then re-raises.
    """
    secret = resolve_scenario_secret(scenario, options)
    if not options.builtin_receiver:
        resolve_target(scenario, options, source)
    async with _builtin_receiver(scenario, options, secret) as receiver:
        if receiver is not None:
            options = replace(options, target=receiver.url)
        clock = run_clock(scenario, options)
        planned = plan_entries(scenario, options, secret, now=lambda: clock.epoch(clock.now()))
        if receiver is not None:
            _script_receiver(receiver, planned)
        return await _dispatch(scenario, options, planned, clock, listeners, source, stop)


async def _dispatch(
    scenario: Scenario,
    options: RunOptions,
    planned: list[PlannedDelivery],
    clock: Clock,
    listeners: Sequence[DispatchListener],
    source: str | None,
    stop: asyncio.Event | None,
) -> RunResult:
    """Deliver the planned callbacks with the record open; the summary line comes last."""
    deliveries = [item.delivery for item in planned]
    target = resolve_target(scenario, options, source)
    policy = retry_policy(scenario, options)
    concurrency = options.concurrency or scenario.concurrency or DEFAULT_CONCURRENCY
    tls = _tls(options)
    run = _RunState(new_run_id(), scenario, target, deliveries, listeners)
    record_path = Path(options.record) if options.record else fresh_record_path(scenario.name)
    with _open_record(record_path) as recorder:
        run.recorder, run.record_path = recorder, record_path
        speed = None if clock.speed == float("inf") else clock.speed
        recorder.write(
            {
                "type": "run",
                "run_id": run.run_id,
                "started_at": round(time.time(), 6),
                "scenario": scenario.name,
                "target": target,
                "encoding": options.encoding or scenario.encoding,
                "speed": speed,
                "version": __version__,
                "scenario_file": source,
                "virtual": speed is None,
                "callbacks": len(deliveries),
                "intervals": list(policy.intervals),
                "timeout": policy.timeout,
                "resign_each_attempt": policy.resign_each_attempt,
                "concurrency": concurrency,
                "seed": factory_seed(scenario, options),
            }
        )
        info = RunInfo(run.run_id, scenario.name, target, record_path, deliveries, clock)
        for listener in listeners:
            if isinstance(listener, RunListener):
                listener.run_started(info)
        dispatcher = Dispatcher(
            policy=policy,
            clock=clock,
            recorder=recorder,
            run_id=run.run_id,
            concurrency=concurrency,
            ssl=tls,
            listeners=[run.tally, *listeners],
        )
        async with dispatcher:
            work = asyncio.ensure_future(dispatcher.deliver_chains(delivery_chains(deliveries)))
            try:
                interrupted = await until_done_or_stopped(work, stop)
            except asyncio.CancelledError:
                await cancel_and_wait(work)
                run.finish(interrupted=True)
                raise
        return run.finish(interrupted=interrupted)


class _RunState:
    """One run's bookkeeping: what was planned, what happened, how to close it."""

    def __init__(
        self,
        run_id: str,
        scenario: Scenario,
        target: str,
        deliveries: list[Delivery],
        listeners: Sequence[DispatchListener],
    ) -> None:
        self.run_id = run_id
        self.scenario = scenario
        self.target = target
        self.deliveries = deliveries
        self.listeners = listeners
        self.tally = _Tally()
        self.recorder: Recorder | None = None
        self.record_path = Path()
        self.started = time.perf_counter()

    def finish(self, interrupted: bool) -> RunResult:
        """Check the expectations, write the summary line, tell the listeners."""
        tally, planned = self.tally, len(self.deliveries)
        observed = Observed.from_outcomes(tally.outcomes, planned, tally.attempts)
        expectations = check(self.scenario.expect, observed)
        summary: dict[str, Any] = {
            "type": "summary",
            "run_id": self.run_id,
            "callbacks": observed.callbacks,
            "delivered": observed.delivered,
            "lost": observed.lost,
            "attempts": observed.attempts,
            "expectations": [result.to_record() for result in expectations],
            "scenario": self.scenario.name,
            "max_attempts": observed.max_attempts,
            "pending": planned - len(tally.outcomes),
            "interrupted": interrupted,
            "ok": not interrupted and all(result.ok for result in expectations),
            "record": str(self.record_path),
        }
        if self.recorder is not None:
            self.recorder.write(summary)
        result = RunResult(
            run_id=self.run_id,
            scenario=self.scenario.name,
            target=self.target,
            record_path=self.record_path,
            outcomes=list(tally.outcomes),
            summary=summary,
            expectations=expectations,
            planned=planned,
            interrupted=interrupted,
            wall_s=time.perf_counter() - self.started,
        )
        for listener in self.listeners:
            if isinstance(listener, RunListener):
                listener.run_finished(result)
        return result


def _open_record(path: Path) -> Recorder:
    try:
        return Recorder(path)
    except OSError as exc:
        reason = (exc.strerror or str(exc)).lower()
        raise UsageError(f"cannot write the record {path}: {reason}") from None


def _tls(options: RunOptions) -> ssl.SSLContext | bool:
    try:
        return ssl_context(options.ca_bundle, options.insecure)
    except (OSError, ssl.SSLError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise UsageError(f"--ca-bundle {options.ca_bundle}: cannot use it: {reason}") from None


def fresh_record_path(scenario_name: str) -> Path:
    """The default record path, with ``-2``, ``-3``... when a run this second already has it.

    (``--record PATH`` appends to PATH instead: each run keeps its own ``run_id``.)
    """
    base = path = default_record_path(scenario_name)
    number = 1
    while path.exists():
        number += 1
        path = base.with_name(f"{base.stem}-{number}.jsonl")
    return path


# --- the built-in receiver ---------------------------------------------------------------


@contextlib.asynccontextmanager
async def _builtin_receiver(
    scenario: Scenario, options: RunOptions, secret: config.Secret
) -> AsyncIterator[Receiver | None]:
    """With ``--builtin-receiver``: the scenario's receiver, running on 127.0.0.1.

    It checks signatures and freshness like a careful receiver (tampered callbacks get
    401) and acknowledges a duplicate of a callback it already accepted with 200, as an
    idempotent receiver of an at-least-once sender should.
    """
    if not options.builtin_receiver:
        yield None
        return
    from emulator.servers.receiver import Receiver

    script = scenario.receiver
    receiver = Receiver(
        secret.value,
        responses=script.responses if script else (200,),
        delay=script.delay if script else 0.0,
        hang=script.hang if script else False,
        reset=script.reset if script else False,
        replay_status=200,  # idempotent: a duplicate already processed is acknowledged
    )
    async with receiver:
        yield receiver


def _script_receiver(receiver: Receiver, planned: list[PlannedDelivery]) -> None:
    """Per-callback ``respond:`` scripts of the scenario, set on the built-in receiver."""
    for item in planned:
        statuses = getattr(item.entry, "respond", None)
        if statuses and item.duplicate_of is None:
            receiver.respond_for(item.delivery.callback.task_id, *statuses)


# --- request previews (show) -------------------------------------------------------------


def request_preview(delivery: Delivery) -> dict[str, Any]:
    """The exact request a delivery sends: method, URL, headers, body, decoded fields, curl."""
    callback = delivery.callback
    content_type, body = callback.body()
    try:  # the head the transport sends, line for line
        lines = request_headers(delivery.target, content_type, body, USER_AGENT)
    except ValueError:  # not an http(s) URL: the run would record a protocol error
        lines = [f"Content-Type: {content_type}", f"Content-Length: {len(body)}"]
    headers = dict(line.split(": ", 1) for line in lines)
    if "Authorization" in headers:  # credentials from the URL's user:password
        headers["Authorization"] = "Basic (from the URL)"
    fields = decode(body, content_type)
    original, mark, _ = callback.callback_id.partition(DUPLICATE_MARK)
    return {
        "callback_id": callback.callback_id,
        "duplicate_of": original if mark else None,
        "event": callback.event,
        "task_id": callback.task_id,
        "tamper": callback.tamper,
        "delay": delivery.delay,
        "method": "POST",
        "url": delivery.target,
        "headers": headers,
        "body": body.decode("utf-8"),
        "fields": fields,
        "nested": _nested_fields(fields),
        "curl": curl_command(delivery.target, content_type, body),
    }


def _nested_fields(fields: Mapping[str, WireValue]) -> dict[str, Any]:
    """Fields whose value is an object or list, or JSON text of one (``extra_params``),
    decoded."""
    nested: dict[str, Any] = {}
    for name, value in fields.items():
        if isinstance(value, list | dict):
            nested[name] = value
        elif isinstance(value, str) and value[:1] in ("{", "["):
            try:
                nested[name] = json.loads(value)
            except ValueError:
                continue
    return nested


def curl_command(url: str, content_type: str, body: bytes) -> str:
    """A runnable ``curl`` line sending exactly ``body`` (shell-quoted with shlex)."""
    parts = [
        "curl", "-sS", "-X", "POST", url,
        "-H", f"Content-Type: {content_type}",
        "-H", f"User-Agent: {USER_AGENT}",
        "--data-binary", body.decode("utf-8"),
    ]  # fmt: skip
    return " ".join(shlex.quote(part) for part in parts)


@dataclass
class SendSpec:
    """``zego-emulator send`` flags describing the one callback."""

    event: str = "procedure"
    status: str | None = None
    resolutions: list[str] = field(default_factory=list)
    task_id: str | None = None
    file_id: str | None = None
    tamper: Tamper = "none"
    fields: dict[str, str] = field(default_factory=dict)


def send_scenario(spec: SendSpec, options: RunOptions) -> Scenario:
    """The one-callback scenario ``send`` runs (flags become the entry's keys)."""
    from pydantic import ValidationError

    from emulator.events import EVENT_NAMES

    if spec.event not in EVENT_NAMES:
        raise UsageError(
            f"send --event {spec.event!r}: unknown event; expected one of {', '.join(EVENT_NAMES)}"
        )
    entry: dict[str, Any] = {"event": spec.event, "tamper": spec.tamper}
    if spec.event != "procedure" and (spec.status is not None or spec.resolutions):
        raise UsageError(
            f"send --event {spec.event}: --status and --resolution are procedure fields; "
            "use --field KEY=VALUE for other events (e.g. --field code=70000)"
        )
    if spec.fields:
        entry["fields"] = dict(spec.fields)
    if spec.status is not None:
        entry["status"] = spec.status
    if spec.resolutions:
        entry["transcode"] = [{"resolution": resolution} for resolution in spec.resolutions]
    if spec.task_id is not None:
        entry["task_id"] = spec.task_id
    if spec.file_id is not None:
        # the snapshot event spells its source file id field_id (sic, spec §4)
        entry["field_id" if spec.event == "snapshot" else "file_id"] = spec.file_id
    try:
        return Scenario.model_validate({"name": f"send-{spec.event}", "callbacks": [entry]})
    except ValidationError as exc:
        problem = exc.errors()[0]
        where = ".".join(str(part) for part in problem["loc"][2:] if part != spec.event)
        raise UsageError(
            f"send --event {spec.event}: {where or 'flags'}: {problem['msg']}"
        ) from None


__all__ = [
    "DUPLICATE_MARK",
    "PlannedDelivery",
    "RunInfo",
    "RunListener",
    "RunOptions",
    "RunResult",
    "SendSpec",
    "curl_command",
    "delivery_chains",
    "execute",
    "plan",
    "plan_entries",
    "request_preview",
]
