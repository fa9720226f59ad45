"""The Locust user of a swarm: one a worker, starting that worker's share of callbacks.

Locust's users are a closed model — a user waits for its request before the next one — and
a callback's schedule can wait 62 s. So the user does not send: it starts each callback
of its share when it falls due and hands it to a greenlet of its own (its first request
and its retries), then moves on. The arrival rate is the plan's, whatever the receiver
does; what the receiver does shows in the statistics and in the shard.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import gevent
from locust import User, constant, task

if TYPE_CHECKING:
    from emulator.swarm.worker import WorkerWork

IDLE_S = 1.0  # how often a user whose share is done looks again (it only waits for the end)


class ZegoCallbackUser(User):
    """Starts the worker's share of callbacks on time (see module docstring)."""

    work: ClassVar[WorkerWork | None] = None  # set by the worker process before it connects
    wait_time = constant(0)

    @task
    def send_share(self) -> None:
        """Wait for the share, run it once, then idle until the master ends the run."""
        work = type(self).work
        if work is None or work.finished or work.failure is not None:
            gevent.sleep(IDLE_S)
            return
        work.ready.wait()
        work.run_share()
