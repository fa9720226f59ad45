"""The one run core every mode sits on: record + ``run`` line + Dispatcher + Ctrl-C + ``summary``.

    settings = resolve(options, scenario)
    async with RunCore(settings, planned=len(deliveries), expect=scenario.expect) as core:
        await core.run(core.dispatcher.deliver_chains(chains), stop)
    core.result.summary          # exactly the record's summary line

``run``, ``send``, ``demo``, load mode, ``run --replay``, ``resume``, the mock API and the
pytest plugin all open one of these. On entry the record is opened (a fresh
``runs/<UTC time>-<name>.jsonl``, ``-2``, ``-3``... unless ``--record PATH``; ``resume``
appends to its record) and its ``run`` line (``resume``: a ``resume`` line) written, then
one :class:`~emulator.delivery.dispatch.Dispatcher` opens. :meth:`RunCore.run` waits for
the mode's work, or for ``stop`` (the CLI's first Ctrl-C), and cancels what is left. On
exit — normal, stopped, cancelled or failed — the expectations are checked and the
``summary`` line is written, always.

:func:`run_in_cli` is ``asyncio.run`` for the command line: Ctrl-C or SIGTERM sets ``stop``; the
cyclic-GC pause (:func:`~emulator.delivery.dispatch.quiet_gc`) is on for the CLI's own run
only; a library user or the pytest plugin never has the process's GC switched off.
"""

from __future__ import annotations

import asyncio
import importlib
import importlib.util
import time
import uuid
from collections.abc import Awaitable, Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

from emulator.delivery.dispatch import Dispatcher, DispatchListener, in_cli_run, quiet_gc
from emulator.delivery.results import Attempt, Outcome
from emulator.errors import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, UsageError
from emulator.record.lines import resume_line, run_line, summary_line
from emulator.record.writer import Recorder
from emulator.run.expect import (
    ExpectationResult,
    OutcomeCounts,
    broken_verdicts,
    check,
)
from emulator.run.interrupt import cancel_and_wait, stop_on_signals, until_done_or_stopped
from emulator.scenario.model import Expect
from emulator.settings import Settings, fresh_record_path

T = TypeVar("T")


def new_run_id(prefix: str = "") -> str:
    """``20240501T120000Z-3f2a9c1b``: sortable, unique enough for a record."""
    return f"{prefix}{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}-{uuid.uuid4().hex[:8]}"


class Tally(DispatchListener):
    """Counts every attempt and keeps every outcome as the dispatcher reports them — or,
    with ``keep=False`` (load mode), only counts them (:class:`OutcomeCounts`), so that a
    long run's memory does not grow with the callbacks it finished."""

    def __init__(self, keep: bool = True) -> None:
        self.attempts = 0
        self.most = 0  # the highest attempt number seen: finished or still retrying
        self.keep = keep
        self.outcomes: list[Outcome] = []
        self.counts = OutcomeCounts()  # every outcome, counted (kept or not)

    def attempt_finished(self, attempt: Attempt) -> None:
        self.attempts += 1
        if attempt.attempt > self.most:
            self.most = attempt.attempt

    def delivery_finished(self, outcome: Outcome) -> None:
        self.counts.add(outcome)
        if self.keep:
            self.outcomes.append(outcome)


@dataclass
class Prior:
    """What a resumed run had already done before this process picked it up."""

    outcomes: list[Outcome] = field(default_factory=list)
    attempts: int = 0  # attempt lines already in the record
    planned: int = 0
    pending: int = 0  # callbacks this resume picks up
    resigned: bool = False


@dataclass
class CoreResult:
    """What one run produced; ``summary`` is exactly the record's summary line."""

    run_id: str
    record_path: Path | None
    outcomes: list[Outcome]  # finished in this process, in the order they finished
    summary: dict[str, Any]
    expectations: list[ExpectationResult]
    planned: int
    interrupted: bool
    wall_s: float
    # a run that kept no outcome (load mode): the first broken ones, counted as they finished
    counted_broken: list[Outcome] = field(default_factory=list)

    @property
    def failed(self) -> list[ExpectationResult]:
        return [result for result in self.expectations if not result.ok]

    @property
    def broken(self) -> list[Outcome]:
        """Deliveries whose per-callback expectation (``expect:``) did not hold."""
        return broken_verdicts(self.outcomes) + self.counted_broken

    @property
    def exit_code(self) -> int:
        """130 stopped early, 1 an expectation failed (run or callback), 0 otherwise."""
        if self.interrupted:
            return EXIT_INTERRUPTED
        return EXIT_FAILED if self.failed or self.broken else EXIT_OK


class RunCore:
    """One run: its record, its ``run`` line, one Dispatcher, Ctrl-C, its ``summary`` line."""

    def __init__(
        self,
        settings: Settings,
        *,
        planned: int | None,
        listeners: Sequence[DispatchListener] = (),
        run_id: str | None = None,
        expect: Expect | None = None,
        expected: Mapping[str, int] | None = None,
        record: bool = True,
        resume: Prior | None = None,
        append_to: Path | None = None,
        run_extra: Mapping[str, Any] | None = None,
        keep_outcomes: bool = True,
    ) -> None:
        self.settings = settings
        self.planned = planned  # None: what was started (the mock API; load sets it)
        self.run_id = run_id or new_run_id()
        self.expect = expect
        self.expected = expected
        self.prior = resume
        self.tally = Tally(keep=keep_outcomes)  # load mode: counted, not kept
        self.listeners = [self.tally, *listeners]
        self.summary_extra: dict[str, Any] = {}
        self.extra_expectations: list[ExpectationResult] = []  # set before the run ends
        self.record_path: Path | None = None
        self._record_wanted = record
        self._append_to = append_to
        self._run_extra = dict(run_extra or {})
        self._recorder: Recorder | None = None
        self._dispatcher: Dispatcher | None = None
        self._interrupted = False
        self._started = time.perf_counter()
        self.result: CoreResult | None = None

    @property
    def dispatcher(self) -> Dispatcher:
        if self._dispatcher is None:
            raise RuntimeError("the run core is not open")
        return self._dispatcher

    @property
    def recorder(self) -> Recorder | None:
        return self._recorder

    # --- opening ------------------------------------------------------------------------

    async def __aenter__(self) -> RunCore:
        self._open_record()
        try:
            self._write_header()
            dispatcher = Dispatcher(
                policy=self.settings.policy,
                clock=self.settings.clock,
                recorder=self._recorder,
                run_id=self.run_id,
                concurrency=self.settings.concurrency,
                ssl=self.settings.tls,
                listeners=self.listeners,
                release_fields=in_cli_run(),  # the CLI's: no one reads them after
            )
            self._dispatcher = await dispatcher.__aenter__()
        except BaseException:
            if self._recorder is not None:
                self._recorder.close()
            raise
        self._started = time.perf_counter()
        return self

    def _open_record(self) -> None:
        if not self._record_wanted:
            return
        path = self._append_to or self.settings.record or fresh_record_path(self.settings.name)
        try:
            self._recorder = Recorder(path)
        except OSError as exc:
            reason = (exc.strerror or str(exc)).lower()
            raise UsageError(f"cannot write the record {path}: {reason}") from None
        self.record_path = path

    def _write_header(self) -> None:
        if self._recorder is None:
            return
        settings = self.settings
        if self.prior is not None:
            line = resume_line(
                run_id=self.run_id,
                pending=self.prior.pending,
                clock=settings.clock,
                target=settings.target,
                policy=settings.policy,
                resigned=self.prior.resigned,
            )
        else:
            line = run_line(
                run_id=self.run_id,
                scenario=settings.name,
                target=settings.target,
                encoding=settings.encoding,
                clock=settings.clock,
                policy=settings.policy,
                callbacks=self.planned,
                concurrency=settings.concurrency,
                seed=settings.seed,
                scenario_file=settings.scenario_file,
            )
            line.update(settings.extra)
            line.update(self._run_extra)
        self._recorder.write(line)
        self._recorder.flush()  # on disk before the first request, or no request at all
        self._recorder.check()

    # --- running ------------------------------------------------------------------------

    async def run(self, work: Awaitable[Any], stop: asyncio.Event | None = None) -> bool:
        """Wait for ``work``; True when ``stop`` was set first (``work`` is then cancelled).

        A record that can no longer be written (a full disk) stops the run the same way:
        nothing more is sent that could not be recorded."""
        stop = stop or asyncio.Event()
        if self._recorder is not None:
            halt = stop
            self._recorder.on_error = lambda exc: halt.set()
        future = asyncio.ensure_future(work)
        try:
            interrupted = await until_done_or_stopped(future, stop)
        except asyncio.CancelledError:
            await cancel_and_wait(future)
            self._interrupted = True
            raise
        self._interrupted = self._interrupted or interrupted
        return interrupted

    def interrupt(self) -> None:
        """Mark the run as stopped early (its summary says ``interrupted``)."""
        self._interrupted = True

    # --- closing ------------------------------------------------------------------------

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is not None and issubclass(
            exc_type, asyncio.CancelledError | KeyboardInterrupt
        ):
            self._interrupted = True
        try:
            if self._dispatcher is not None:
                await self._dispatcher.close()
        finally:
            self._dispatcher = None
            self.result = self._finish()
            if self._recorder is not None:
                self._recorder.close()
        if exc_type is None and self._recorder is not None:
            self._recorder.check()  # the one line the CLI prints (exit 2) for a full disk

    def _finish(self) -> CoreResult:
        """Check the expectations and write the summary line."""
        tally, prior = self.tally, self.prior
        outcomes = list(tally.outcomes)
        attempts = tally.attempts
        counts = tally.counts
        if prior is not None:
            counts = OutcomeCounts()
            for outcome in [*prior.outcomes, *outcomes]:
                counts.add(outcome)
            attempts = prior.attempts + tally.attempts  # the tally hears new attempts only
        planned = self.planned if prior is None else prior.planned
        if planned is None:
            planned = counts.callbacks
        observed = counts.observed(planned, attempts)
        if self._interrupted:  # callbacks cut off mid-schedule made requests too
            observed = replace(observed, max_attempts=max(observed.max_attempts, tally.most))
        # ``callbacks: N`` is met by callbacks that got an outcome, never by planned ones
        finished = replace(observed, callbacks=counts.callbacks)
        if self.expected is not None:
            expectations = [
                ExpectationResult(name, value, finished.value(name))
                for name, value in self.expected.items()
            ]
        else:
            expectations = check(self.expect, finished)
        expectations += self.extra_expectations
        summary = summary_line(
            run_id=self.run_id,
            scenario=self._run_extra.get("scenario", self.settings.name),
            callbacks=observed.callbacks,
            delivered=observed.delivered,
            lost=observed.lost,
            attempts=observed.attempts,
            max_attempts=observed.max_attempts,
            pending=planned - counts.callbacks,
            expectations=[result.to_record() for result in expectations],
            interrupted=self._interrupted,
            record=None if self.record_path is None else str(self.record_path),
            **({"resumed": True} if prior is not None else {}),
            **counts.verdicts(),
            **self.summary_extra,
        )
        if self._recorder is not None:
            self._recorder.write(summary)
        return CoreResult(
            run_id=self.run_id,
            record_path=self.record_path,
            outcomes=outcomes,
            summary=summary,
            expectations=expectations,
            planned=planned,
            interrupted=self._interrupted,
            wall_s=time.perf_counter() - self._started,
            counted_broken=[] if tally.keep else [o for _, o in tally.counts.broken],
        )


EVENT_LOOPS = ("asyncio", "uvloop")
_event_loop = "asyncio"  # the loop run_in_cli runs on (--loop)


def use_event_loop(name: str) -> None:
    """Have :func:`run_in_cli` run on ``name`` (``asyncio`` or ``uvloop``, if installed)."""
    global _event_loop
    if name not in EVENT_LOOPS:
        raise UsageError(f"--loop {name}: expected one of {', '.join(EVENT_LOOPS)}")
    if name == "uvloop" and importlib.util.find_spec("uvloop") is None:
        raise UsageError(
            "--loop uvloop: uvloop is not installed "
            "(pip install 'zego-callback-emulator[uvloop]', or pip install uvloop)"
        )
    _event_loop = name


def run_in_cli(main: Callable[[asyncio.Event], Coroutine[Any, Any, T]]) -> T:
    """``asyncio.run`` for one command: the first Ctrl-C or SIGTERM sets the ``stop`` event
    ``main`` gets (a second Ctrl-C interrupts at once), and the cyclic GC is paused for the run. The
    loop is asyncio's own, or uvloop's after ``use_event_loop("uvloop")``."""

    async def body() -> T:
        stop = asyncio.Event()
        with stop_on_signals(stop), quiet_gc():
            return await main(stop)

    factory: Callable[[], asyncio.AbstractEventLoop] | None = None
    if _event_loop == "uvloop":  # optional (the [uvloop] extra): see README, uvloop
        factory = importlib.import_module("uvloop").new_event_loop
    with asyncio.Runner(loop_factory=factory) as runner:
        return runner.run(body())
