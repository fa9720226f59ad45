"""The Dispatcher: sends each callback with ZEGO's retry schedule over one connection pool.

    async with Dispatcher(policy=RetryPolicy(), clock=ScaledClock(10)) as dispatcher:
        outcome = await dispatcher.deliver(Delivery(callback, "http://127.0.0.1:8080/cb"))

Per callback: up to ``policy.max_attempts`` requests (the delivery's own policy, e.g.
its event family's profile, else the dispatcher's); each retry ``retry_gap`` emulated
seconds after the previous request *started*, never before it finished. A policy that
retries on no answer only (``cloud-recording``) takes a non-2xx answer as final. Success is any
2xx; redirects are not followed. ``concurrency`` bounds requests in flight across all
callbacks (schedules waiting for a retry hold no slot). Every attempt goes to the
recorder and the listeners the moment it finishes. Nothing the receiver does raises out
of here: failures become the attempt's ``error`` (see :func:`classify_error`).

A schedule waiting for its next request is a timer on the clock (``Clock.call_at``) and a
small :class:`~emulator.delivery.schedules.Schedule` — no task or coroutine per waiting
schedule, so 100,000 pending cost little beyond their bodies (``python -m bench scale``).
When a timer fires the schedule joins a ready queue; at most ``concurrency`` worker tasks
send the ready requests, each taking the next ready one when its request is done. On real
time a worker with nothing ready waits idle for the next one rather than ending (a fresh
task per request was ~4% of a burst's CPU); on a virtual clock it ends, so that time moves.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import gc
import ssl
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Protocol

from emulator._version import __version__
from emulator.callback.model import Callback
from emulator.clock import SPAWN_BATCH, Clock, ScaledClock
from emulator.delivery.results import AnswerReader, Attempt, AttemptError, Outcome
from emulator.delivery.schedules import Batch, Paced, Schedule, Single
from emulator.delivery.transport import Answer, CallbackClient, SendError
from emulator.delivery.verdict import Expectation
from emulator.retry import RetryPolicy

RESPONSE_READ_CAP = 64 * 1024  # bytes of a response body we read at most
LOOKAHEAD_PER_SLOT = 4  # due requests waiting for a worker, per concurrency slot, at most
LOOKAHEAD_MIN = 256


class RecordSink(Protocol):
    """Where the dispatcher writes record lines (:class:`emulator.record.writer.Recorder`)."""

    def callback(
        self,
        callback: Callback,
        target: str,
        delay: float,
        run_id: str,
        retry: Mapping[str, Any] | None = None,
        expect: str | None = None,
    ) -> None: ...

    def attempt(self, attempt: Attempt) -> None: ...

    def outcome(self, outcome: Outcome) -> None: ...


RESPONSE_EXCERPT = 1024  # bytes of it kept in the record
USER_AGENT = f"zego-callback-emulator/{__version__}"


@dataclass(slots=True)
class Delivery:
    """One callback to deliver to ``target``, ``delay`` emulated seconds from now."""

    callback: Callback
    target: str
    delay: float = 0.0
    resign: Callable[[Callback], Callback] | None = None  # fresh timestamp/nonce per retry
    resumed: Resumed | None = None  # picked up from a record: continue, do not restart
    # a synchronous hook's answer reader: (status, error, body) -> the attempt's decision
    read_answer: AnswerReader | None = None
    policy: RetryPolicy | None = None  # its own retry policy (its event family's), if not the run's
    expect: Expectation | None = None  # judged when the delivery ends (Outcome.verdict)
    # the emulated instant the first request is due (load mode's slot), instead of delay
    at: float | None = None


@dataclass(slots=True)
class Resumed:
    """Where an interrupted delivery stood (``zego-emulator resume``).

    Its ``callback`` line is already in the record; ``history`` are the attempts already
    made (in order, maybe none) and ``since_last`` the emulated seconds from the last of
    them to now. Numbering, offsets and the next gap continue from them.
    """

    history: list[Attempt] = field(default_factory=list)
    since_last: float = 0.0


class DispatchListener:
    """Hooks a live view or test can override; the dispatcher calls them as things happen."""

    def attempt_started(self, callback: Callback, attempt: int) -> None:
        """Request ``attempt`` of ``callback`` is about to go out."""

    def attempt_finished(self, attempt: Attempt) -> None:
        """A request finished (whatever the result)."""

    def retry_scheduled(self, callback: Callback, attempt: int, at: float) -> None:
        """Request ``attempt`` of ``callback`` will go out at emulated time ``at``."""

    def delivery_finished(self, outcome: Outcome) -> None:
        """The callback was delivered or lost."""


def classify_error(exc: BaseException) -> AttemptError:
    """The record's ``error`` value for an exception raised while sending (one boundary).

    The transport names what went wrong, timeouts included (:class:`SendError`).
    Anything else would be a bug in the transport: it still becomes an outcome.
    """
    if isinstance(exc, SendError):
        return exc.kind
    if isinstance(exc, TimeoutError):
        return "timeout"
    return "protocol"


ERROR_DETAIL_LIMIT = 300  # characters of an error's reason kept in the attempt line


def error_detail(exc: BaseException) -> str:
    """The reason behind an attempt's ``error``, one printable line (``TLS with host:
    certificate verify failed: self-signed certificate``, ``no answer within 5 s``)."""
    text = str(exc) or type(exc).__name__
    text = " ".join(text.split())  # no line breaks or control whitespace
    text = "".join(ch if ch.isprintable() else "?" for ch in text)
    return text[:ERROR_DETAIL_LIMIT]


class Dispatcher:
    """Delivers callbacks with the retry policy over one pool of keep-alive connections."""

    def __init__(
        self,
        *,
        policy: RetryPolicy | None = None,
        clock: Clock | None = None,
        recorder: RecordSink | None = None,
        run_id: str = "",
        concurrency: int = 100,
        ssl: ssl.SSLContext | bool = True,
        listeners: Sequence[DispatchListener] = (),
        release_fields: bool = False,
    ) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self.policy = policy or RetryPolicy()
        self.clock: Clock = clock or ScaledClock()
        self.recorder = recorder
        self.run_id = run_id
        self.concurrency = concurrency
        self.listeners = list(listeners)
        # drop each callback's fields once its body is encoded and recorded, unless it is
        # re-signed per retry (the CLI's runs: nobody reads them after; a library caller
        # may, so off by default)
        self.release_fields = release_fields
        self._ssl = ssl
        self._client: CallbackClient | None = None
        self._ready: collections.deque[Schedule] = collections.deque()  # due, no worker yet
        self._workers: set[asyncio.Future[None]] = set()  # at most `concurrency`
        # workers waiting for a ready schedule (real time only): each future gets the
        # schedule to send, or None when the dispatcher closes
        self._idle: list[asyncio.Future[Schedule | None]] = []
        self._closing = False
        self._batches: set[Batch | Single | Paced] = set()  # what callers wait for
        # requests due with no worker free before deliver_chains takes no more chains
        self.lookahead = max(LOOKAHEAD_MIN, LOOKAHEAD_PER_SLOT * concurrency)
        self._room_waiters: list[asyncio.Event] = []  # deliver_chains waiting for room
        # real time needs no timer for a request due now; a virtual clock does, to hold
        # time still until the request's worker has joined the clock
        self._direct = isinstance(self.clock, ScaledClock)

    async def __aenter__(self) -> Dispatcher:
        self._closing = False
        self._client = CallbackClient(
            user_agent=USER_AGENT,
            tls=self._ssl,
            read_cap=RESPONSE_READ_CAP,
            max_idle=self.concurrency,
        )
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        self._closing = True
        for batch in list(self._batches):
            batch.cancel()
        idle, self._idle = self._idle, []
        for waiter in idle:
            if not waiter.done():
                waiter.set_result(None)
        if self._workers:
            await asyncio.gather(*self._workers, return_exceptions=True)
        if self._client is not None:
            self._client.close()
            self._client = None

    def start(self, delivery: Delivery) -> asyncio.Future[Outcome]:
        """Start delivering one callback; the future's result is its Outcome.

        Nothing waits in a task meanwhile: the schedule is a timer on the clock until its
        request is due. Cancelling the future stops the delivery (a request in flight is
        abandoned, and recorded no further).
        """
        single = Single(self, delivery)
        self._batches.add(single)
        single.begin()
        return single.future

    def paced(self) -> Paced:
        """A batch to add deliveries to one at a time (:meth:`Paced.add`), as a load sender
        does: no future per delivery; its ``future`` is done once it is sealed and every
        delivery ended. Cancelled on :meth:`close` like every batch."""
        paced = Paced(self)
        self._batches.add(paced)
        return paced

    async def deliver(self, delivery: Delivery) -> Outcome:
        """Send one callback until a 2xx or the retries run out; the Outcome says which."""
        return await self.start(delivery)

    async def deliver_all(self, deliveries: Iterable[Delivery]) -> list[Outcome]:
        """Deliver every callback concurrently; outcomes in the order given."""
        chains = await self.deliver_chains([delivery] for delivery in deliveries)
        return [chain[0] for chain in chains]

    async def deliver_in_turn(self, deliveries: Iterable[Delivery]) -> list[Outcome]:
        """Deliver one after another, each starting as the previous one finishes.

        (Duplicates of a callback go this way.) Every ``callback`` line of the chain is
        recorded at its start, so that ``resume`` knows the deliveries a kill kept from
        starting.
        """
        return (await self.deliver_chains([list(deliveries)]))[0]

    async def deliver_chains(
        self, chains: Iterable[Sequence[Delivery]], spawn_batch: int = SPAWN_BATCH
    ) -> list[list[Outcome]]:
        """Deliver every chain concurrently, each one in turn (see :func:`delivery_chains`).

        ``chains`` is taken lazily, ``spawn_batch`` at a time with a pass of the loop in
        between, so that requests already due go out meanwhile (time holds still on a
        virtual clock while they start) — and no further while :attr:`lookahead` requests
        are due with no worker free, so that a generator of chains produces each one just
        ahead of its first request rather than all of them up front.
        """
        loop = asyncio.get_running_loop()
        batch = Batch([], loop.create_future(), self)
        self._batches.add(batch)
        ready = self._ready
        lookahead = self.lookahead
        try:
            async with self.clock.participant():
                for count, chain in enumerate(chains, 1):
                    batch.add(chain)
                    if len(ready) >= lookahead:
                        if not await self._room(batch):
                            break  # failed or cancelled meanwhile
                    elif count % spawn_batch == 0:
                        await asyncio.sleep(0)
                batch.sealed = True
                batch.settle()
                await asyncio.sleep(0)
            return await batch.future
        finally:
            batch.cancel()

    async def _room(self, batch: Batch) -> bool:
        """Wait until at most half of :attr:`lookahead` requests are due with no worker;
        False when ``batch`` ended meanwhile (failed or cancelled)."""
        if batch.future.done():
            return False
        room = asyncio.Event()

        def wake(_: object) -> None:
            room.set()

        self._room_waiters.append(room)
        batch.future.add_done_callback(wake)
        try:
            await room.wait()
        finally:
            batch.future.remove_done_callback(wake)
            if room in self._room_waiters:
                self._room_waiters.remove(room)
        return not batch.future.done()

    def _make_room(self) -> None:
        """Wake the chain takers waiting for room once the due requests are few enough."""
        if len(self._ready) <= self.lookahead // 2:
            for room in self._room_waiters:
                room.set()
            self._room_waiters.clear()

    def _announce(self, delivery: Delivery) -> None:
        """Record the delivery's ``callback`` line (not for one picked up from a record)."""
        if self.recorder is not None and delivery.resumed is None:
            own = None if delivery.policy is None else delivery.policy.record()
            self.recorder.callback(
                delivery.callback,
                delivery.target,
                delivery.delay,
                self.run_id,
                retry=own,
                expect=delivery.expect.label if delivery.expect is not None else None,
            )
        if self.release_fields and delivery.resign is None:
            delivery.callback.release_fields()

    # --- the schedules: timers on the clock, a bounded pool of workers -----------------------

    def _begin(self, schedule: Schedule, announced: bool) -> None:
        """Set a schedule going: its first (or, resumed, its next) request is timed."""
        clock = self.clock
        delivery = schedule.delivery
        policy = delivery.policy or self.policy
        if not announced:
            self._announce(delivery)
        outcome = schedule.outcome
        schedule.scheduled = (
            delivery.at if delivery.at is not None else clock.now() + max(0.0, delivery.delay)
        )
        resumed = delivery.resumed
        if resumed is not None and resumed.history:  # carry on after the attempts made
            done = resumed.history
            outcome.history.extend(done)
            outcome.delivered = done[-1].ok
            previous_sent = clock.now() - resumed.since_last
            schedule.previous_sent = previous_sent
            schedule.first_sent = previous_sent - done[-1].offset_s
            gap = policy.retry_gap(len(done))
            schedule.number = len(done) + 1
            if gap is None or outcome.delivered or not policy.retries_after(done[-1].status):
                self._finish(schedule)
                return
            schedule.scheduled = previous_sent + gap
        self._wait(schedule)

    def _wait(self, schedule: Schedule) -> None:
        """Time the schedule's next request (at once when it is due already)."""
        self._notify_scheduled(schedule.callback, schedule.number, schedule.scheduled)
        if self._direct and schedule.scheduled <= self.clock.now():
            self._ready.append(schedule)
            self._pump()
        else:
            schedule.timer = self.clock.call_at(schedule.scheduled, schedule.due)

    def _due(self, schedule: Schedule) -> None:
        schedule.timer = None
        if not schedule.cancelled:
            self._ready.append(schedule)
            self._pump()

    def _pump(self) -> None:
        """Hand the ready schedules to idle workers, then start workers for the rest, up to
        ``concurrency`` requests in flight."""
        ready = self._ready
        idle = self._idle
        while ready and idle:
            waiter = idle.pop()  # the most recent: its connection is the warmest
            if waiter.done():  # its worker was cancelled while idle
                continue
            schedule = ready.popleft()
            if schedule.cancelled:
                idle.append(waiter)
                continue
            waiter.set_result(schedule)
        while ready and len(self._workers) < self.concurrency:
            schedule = ready.popleft()
            if schedule.cancelled:
                continue
            worker = asyncio.ensure_future(self._work(schedule))
            self._workers.add(worker)
            worker.add_done_callback(self._worker_done)
        if self._room_waiters:
            self._make_room()

    def _worker_done(self, worker: asyncio.Future[None]) -> None:
        self._workers.discard(worker)
        self._pump()

    async def _work(self, schedule: Schedule | None) -> None:
        """Send ready schedules' requests one after another until none is ready."""
        current = asyncio.current_task()
        async with self.clock.participant():
            while schedule is not None:
                if schedule.cancelled:  # stopped after it was handed to this worker
                    schedule = await self._next_or_idle()
                    continue
                schedule.worker = current
                try:
                    await self._attempt(schedule)
                except asyncio.CancelledError:
                    if not schedule.cancelled:
                        raise
                    return  # its delivery was stopped: this worker is done
                except BaseException as exc:  # a listener's or recorder's bug: tell the waiter
                    schedule.worker = None
                    schedule.batch.fail(exc)
                    return
                schedule.worker = None
                schedule = await self._next_or_idle()
            # gone before it leaves the clock: a timer that fires as it leaves starts another
            self._workers.discard(current)

    async def _next_or_idle(self) -> Schedule | None:
        """The next ready schedule; on real time, when none is ready, the one that next
        becomes ready (None: end this worker)."""
        schedule = self._next_ready()
        if schedule is not None or not self._direct or self._closing:
            return schedule
        waiter: asyncio.Future[Schedule | None] = asyncio.get_running_loop().create_future()
        self._idle.append(waiter)
        return await waiter

    def _next_ready(self) -> Schedule | None:
        ready = self._ready
        if self._room_waiters:
            self._make_room()
        while ready:
            schedule = ready.popleft()
            if not schedule.cancelled:
                return schedule
        return None

    async def _attempt(self, schedule: Schedule) -> None:
        """The schedule's next request, recorded; then its next wait, or its end.

        The request itself never raises: every receiver failure becomes the attempt's
        ``error`` (and ``error_detail``)."""
        clock = self.clock
        delivery = schedule.delivery
        policy = delivery.policy or self.policy
        number = schedule.number
        callback = schedule.callback
        if number > 1 and delivery.resign is not None:
            callback = schedule.callback = delivery.resign(callback)
        sent = clock.now()
        for listener in self.listeners:
            listener.attempt_started(callback, number)
        client = self._client
        if client is None:
            raise RuntimeError("Dispatcher is not open: use 'async with Dispatcher(...)'")
        content_type, body = callback.body()
        answer = Answer()
        error: AttemptError | None = None
        detail: str | None = None
        started = time.perf_counter()
        try:
            await client.post(delivery.target, content_type, body, answer, policy.timeout)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # every receiver failure becomes an outcome
            error, detail = classify_error(exc), error_detail(exc)
        ended = time.perf_counter()
        status = answer.status
        first_sent = schedule.first_sent
        if first_sent is None:
            first_sent = schedule.first_sent = sent
        previous_sent = schedule.previous_sent
        attempt = Attempt(  # by position, in Attempt's field order (a third of the keywords' cost)
            callback.callback_id,
            callback.event,
            callback.task_id,
            number,
            clock.epoch(schedule.scheduled),
            clock.epoch(sent),
            sent - first_sent,
            None if previous_sent is None else sent - previous_sent,
            status,
            error,
            (ended - started) * 1000,
            answer.body[:RESPONSE_EXCERPT].decode("utf-8", errors="replace"),
            self.run_id,
            None,
            detail,
        )
        if delivery.read_answer is not None:
            attempt.decision = delivery.read_answer(status, error, answer.body)
        schedule.previous_sent = sent
        outcome = schedule.outcome
        outcome.history.append(attempt)
        self._notify_attempt(attempt)
        if _quiet_gc.holders:
            _quiet_gc.tick(ended)
        if error is None and status is not None and 200 <= status <= 299:  # attempt.ok
            outcome.delivered = True
            self._finish(schedule)
            return
        gap = policy.retry_gap(number)
        if gap is None or number >= policy.max_attempts or not policy.retries_after(status):
            outcome.delivered = False  # out of retries, or an answer taken as final
            self._finish(schedule)
            return
        schedule.number = number + 1
        schedule.scheduled = sent + gap
        self._wait(schedule)

    def _finish(self, schedule: Schedule) -> None:
        outcome = schedule.outcome
        expect = schedule.delivery.expect
        if expect is not None:
            outcome.verdict = expect.judge(outcome, schedule.callback.tamper)
        if self.recorder is not None:
            self.recorder.outcome(outcome)
        for listener in self.listeners:
            listener.delivery_finished(outcome)
        schedule.batch.finished(schedule)

    def _notify_scheduled(self, callback: Callback, number: int, at: float) -> None:
        for listener in self.listeners:
            listener.retry_scheduled(callback, number, at)

    def _notify_attempt(self, attempt: Attempt) -> None:
        if self.recorder is not None:
            self.recorder.attempt(attempt)
        for listener in self.listeners:
            listener.attempt_finished(attempt)


class _QuietGC:
    """While held (:func:`quiet_gc`: the CLI's own runs, never a library user's or the
    pytest plugin's), the cyclic GC stays out of the schedule's way.

    What exists when the first one opens is frozen out of collection (``gc.freeze``) and
    automatic collection is off; a full collection runs at most once every
    ``COLLECT_EVERY`` seconds, between two attempts (:meth:`tick`), so that a bug that made
    cycles could not grow memory for long. Restored when the last holder lets go.

    Why: delivering makes no cyclic garbage — 3,000 requests to an in-process receiver,
    then ``gc.collect()``: 0 objects — so automatic collections only re-scan live
    schedules. With 10,000 pending at --speed 10 they paused the loop 10–70 ms a dozen
    times a run: p99 lateness 40–70 ms with them, 3 ms without (``python -m bench
    lateness``).
    """

    COLLECT_EVERY = 60.0  # seconds

    def __init__(self) -> None:
        self.holders = 0
        self.was_enabled = True
        self.frozen_before = False  # someone else froze objects: leave them frozen
        self.next_collect = 0.0

    def hold(self) -> None:
        if self.holders == 0:
            self.was_enabled = gc.isenabled()
            self.frozen_before = gc.get_freeze_count() > 0
            gc.freeze()
            gc.disable()
            self.next_collect = time.perf_counter() + self.COLLECT_EVERY
        self.holders += 1

    def tick(self, now: float) -> None:
        """Collect if the last collection is ``COLLECT_EVERY`` seconds old (``now``: the
        ``time.perf_counter()`` of the attempt that just ended)."""
        if self.holders and now >= self.next_collect:
            gc.collect()
            self.next_collect = time.perf_counter() + self.COLLECT_EVERY

    def release(self) -> None:
        self.holders -= 1
        if self.holders == 0:
            if not self.frozen_before:
                gc.unfreeze()
            if self.was_enabled:
                gc.enable()


_quiet_gc = _QuietGC()


def in_cli_run() -> bool:
    """True inside :func:`quiet_gc`: the process is the emulator's own command line."""
    return _quiet_gc.holders > 0


@contextlib.contextmanager
def quiet_gc() -> Iterator[None]:
    """Keep the cyclic GC out of the schedule's way while inside (see :class:`_QuietGC`).

    Only for a process that is the emulator (the CLI): it switches the process's GC off.
    """
    _quiet_gc.hold()
    try:
        yield
    finally:
        _quiet_gc.release()


def delivery_chains(deliveries: Iterable[Delivery]) -> list[list[Delivery]]:
    """Deliveries grouped so each callback's duplicates follow it in turn (first-seen order)."""
    chains: dict[str, list[Delivery]] = {}
    for delivery in deliveries:
        chains.setdefault(delivery.callback.original_id, []).append(delivery)
    return list(chains.values())
