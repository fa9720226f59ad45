"""Load mode: callbacks at a steady rate, a bounded window of them in flight at once.

    result = await run_load("http://127.0.0.1:8080/cb", rate=200, duration=30, window=100,
                            callback_secret="...")
    print(result.achieved_rate, result.latency_ms(99))

Callback ``i`` is due ``i / rate`` emulated seconds after the start (``rate x duration``
callbacks in all, so the count never depends on timing): its slot, which the record keeps
as its first request's ``scheduled_at``, so ``sent_at - scheduled_at`` is how far behind
the rate schedule the sender went. Every slot due by now starts at once (a batch per pass
of the loop) in the Dispatcher's paced batch: a schedule each, no task or future
(:mod:`emulator.run.pacing` paces). Each goes through the ``Dispatcher``, so a failed
request is retried on ZEGO's schedule while new callbacks keep coming, as ZEGO does: this
is a load test of a receiver that behaves like ZEGO. A scenario entry's callbacks retry on
its own policy, as ``run`` gives it (its event family's profile unless the scenario names
one).

``window`` bounds the requests in flight (first requests and retries alike); a new
callback starts only while fewer than ``window`` first requests are unanswered, so a slow
receiver slows the sender down and the achieved rate drops below the asked one — the
report says so. A sender that fell behind catches up: each answer on a full window starts
the next due callback at once. Receiver latency is taken over every request that got an
HTTP answer.

``zego-emulator run --rate R --duration D [--window N]`` runs :func:`load_from_cli`.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from array import array
from asyncio import FIRST_COMPLETED
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from emulator.callback.factory import CallbackFactory
from emulator.callback.model import Callback
from emulator.clock import Clock, ScaledClock
from emulator.delivery.dispatch import Dispatcher, DispatchListener
from emulator.delivery.results import Attempt
from emulator.delivery.schedules import Paced
from emulator.delivery.verdict import Expectation
from emulator.errors import UsageError
from emulator.record.writer import Recorder
from emulator.retry import RetryPolicy
from emulator.run.expect import thresholds
from emulator.run.pacing import Sender
from emulator.wire import Encoding

if TYPE_CHECKING:
    from emulator.scenario.model import CallbackCommon, Scenario
    from emulator.settings import RunOptions, Settings

DEFAULT_WINDOW = 100
LOAD_NAME = "load"


@dataclass
class LoadResult:
    """What a load run did: how fast it sent, what came back, how fast the receiver answered."""

    target: str
    rate: float  # asked, callbacks per emulated second
    duration: float  # asked, emulated seconds
    window: int
    callbacks: int = 0  # started
    delivered: int = 0
    lost: int = 0
    requests: int = 0
    send_seconds: float = 0.0  # emulated seconds from the first start to the last, plus 1/rate
    behind_max: float = 0.0  # emulated seconds the sender fell behind its schedule at most
    window_full_s: float = 0.0  # real seconds the sender waited for a full window to free
    wall_seconds: float = 0.0
    interrupted: bool = False
    # ms, each answered request: 8 bytes each (an array, not a list of float objects)
    latencies: array[float] = field(default_factory=lambda: array("d"), repr=False)
    answers: Counter[str] = field(default_factory=Counter)  # "200", "500", "timeout", ...
    run_id: str = ""
    record_path: Path | None = None
    _ordered: list[float] = field(default_factory=list, init=False, repr=False, compare=False)

    @property
    def achieved_rate(self) -> float:
        """Callbacks started per emulated second (equals ``rate`` when the sender kept up)."""
        return self.callbacks / self.send_seconds if self.send_seconds > 0 else 0.0

    @property
    def pending(self) -> int:
        """Callbacks started but neither delivered nor lost (only after an interruption)."""
        return self.callbacks - self.delivered - self.lost

    def latency_ms(self, percent: float) -> float | None:
        """Receiver latency percentile (nearest rank) in ms; None when nothing answered."""
        if not self.latencies:
            return None
        ordered = self._ordered
        if len(ordered) != len(self.latencies):  # sorted once per count, not per percentile
            ordered = self._ordered = sorted(self.latencies)
        rank = max(1, math.ceil(percent / 100 * len(ordered)))
        return ordered[min(rank, len(ordered)) - 1]

    def to_summary(self) -> dict[str, Any]:
        """The ``load`` part of the record's summary line (and of ``--json``)."""

        def ms(percent: float) -> float | None:
            value = self.latency_ms(percent)
            return None if value is None else round(value, 3)

        return {
            "rate": self.rate,
            "duration": self.duration,
            "window": self.window,
            "achieved_rate": round(self.achieved_rate, 3),
            "behind_max_s": round(self.behind_max, 6),
            "window_full_s": round(self.window_full_s, 3),
            "requests": self.requests,
            "answers": dict(sorted(self.answers.items())),
            "latency_ms": {"p50": ms(50), "p95": ms(95), "p99": ms(99)},
            "wall_s": round(self.wall_seconds, 3),
        }

    def describe(self) -> list[str]:
        """The report's lines for a terminal."""

        def ms(percent: float) -> str:
            value = self.latency_ms(percent)
            return "-" if value is None else f"{value:.1f} ms"

        kept_up = ""
        if self.achieved_rate < 0.99 * self.rate:
            kept_up = "  (the sender fell behind"
            if self.window_full_s >= 0.5 * self.wall_seconds:  # waiting on answers, mostly
                kept_up += f": the window of {self.window} was full for "
                kept_up += f"{self.window_full_s:.1f} s, waiting on the receiver's answers"
            kept_up += ")"
        answers = ", ".join(f"{key} x{count}" for key, count in sorted(self.answers.items()))
        lines = [
            f"load -> {self.target}: {self.rate:g}/s for {self.duration:g} s, window {self.window}",
            f"  callbacks {self.callbacks}, achieved {self.achieved_rate:.1f}/s{kept_up}",
            f"  delivered {self.delivered}, lost {self.lost}"
            + (f", pending {self.pending}" if self.pending else ""),
            f"  requests {self.requests}: {answers or 'none'}",
            f"  receiver latency p50 {ms(50)}  p95 {ms(95)}  p99 {ms(99)}  "
            f"(over {len(self.latencies)} answered requests)",
            f"  took {self.wall_seconds:.1f} s (retries included)",
        ]
        if self.interrupted:
            lines.append("  interrupted: the sender stopped early")
        if self.record_path is not None:
            lines.append(f"  record: {self.record_path}")
        return lines


class _Tally(DispatchListener):
    """Counts what the dispatcher reports; a callback's first answer frees its window slot.
    (Delivered and lost come from the paced batch: only this sender's callbacks.)"""

    def __init__(self, result: LoadResult) -> None:
        self.result = result
        self.sender: Sender | None = None
        self.answers: dict[int | str | None, int] = {}  # status or error -> requests

    def attempt_finished(self, attempt: Attempt) -> None:
        result = self.result
        result.requests += 1
        status = attempt.status
        if status is not None:
            result.latencies.append(attempt.latency_ms)
        key = attempt.error or status
        answers = self.answers
        answers[key] = answers.get(key, 0) + 1
        if attempt.attempt == 1 and self.sender is not None:
            self.sender.answered()

    def count_answers(self) -> None:
        """Add the answers counted so far to the result's (``"200"``, ``"timeout"``, ...)."""
        for key, count in self.answers.items():
            self.result.answers[str(key)] += count
        self.answers.clear()


def procedure_callbacks(
    factory: CallbackFactory, callback_secret: str, encoding: Encoding = "json"
) -> Callable[[int], Callback]:
    """The default callback maker: a ``procedure`` (SUCCESS) callback per number, each a
    copy of one template with a fresh identity (:mod:`emulator.run.templates`)."""
    from emulator.run.templates import TemplateMaker

    template = TemplateMaker(factory, "procedure", None, callback_secret, encoding=encoding)
    return lambda number: template()


async def run_load(
    target: str,
    *,
    rate: float,
    duration: float,
    callback_secret: str,
    window: int = DEFAULT_WINDOW,
    encoding: Encoding = "json",
    policy: RetryPolicy | None = None,
    clock: Clock | None = None,
    factory: CallbackFactory | None = None,
    make_callback: Callable[[int], Callback] | None = None,
    expectations: Sequence[Expectation | None] = (),
    policies: Sequence[RetryPolicy | None] = (),
    recorder: Recorder | None = None,
    run_id: str = "",
    concurrency: int | None = None,
    ssl: Any = True,
    listeners: Sequence[DispatchListener] = (),
    stop: asyncio.Event | None = None,
    dispatcher: Dispatcher | None = None,
) -> LoadResult:
    """Send ``rate x duration`` callbacks ``1/rate`` apart, at most ``window`` requests in flight.

    Times are emulated seconds of ``clock`` (real seconds on the default clock). Callback
    ``i`` is judged by ``expectations[i % len]`` and retried on ``policies[i % len]`` (None:
    the run's policy), when given. Returns once every started callback is delivered or
    lost, or — when ``stop`` is set — once the sender stopped and the callbacks still in
    flight were cancelled. ``dispatcher``: an open one to send through (the run core's);
    its clock is used.
    """
    if not rate > 0 or not math.isfinite(rate):
        raise ValueError("rate must be a number greater than 0")
    if not duration > 0 or not math.isfinite(duration):
        raise ValueError("duration must be a number greater than 0")
    if window < 1:
        raise ValueError("window must be at least 1")
    make_callback = make_callback or procedure_callbacks(
        factory or CallbackFactory(), callback_secret, encoding
    )
    result = LoadResult(target, rate, duration, window, run_id=run_id)
    tally = _Tally(result)
    if dispatcher is None:
        context: contextlib.AbstractAsyncContextManager[Dispatcher] = Dispatcher(
            policy=policy,
            clock=clock or ScaledClock(),
            recorder=recorder,
            run_id=run_id,
            concurrency=concurrency or window,
            ssl=ssl,
            listeners=[tally, *listeners],
        )
    else:
        dispatcher.listeners.insert(0, tally)
        result.run_id = dispatcher.run_id
        context = contextlib.nullcontext(dispatcher)
    started_wall = time.perf_counter()
    async with context as dispatcher:
        paced = dispatcher.paced()
        pacer = tally.sender = Sender(
            dispatcher,
            paced,
            rate=rate,
            duration=duration,
            window=window,
            target=target,
            make_callback=make_callback,
            expectations=expectations,
            policies=policies,
        )
        sender = asyncio.ensure_future(pacer.run())
        stopper = asyncio.ensure_future(stop.wait() if stop is not None else asyncio.Event().wait())
        try:
            everything: list[asyncio.Future[Any]] = [sender, stopper, paced.future]
            await asyncio.wait(everything, return_when=FIRST_COMPLETED)
            _raise_failure(paced)
            if sender.done() and not stopper.done():
                sender.result()
                paced.seal()
                draining: list[asyncio.Future[Any]] = [paced.future, stopper]
                await asyncio.wait(draining, return_when=FIRST_COMPLETED)
                _raise_failure(paced)
            result.interrupted = stopper.done()
        finally:
            paced.cancel()
            for future in (sender, stopper):
                future.cancel()
            await asyncio.gather(sender, stopper, paced.future, return_exceptions=True)
        result.delivered, result.lost = paced.delivered, paced.lost
    tally.count_answers()
    result.callbacks = pacer.number
    result.send_seconds = pacer.send_seconds
    result.behind_max = pacer.behind_max
    result.window_full_s = pacer.window_full_s
    result.wall_seconds = time.perf_counter() - started_wall
    return result


def _raise_failure(paced: Paced) -> None:
    """Raise what failed the batch (a listener's or the recorder's error), if anything did."""
    if paced.future.done() and not paced.future.cancelled():
        paced.future.result()


# --- the command ---------------------------------------------------------------------------


def load_from_cli(
    options: RunOptions,
    *,
    rate: float,
    duration: float,
    window: int | None = None,
    scenario_paths: Sequence[str] = (),
    max_lost: int | None = None,
    max_p99_ms: float | None = None,
) -> tuple[LoadResult, dict[str, Any]]:
    """``zego-emulator run --rate R --duration D`` on the run core: its result and summary.

    Flags in ``options`` win over the (optional, single) scenario file, which supplies the
    target, encoding, seed, retry policy and the callback entries used in turn. Settings
    are resolved (and checked) the way ``run`` resolves them.
    """
    from emulator.run.core import RunCore, run_in_cli
    from emulator.settings import resolve

    if len(scenario_paths) > 1:
        raise UsageError("run --rate takes at most one scenario file")
    if not rate > 0 or not duration > 0:
        raise UsageError("run --rate and --duration must both be greater than 0")
    if window is not None and window < 1:
        raise UsageError("run --window must be at least 1")
    source = scenario_paths[0] if scenario_paths else None
    scenario = _load_one(source) if source is not None else None
    if not (options.target or (scenario.target if scenario is not None else None)):
        raise UsageError("run --rate needs a target: give --target URL or a scenario with target:")
    settings = resolve(options, scenario, source=source, name=None if scenario else LOAD_NAME)
    if options.concurrency is None:  # load mode: the window bounds requests in flight
        settings = replace(settings, concurrency=window or DEFAULT_WINDOW)
    factory = CallbackFactory(seed=settings.seed, app_id=settings.app_id)
    expectations: list[Expectation | None] = []
    policies: list[RetryPolicy | None] = []
    if scenario is not None:
        make = _scenario_callbacks(scenario, factory, settings.secret.value, settings.encoding)
        entries: list[CallbackCommon] = list(scenario.callbacks)
        expectations = [entry.expectation() for entry in entries]
        policies = entry_policies(settings, scenario, entries)
    else:
        make = procedure_callbacks(factory, settings.secret.value, settings.encoding)
    window = window or DEFAULT_WINDOW
    planned = max(1, round(rate * duration))
    core = RunCore(
        settings,
        planned=planned,
        expect=scenario.expect if scenario is not None else None,
        run_extra={"load": {"rate": rate, "duration": duration, "window": window}},
        keep_outcomes=False,  # counted: a long load run's memory must not grow with it
    )
    assert settings.target is not None
    target = settings.target

    async def main(stop: asyncio.Event) -> LoadResult:
        async with core:
            result = LoadResult(target, rate, duration, window)

            async def send() -> None:
                nonlocal result
                result = await run_load(
                    target,
                    rate=rate,
                    duration=duration,
                    callback_secret=settings.secret.value,
                    window=window,
                    make_callback=make,
                    expectations=expectations,
                    policies=policies,
                    dispatcher=core.dispatcher,
                    stop=stop,
                )

            stopped = await core.run(send(), stop)
            if stopped or result.interrupted:  # the core may cancel the sender first
                result.interrupted = True
                core.interrupt()
            result.record_path = core.record_path
            core.summary_extra["load"] = result.to_summary()
            core.extra_expectations = thresholds(
                lost=result.lost,
                p99_ms=result.latency_ms(99),
                max_lost=max_lost,
                max_p99_ms=max_p99_ms,
            )
        return result

    result = run_in_cli(main)
    assert core.result is not None
    return result, core.result.summary


def entry_policies(
    settings: Settings, scenario: Scenario, entries: Sequence[CallbackCommon]
) -> list[RetryPolicy | None]:
    """Each entry's own retry policy, as ``run`` gives it (its event family's profile unless
    the scenario names one, ``--timeout`` applied); None where it is the run's own."""
    policies: dict[str, RetryPolicy | None] = {}
    for entry in entries:
        event = str(getattr(entry, "event", "procedure"))
        if event not in policies:
            own = settings.event_policy(scenario, event)
            policies[event] = None if own == settings.policy else own
    return [policies[str(getattr(entry, "event", "procedure"))] for entry in entries]


def _load_one(path: str) -> Scenario:
    from emulator.scenario.reader import load_scenario

    return load_scenario(path)


def _scenario_callbacks(
    scenario: Scenario, factory: CallbackFactory, callback_secret: str, encoding: Encoding
) -> Callable[[int], Callback]:
    """Callback ``i`` is a copy of the scenario's entry ``i mod entries`` (repeat ignored):
    its template, generated once as ``run`` generates it (the entry's ``timestamp:``/
    ``nonce:`` when it fixes them), with a fresh identity (:mod:`emulator.run.templates`)."""
    from emulator.run.templates import TemplateMaker

    entries: list[CallbackCommon] = list(scenario.callbacks)
    if not entries:
        raise UsageError(f"scenario {scenario.name!r} has no callbacks to send")
    makers = [
        TemplateMaker(
            factory,
            str(getattr(entry, "event", "procedure")),
            entry.event_params(),
            callback_secret,
            encoding=encoding,
            tamper=entry.tamper,
            rename=entry.rename,
            extra_fields=entry.fields,
            timestamp=entry.timestamp,
            nonce=entry.nonce,
        )
        for entry in entries
    ]
    return lambda number: makers[number % len(makers)]()
