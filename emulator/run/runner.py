"""Running scenarios: plan the deliveries, dispatch them, record everything, check ``expect``.

    scenario = load_scenario("scenarios/retry-then-success.yaml")
    result = await execute(scenario, RunOptions(target="http://127.0.0.1:8080/cb", virtual=True))
    assert result.exit_code == 0, [r.describe() for r in result.failed]

The flow of one run (one scenario):

1. A :class:`Planner` turns the scenario into :class:`~emulator.delivery.dispatch.Delivery`
   objects: callback entries expanded by ``repeat`` (ids ``cb-000001``... in listed order,
   so a seed gives the same payloads whatever the ``order``), each generated, signed,
   tampered, renamed and given its extra ``fields``, then put in delivery ``order``. A
   callback with ``duplicates: N`` is followed by N deliveries of the very same body
   (``cb-000003-dup1``...), each starting once the one before it finished. The
   ``sessions:`` callbacks follow (:mod:`emulator.run.sessions`), in their ``order``.
   Its skeleton (entries, sessions, size) is known at once; the callbacks are generated
   as the dispatcher takes them, just ahead of their first request, wherever the
   delivery order is the generation order (:class:`Planner` says where it is not).
   :func:`plan` is the whole list, for ``show``, ``--dry-run`` and ``resume``.
2. :func:`execute` writes the record's ``run`` line — holding the plan (scenario, seeds,
   epoch, size), so that ``resume`` regenerates any callback a kill kept from being sent —
   hands the chains to one :class:`~emulator.delivery.dispatch.Dispatcher` (one HTTP
   session) which records every ``callback``/``attempt``/``outcome`` line as it happens,
   then checks the expectations and writes the ``summary`` line — also when the run is
   stopped early (Ctrl-C).
3. :mod:`emulator.term.commands` drives it for the ``run``, ``send`` and ``show`` commands.

Flags (:class:`RunOptions`) override the scenario file; ``None`` means "the scenario's
value, else the default".
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import secrets
import shlex
import time
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from emulator.callback.factory import CallbackFactory, RenameError, wire_fields
from emulator.callback.model import DUPLICATE_MARK, Callback, Tamper
from emulator.callback.sessions import session_model
from emulator.clock import SPAWN_BATCH, Clock
from emulator.delivery.dispatch import (
    USER_AGENT,
    Delivery,
    DispatchListener,
    delivery_chains,
)
from emulator.delivery.results import AnswerReader, Outcome
from emulator.delivery.transport import request_headers
from emulator.delivery.verdict import Expectation
from emulator.errors import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, UsageError
from emulator.events import EVENTS
from emulator.events.base import CallbackModel, EventParams
from emulator.redact import without_password
from emulator.retry import RetryPolicy
from emulator.run.core import CoreResult, RunCore
from emulator.run.expect import ExpectationResult, broken_verdicts
from emulator.run.sessions import SESSION_GAP
from emulator.run.templates import TemplateMaker
from emulator.scenario.compose import scenario_entries
from emulator.scenario.model import CallbackCommon, Scenario
from emulator.sessions import SessionEvent, Truth, in_order, plan_sessions, truth
from emulator.settings import RunOptions, Secret, Settings, resolve, scenario_secret
from emulator.wire import WireValue, decode

if TYPE_CHECKING:
    from emulator.servers.receiver import Receiver

SESSION_ENTRY = CallbackCommon()  # the entry session callbacks stand on: no overrides


# --- resolving settings ------------------------------------------------------------------


def resolve_scenario_secret(scenario: Scenario, options: RunOptions) -> Secret:
    """The callback secret: ``--secret``, else the scenario's ``secret_env``, else the default."""
    return options.secret or scenario_secret(scenario, None)


def resolve_target(scenario: Scenario, options: RunOptions, source: str | None = None) -> str:
    """Where to deliver: ``--target``, else the scenario's ``target``; UsageError otherwise."""
    settings = resolve(options, scenario, source=source, quiet=True)
    assert settings.target is not None
    return settings.target


def make_factory(settings: Settings) -> CallbackFactory:
    """The seeded factory of a run (``--seed``/``--app-id`` won over the scenario)."""
    return CallbackFactory(seed=settings.seed, app_id=settings.app_id)


# --- planning ----------------------------------------------------------------------------


@dataclass
class PlannedDelivery:
    """A delivery and the scenario entry it came from (``duplicate_of`` for duplicates)."""

    delivery: Delivery
    entry: CallbackCommon
    duplicate_of: str | None = None


def plan(
    scenario: Scenario,
    settings: Settings,
    factory: CallbackFactory | None = None,
    now: Callable[[], float] = time.time,
) -> list[Delivery]:
    """Every delivery of the scenario, in delivery order (see the module docstring).

    ``now`` gives the Unix time a re-signed retry is stamped with
    (``retry.resign_each_attempt``); :func:`execute` passes its clock's.
    """
    return [item.delivery for item in plan_entries(scenario, settings, factory, now)]


def plan_entries(
    scenario: Scenario,
    settings: Settings,
    factory: CallbackFactory | None = None,
    now: Callable[[], float] = time.time,
) -> list[PlannedDelivery]:
    """:func:`plan`, keeping each delivery's scenario entry (the built-in receiver needs it)."""
    return plan_run(scenario, settings, factory, now)[0]


def plan_run(
    scenario: Scenario,
    settings: Settings,
    factory: CallbackFactory | None = None,
    now: Callable[[], float] = time.time,
    epoch: float | None = None,
) -> tuple[list[PlannedDelivery], Truth | None]:
    """:func:`plan_entries`, and the truth the session callbacks describe (None: no
    ``sessions:``). ``epoch``: the Unix time the plan is generated at (callback
    timestamps, call and session times); None = ``now()``. With the same scenario,
    settings, factory seeds and epoch the plan is the same, byte for byte."""
    planner = Planner(scenario, settings, factory, now, epoch)
    return [item for chain in planner.chains() for item in chain], planner.truth


class Planner:
    """A run's plan: its cheap skeleton at once, each callback generated when asked for.

    On construction: the entries (``calls:`` expanded), each entry's params validated
    once for all its ``repeat`` copies, the sessions played (their truth), and
    :attr:`size`, the number of deliveries. :meth:`chains` then generates, signs and
    shapes the callbacks one chain at a time (a callback and its ``duplicates``), in
    delivery order — lazily when the delivery order is the generation order
    (:attr:`streams`), so a run generates each callback just ahead of its first request
    and never holds them all. Either way the callbacks are the same, byte for byte:
    they are always generated in listed order from the one seeded factory.

    Eager (every callback generated before the first is handed out) where the order
    cannot follow generation: ``order: reversed``/``shuffled`` (the last generated may be
    the first sent), and an entry with ``rename`` (a rename that cannot apply must be
    the one-line exit 2 before the first request, not a failure mid-run). The session
    callbacks are generated in one go when ``order:`` moves them (anything but
    ``as_listed``), for the same reason.
    """

    def __init__(
        self,
        scenario: Scenario,
        settings: Settings,
        factory: CallbackFactory | None = None,
        now: Callable[[], float] = time.time,
        epoch: float | None = None,
    ) -> None:
        if settings.target is None:
            raise UsageError(f"scenario {scenario.name!r}: no target to plan for")
        self.scenario = scenario
        self.settings = settings
        self.target = settings.target
        self.factory = factory or make_factory(settings)
        self.now = now
        at = now() if epoch is None else epoch
        self.entries = scenario_entries(scenario, at, settings.seed)
        self._params: list[EventParams] = [  # once for all repeat copies
            self.factory.params(_event_of(entry), entry.event_params()) for entry in self.entries
        ]
        self._sessions: list[SessionEvent] = []
        self._session_order: list[SessionEvent] = []
        self.truth: Truth | None = None
        if scenario.sessions:
            played = plan_sessions(scenario.sessions, settings.seed, int(at * 1000))
            self._sessions = played.events
            self._session_order = in_order(played.events, scenario.order, settings.seed)
            self.truth = truth(played.world)
        self.size = sum(entry.repeat * (1 + entry.duplicates) for entry in self.entries) + len(
            self._sessions
        )
        self.streams = scenario.order in ("as_listed", "zego-documented") and not any(
            entry.rename for entry in self.entries
        )
        self._policies: dict[str, RetryPolicy | None] = {}  # event -> its own, if not the run's
        # id(entry) -> its answer reader, own policy and expectation
        self._shared: dict[int, tuple[AnswerReader | None, RetryPolicy | None, Expectation]] = {}
        self._makers: dict[int, TemplateMaker] = {}  # id(entry) -> its repeat copies' maker
        self._started = False

    def chains(self) -> Iterator[list[PlannedDelivery]]:
        """Every delivery, one chain (a callback, then its duplicates) at a time, in delivery
        order; generated as they are taken when :attr:`streams`. Once only."""
        if self._started:
            raise RuntimeError("a Planner hands out its chains once")
        self._started = True
        if self.streams:
            for entry, params in zip(self.entries, self._params, strict=True):
                for _ in range(entry.repeat):
                    callback, model = self._generate(entry, params)
                    yield self._chain(callback, model, entry)
        else:
            generated = [
                (*self._generate(entry, params), entry)
                for entry, params in zip(self.entries, self._params, strict=True)
                for _ in range(entry.repeat)
            ]
            for callback, model, entry in _in_order(
                generated, self.scenario.order, self.settings.seed
            ):
                yield self._chain(callback, model, entry)
        yield from self._session_chains()

    def _generate(
        self, entry: CallbackCommon, params: EventParams
    ) -> tuple[Callback, CallbackModel | None]:
        """The next callback of ``entry``: generated, signed, tampered, renamed, extended.

        An entry's ``repeat`` copies come from its template (:mod:`emulator.run.templates`:
        generated once, each copy with a fresh task id, timestamp, nonce and signature),
        unless each retry is re-signed (that needs each copy's model)."""
        factory = self.factory
        settings = self.settings
        try:
            if entry.repeat > 1 and not settings.policy.resign_each_attempt:
                maker = self._makers.get(id(entry))
                if maker is None:
                    maker = self._makers[id(entry)] = TemplateMaker(
                        factory,
                        _event_of(entry),
                        entry.event_params(),
                        settings.secret.value,
                        encoding=settings.encoding,
                        tamper=entry.tamper,
                        rename=entry.rename,
                        extra_fields=entry.fields,
                        timestamp=entry.timestamp,
                        nonce=entry.nonce,
                    )
                return maker(), None
            model = with_overrides(
                factory.build(_event_of(entry), params, timestamp=entry.timestamp), entry
            )
            callback = factory.callback(
                model,
                settings.secret.value,
                encoding=settings.encoding,
                tamper=entry.tamper,
                rename=entry.rename,
                extra_fields=entry.fields,
            )
        except RenameError as exc:
            raise _rename_problem(self.scenario, entry, exc) from None
        return callback, model

    def _policy(self, event: str) -> RetryPolicy | None:
        if event not in self._policies:
            own = self.settings.event_policy(self.scenario, event)
            self._policies[event] = None if own == self.settings.policy else own
        return self._policies[event]

    def _resigner(
        self, model: CallbackModel | None, entry: CallbackCommon
    ) -> Callable[[Callback], Callback] | None:
        if model is None or not self.settings.policy.resign_each_attempt:
            return None
        secret = self.settings.secret.value
        return _resigner(model, entry, secret, self.now, self.factory.fake.seed)

    def _chain(
        self, callback: Callback, model: CallbackModel | None, entry: CallbackCommon
    ) -> list[PlannedDelivery]:
        """The delivery of ``callback`` and of each of its duplicates."""
        resign = self._resigner(model, entry)
        shared = self._shared.get(id(entry))
        if shared is None:  # the same for every repeat copy of the entry
            event = _event_of(entry)  # the spec's name (zim.<name>)
            shared = (EVENTS[event].read_answer, self._policy(event), entry.expectation())
            self._shared[id(entry)] = shared
        reader, policy, expect = shared
        target = self.target
        chain = [
            PlannedDelivery(
                Delivery(
                    callback,
                    target,
                    entry.delay,
                    resign,
                    read_answer=reader,
                    policy=policy,
                    expect=expect,
                ),
                entry,
            )
        ]
        for number in range(1, entry.duplicates + 1):
            duplicate = Callback(
                callback_id=f"{callback.callback_id}{DUPLICATE_MARK}{number}",
                event=callback.event,
                task_id=callback.task_id,
                fields=dict(callback.fields),
                encoding=callback.encoding,
                tamper=callback.tamper,
            )
            delivery = Delivery(
                duplicate, target, 0.0, resign, read_answer=reader, policy=policy, expect=expect
            )
            chain.append(PlannedDelivery(delivery, entry, callback.callback_id))
        return chain

    def _session_chains(self) -> Iterator[list[PlannedDelivery]]:
        """The session callbacks, generated in the order the changes happened and delivered
        in ``order`` (the n-th one ``n x SESSION_GAP`` emulated seconds into the run)."""
        if not self._sessions:
            return
        built: dict[int, tuple[Callback, CallbackModel]] = {}
        moved = any(a is not b for a, b in zip(self._session_order, self._sessions, strict=True))
        if moved:  # every one generated first
            for event in self._sessions:
                built[id(event)] = self._session_callback(event)
        for index, event in enumerate(self._session_order):
            ready = built.pop(id(event), None)
            callback, model = ready if ready is not None else self._session_callback(event)
            resign = self._resigner(model, SESSION_ENTRY)
            # rtc, unless retry names one
            own = self.settings.event_policy(self.scenario, event.event)
            policy = None if own == self.settings.policy else own
            delivery = Delivery(callback, self.target, index * SESSION_GAP, resign, policy=policy)
            yield [PlannedDelivery(delivery, SESSION_ENTRY)]

    def _session_callback(self, event: SessionEvent) -> tuple[Callback, CallbackModel]:
        model = session_model(self.factory, event)
        settings = self.settings
        return self.factory.callback(model, settings.secret.value, settings.encoding), model


def _event_of(entry: CallbackCommon) -> str:
    """The catalogue name of an entry's event (``procedure`` when it names none)."""
    return str(getattr(entry, "event", "procedure"))


@dataclass(frozen=True)
class PlanSeeds:
    """What makes a plan come out the same again: the payload and nonce seeds actually
    used, the app id and the generation time. With the scenario they are the run line's
    ``plan``, so ``resume`` can regenerate callbacks that were never sent."""

    seed: int
    nonce_seed: int
    app_id: str | None
    epoch: int

    @classmethod
    def fresh(cls, settings: Settings, epoch: int) -> PlanSeeds:
        """The seeds of a new run: ``--seed``/``seed:`` when given, else drawn now."""
        seed = settings.seed if settings.seed is not None else secrets.randbits(32)
        return cls(seed, secrets.randbits(64), settings.app_id, epoch)

    @classmethod
    def from_record(cls, plan: Mapping[str, Any]) -> PlanSeeds:
        return cls(
            int(plan["seed"]), int(plan["nonce_seed"]), plan.get("app_id"), int(plan["epoch"])
        )

    def apply(self, settings: Settings) -> Settings:
        return replace(settings, seed=self.seed, app_id=self.app_id)

    def factory(self) -> CallbackFactory:
        epoch = float(self.epoch)
        return CallbackFactory(
            seed=self.seed, app_id=self.app_id, now=lambda: epoch, nonce_seed=self.nonce_seed
        )

    def record(self, scenario: Scenario, size: int) -> dict[str, Any]:
        """The run line's ``plan``: the scenario as its model reads it, these seeds, the size."""
        return {
            "scenario": scenario.model_dump(
                mode="json", by_alias=True, exclude_unset=True, serialize_as_any=True
            ),
            "seed": self.seed,
            "nonce_seed": self.nonce_seed,
            "app_id": self.app_id,
            "epoch": self.epoch,
            "size": size,
        }


def _rename_problem(scenario: Scenario, entry: CallbackCommon, exc: RenameError) -> Exception:
    """A rename that cannot apply, as a ScenarioError at the entry's ``rename`` key."""
    index = next((i for i, listed in enumerate(scenario.callbacks) if listed is entry), None)
    path: tuple[str | int, ...] = ("callbacks", index) if index is not None else ("calls",)
    return scenario.problem_at((*path, "rename", exc.key), str(exc))


def with_overrides(model: CallbackModel, entry: CallbackCommon) -> CallbackModel:
    """The entry's fixed ``timestamp``/``nonce`` (before signing)."""
    update: dict[str, str] = {}
    if entry.timestamp is not None:
        update["timestamp"] = str(entry.timestamp)
    if entry.nonce is not None:
        update["nonce"] = entry.nonce
    return model.model_copy(update=update) if update else model


Generated = tuple[Callback, CallbackModel | None, CallbackCommon]


def _in_order(generated: list[Generated], order: str, seed: int | None) -> list[Generated]:
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
    """What a run is about to do (handed to :class:`RunListener.run_started`).

    ``deliveries`` is every planned delivery when some listener asked for them up front
    (:attr:`RunListener.wants_deliveries`), else empty: the callbacks are generated as
    they are sent. ``planned`` is their number either way."""

    run_id: str
    scenario: str
    target: str
    record_path: Path
    deliveries: list[Delivery]
    clock: Clock
    planned: int = 0


class RunListener(DispatchListener):
    """A dispatch listener that also hears when a run starts and ends (the live view)."""

    # True: run_started needs every delivery of the plan (RunInfo.deliveries), so the run
    # generates them all before its first request instead of just ahead of each one
    wants_deliveries = True

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
    truth: Truth | None = None  # the sessions' final state (None: no sessions:)

    @property
    def failed(self) -> list[ExpectationResult]:
        """Expectations that did not hold."""
        return [result for result in self.expectations if not result.ok]

    @property
    def broken(self) -> list[Outcome]:
        """Deliveries whose per-callback expectation (``expect:``) did not hold."""
        return broken_verdicts(self.outcomes)

    @property
    def delivered(self) -> int:
        return sum(1 for outcome in self.outcomes if outcome.delivered)

    @property
    def lost(self) -> int:
        return sum(1 for outcome in self.outcomes if outcome.lost)

    @property
    def exit_code(self) -> int:
        """130 stopped early, 1 an expectation failed (run or callback), 0 otherwise."""
        if self.interrupted:
            return EXIT_INTERRUPTED
        return EXIT_FAILED if self.failed or self.broken else EXIT_OK


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
    settings = resolve(options, scenario, source=source)
    async with _builtin_receiver(scenario, options, settings.secret) as receiver:
        if receiver is not None:  # recorded, so that resume knows the target is gone
            settings = replace(
                settings.with_target(receiver.url),
                extra={**settings.extra, "builtin_receiver": True},
            )
        clock = settings.clock
        seeds = PlanSeeds.fresh(settings, int(clock.epoch(clock.now())))
        planner = Planner(
            scenario,
            seeds.apply(settings),
            seeds.factory(),
            now=lambda: clock.epoch(clock.now()),
            epoch=seeds.epoch,
        )
        eager = not planner.streams or any(
            isinstance(listener, RunListener) and listener.wants_deliveries
            for listener in listeners
        )
        chains: Iterable[list[PlannedDelivery]] = (
            list(planner.chains()) if eager else planner.chains()
        )
        if receiver is not None:
            chains = _scripting(receiver, chains)
            if eager:
                chains = list(chains)
        plan = seeds.record(scenario, planner.size)
        result = await _dispatch(scenario, settings, chains, planner.size, listeners, stop, plan)
        result.truth = planner.truth
        return result


async def _dispatch(
    scenario: Scenario,
    settings: Settings,
    chains: Iterable[list[PlannedDelivery]],
    size: int,
    listeners: Sequence[DispatchListener],
    stop: asyncio.Event | None,
    plan: dict[str, Any] | None = None,
) -> RunResult:
    """Deliver the planned chains on the run core (record, run line, summary line).

    ``plan`` goes in the run line: before the first request the record holds enough to
    regenerate every planned callback (``resume`` sends those a kill kept from starting,
    whether or not they were generated yet). A list of ``chains`` is the whole plan,
    generated already; any other iterable generates each chain as the dispatcher takes
    it — a few passes of the loop ahead of its first request (:meth:`Dispatcher.
    deliver_chains` takes no more while ``concurrency`` x 4 requests are due unsent).
    """
    target = settings.target or ""
    core = RunCore(
        settings,
        planned=size,
        listeners=listeners,
        expect=scenario.expect,
        run_extra={"plan": plan} if plan is not None else None,
    )
    results: list[RunResult] = []

    def finished(result: CoreResult) -> RunResult:
        run = RunResult(
            run_id=result.run_id,
            scenario=scenario.name,
            target=target,
            record_path=result.record_path or Path(),
            outcomes=result.outcomes,
            summary=result.summary,
            expectations=result.expectations,
            planned=result.planned,
            interrupted=result.interrupted,
            wall_s=result.wall_s,
        )
        for listener in listeners:
            if isinstance(listener, RunListener):
                listener.run_finished(run)
        results.append(run)
        return run

    whole = isinstance(chains, list)
    deliveries = [item.delivery for chain in chains for item in chain] if whole else []
    try:
        async with core:
            assert core.record_path is not None
            clock = settings.clock
            info = RunInfo(
                core.run_id,
                scenario.name,
                target,
                core.record_path,
                deliveries,
                clock,
                planned=size,
            )
            for listener in listeners:
                if isinstance(listener, RunListener):
                    listener.run_started(info)
            work = core.dispatcher.deliver_chains(
                _timed(chains, clock), spawn_batch=SPAWN_BATCH if whole else STREAM_BATCH
            )
            await core.run(work, stop)
    finally:
        if core.result is not None and not results:
            finished(core.result)
    return results[0]


STREAM_BATCH = 32  # chains generated between two passes of the loop (each ~0.1 ms)


def _timed(chains: Iterable[list[PlannedDelivery]], clock: Clock) -> Iterator[list[Delivery]]:
    """The chains' deliveries, a delayed first request due ``delay`` emulated seconds after
    the run started (not after the chain was generated, which may be later)."""
    started = clock.now()
    for chain in chains:
        first = chain[0].delivery
        if first.delay > 0 and first.at is None:
            first.at = started + first.delay
        yield [item.delivery for item in chain]


# --- the built-in receiver ---------------------------------------------------------------


@contextlib.asynccontextmanager
async def _builtin_receiver(
    scenario: Scenario, options: RunOptions, secret: Secret
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
    if script is not None and script.answer is not None:
        receiver.answer_with(script.answer)
    async with receiver:
        yield receiver


def _scripting(
    receiver: Receiver, chains: Iterable[list[PlannedDelivery]]
) -> Iterator[list[PlannedDelivery]]:
    """The chains, each callback's ``respond:``/``answer:``/``answer_after:`` set on the
    built-in receiver before the dispatcher gets it."""
    for chain in chains:
        item = chain[0]
        entry, task_id = item.entry, item.delivery.callback.task_id
        if entry.respond:
            receiver.respond_for(task_id, *entry.respond)
        if entry.answer is not None or entry.answer_after is not None:
            receiver.answer_with(entry.answer, task_id, entry.answer_after)
        yield chain


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
        "url": without_password(delivery.target),
        "headers": headers,
        "body": body.decode("utf-8"),
        "fields": fields,
        "nested": _nested_fields(fields),
        "curl": curl_command(without_password(delivery.target), content_type, body),
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
    "plan_run",
    "request_preview",
]
