"""One callback's schedule in a greenlet: ZEGO's retries, divided by the speed.

    clock = GeventClock(speed=10)
    outcome = deliver(callback, sender, policy, clock, on_attempt=report)

As the asyncio Dispatcher does it: up to ``policy.max_attempts`` requests, each retry
``policy.retry_gap(n)`` emulated seconds after the previous request *started* (never before
it finished); success is any 2xx; lost once the gaps run out (ZEGO's RTC profile: 2, 4,
8, 16, 32 s, so at most 6 requests), or at an answer the policy does not retry (a
profile that retries only when no answer came). Each call blocks only its own greenlet,
so a worker runs thousands of them side by side while its user keeps starting callbacks.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import gevent

from emulator.callback.model import Callback
from emulator.delivery.results import Attempt, Outcome
from emulator.retry import RetryPolicy
from emulator.swarm.sender import Answer, Sender


class GeventClock:
    """Emulated seconds: real time (monotonic) times ``speed`` since the clock was made."""

    def __init__(self, speed: float = 1.0) -> None:
        if not speed > 0:
            raise ValueError("speed must be greater than 0")
        self.speed = speed
        self._start_mono = time.monotonic()
        self._start_epoch = time.time()

    def now(self) -> float:
        return (time.monotonic() - self._start_mono) * self.speed

    def epoch(self, emulated: float) -> float:
        """Unix time of an emulated instant (what the record stores)."""
        return self._start_epoch + emulated / self.speed

    def sleep_until(self, emulated: float) -> None:
        """Block this greenlet until the emulated instant (at once when it is past)."""
        remaining = (emulated - self.now()) / self.speed
        if remaining > 0:
            gevent.sleep(remaining)


AttemptHook = Callable[[Attempt, Answer, Callback], None]


def deliver(
    callback: Callback,
    sender: Sender,
    policy: RetryPolicy,
    clock: GeventClock,
    on_attempt: AttemptHook,
) -> Outcome:
    """Send ``callback`` until a 2xx or the retries run out; ``on_attempt`` sees each request."""
    outcome = Outcome(callback.callback_id, callback.event, callback.task_id, False)
    scheduled = clock.now()
    first_sent: float | None = None
    previous_sent: float | None = None
    for number in range(1, policy.max_attempts + 1):
        clock.sleep_until(scheduled)
        with sender.slots:  # as the Dispatcher: a request's time starts once it has a slot
            sent = clock.now()
            answer = sender.send(callback)
        first_sent = sent if first_sent is None else first_sent
        attempt = Attempt(
            callback_id=callback.callback_id,
            event=callback.event,
            task_id=callback.task_id,
            attempt=number,
            scheduled_at=clock.epoch(scheduled),
            sent_at=clock.epoch(sent),
            offset_s=sent - first_sent,
            gap_s=None if previous_sent is None else sent - previous_sent,
            status=answer.status,
            error=answer.error,
            latency_ms=answer.latency_ms,
            response_excerpt=answer.excerpt,
        )
        previous_sent = sent
        outcome.history.append(attempt)
        on_attempt(attempt, answer, callback)
        if attempt.ok:
            outcome.delivered = True
            break
        gap = policy.retry_gap(number)
        if gap is None or not policy.retries_after(attempt.status):
            break  # out of retries, or an answer this policy takes as final
        scheduled = sent + gap
    return outcome
