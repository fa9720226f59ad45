"""Planning a run: the scenario turned into deliveries, generated just ahead of sending.

    planner = Planner(scenario, settings)
    planner.size                   # deliveries the run will make, known before any is made
    for chain in planner.chains(): # each callback generated, signed and encoded as taken
        ...

Callback entries are expanded by ``repeat`` (ids ``cb-000001``... in listed order, so a
seed gives the same payloads whatever the ``order``); each is generated, signed, tampered,
renamed and given its extra ``fields`` (repeat copies from the entry's template,
:mod:`emulator.run.templates`), then put in delivery ``order``. A callback with
``duplicates: N`` is followed by N deliveries of the very same body. The ``sessions:``
callbacks follow (:mod:`emulator.run.sessions`). :func:`plan` is the whole list, for
``show``, ``--dry-run`` and ``resume``; :class:`PlanSeeds` is what the record's ``run``
line holds so that ``resume`` regenerates any callback byte for byte.
"""

from __future__ import annotations

import random
import secrets
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from emulator.callback.factory import CallbackFactory, RenameError, wire_fields
from emulator.callback.model import DUPLICATE_MARK, Callback
from emulator.callback.sessions import session_model
from emulator.delivery.dispatch import (
    Delivery,
)
from emulator.delivery.results import AnswerReader
from emulator.delivery.verdict import Expectation
from emulator.errors import UsageError
from emulator.events import EVENTS
from emulator.events.base import CallbackModel, EventParams
from emulator.retry import RetryPolicy
from emulator.run.sessions import SESSION_GAP
from emulator.run.templates import TemplateMaker
from emulator.scenario.compose import scenario_entries
from emulator.scenario.model import CallbackCommon, Scenario
from emulator.sessions import SessionEvent, Truth, in_order, plan_sessions, truth
from emulator.settings import RunOptions, Secret, Settings, resolve, scenario_secret

if TYPE_CHECKING:
    pass


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
