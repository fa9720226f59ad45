"""Running scenarios: plan the deliveries, dispatch them, record everything, check ``expect``.

    scenario = load_scenario("scenarios/retry-then-success.yaml")
    result = await execute(scenario, RunOptions(target="http://127.0.0.1:8080/cb", virtual=True))
    assert result.exit_code == 0, [r.describe() for r in result.failed]

The flow of one run (one scenario):

1. A :class:`~emulator.run.planner.Planner` turns the scenario into
   :class:`~emulator.delivery.dispatch.Delivery` objects: callback entries expanded by
   ``repeat`` (ids ``cb-000001``... in listed order, so a seed gives the same payloads
   whatever the ``order``), each generated, signed,
   tampered, renamed and given its extra ``fields``, then put in delivery ``order``. A
   callback with ``duplicates: N`` is followed by N deliveries of the very same body
   (``cb-000003-dup1``...), each starting once the one before it finished. The
   ``sessions:`` callbacks follow (:mod:`emulator.run.sessions`), in their ``order``.
   Its skeleton (entries, sessions, size) is known at once; the callbacks are generated
   as the dispatcher takes them, just ahead of their first request, wherever the
   delivery order is the generation order (the planner says where it is not).
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
import shlex
from collections.abc import AsyncIterator, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from emulator.callback.model import DUPLICATE_MARK, Tamper
from emulator.clock import SPAWN_BATCH, Clock
from emulator.delivery.dispatch import (
    USER_AGENT,
    Delivery,
    DispatchListener,
    delivery_chains,
)
from emulator.delivery.results import Outcome
from emulator.delivery.transport import request_headers
from emulator.errors import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, UsageError
from emulator.redact import without_password
from emulator.run.core import CoreResult, RunCore
from emulator.run.expect import ExpectationResult, broken_verdicts
from emulator.run.planner import (
    PlannedDelivery,
    Planner,
    PlanSeeds,
    plan,
    plan_entries,
    plan_run,
)
from emulator.scenario.model import Scenario
from emulator.sessions import Truth
from emulator.settings import RunOptions, Secret, Settings, resolve
from emulator.wire import WireValue, decode

if TYPE_CHECKING:
    from emulator.servers.receiver import Receiver

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
