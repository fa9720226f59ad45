"""A worker process: Locust's WorkerRunner, our share of the callbacks, one record shard.

    python -m emulator.swarm worker --master-host 10.0.0.1 --master-port 5557 --record-dir runs

It connects to the master, which sends ``zego_share`` (the plan and this worker's share);
the worker opens its shard, and its one Locust user (:mod:`emulator.swarm.user`) starts the
share's callbacks on time, each in a greenlet of its own. Every attempt goes to the shard
and to Locust's ``request`` event. When every callback is delivered or lost the worker
writes its summary, sends its last statistics and ``zego_done`` (its tally), and idles
until the master ends the run. Stopped early (the master quit, Ctrl-C) it writes an
interrupted summary: ``zego-emulator resume`` carries the shard's open schedules on.

Imported only in a process that gevent has patched (``python -m emulator.swarm``).
"""

from __future__ import annotations

import os
import signal
import socket
import sys
from typing import Any

import gevent
import gevent.event
import gevent.pool
from locust.env import Environment
from locust.rpc.protocol import Message
from locust.runners import WorkerRunner

from emulator.callback.model import Callback
from emulator.delivery.results import Attempt
from emulator.retry import RetryPolicy
from emulator.settings import scenario_secret
from emulator.swarm.callbacks import callback_maker
from emulator.swarm.launch import SECRET_FLAG_ENV
from emulator.swarm.plan import Share, SwarmPlan
from emulator.swarm.schedule import GeventClock, deliver
from emulator.swarm.sender import Answer, Sender
from emulator.swarm.shard import Shard
from emulator.swarm.user import ZegoCallbackUser
from emulator.term.safe import safe
from emulator.term.safe import say as terminal_say

YIELD_EVERY = 64  # callbacks started between two chances for the others to run


class AttemptFailed(Exception):
    """A request the receiver did not accept (what Locust counts as a failure)."""

    def __repr__(self) -> str:
        return str(self)  # Locust's error report shows repr(): "HTTP 500", "timeout"


class WorkerWork:
    """This worker's part of the run: the share the master sent, its shard, its callbacks."""

    def __init__(self, environment: Environment, runner: WorkerRunner, record_dir: str) -> None:
        self.environment = environment
        self.runner = runner
        self.request_event: Any = environment.events.request  # Locust's hooks are untyped
        self.record_dir = record_dir
        self.host = socket.gethostname()
        self.ready = gevent.event.Event()  # set once the share has arrived
        self.finished = False  # every callback of the share delivered or lost
        self.failure: str | None = None
        self.shard: Shard | None = None
        self.callbacks = gevent.pool.Group()  # one greenlet per callback in flight
        self.pacer: gevent.Greenlet | None = None  # starts the share's callbacks on time
        self.sender: Sender | None = None
        self.policies: dict[str, RetryPolicy] = {}  # per event (families differ)

    # --- the master's messages ----------------------------------------------------------

    def on_share(self, environment: Environment, msg: Message, **kwargs: Any) -> None:
        """``zego_share``: take the plan and this worker's share; open the shard."""
        if self.shard is not None:
            return  # a share arrives once a run; a second one is not ours to start
        try:
            plan = SwarmPlan.from_message(msg.data.get("plan"))
            share = Share.model_validate(msg.data.get("share"))
            secret = scenario_secret(plan.scenario_model(), os.environ.get(SECRET_FLAG_ENV))
            self.policy = plan.policy()  # the run's; an event family may have its own
            self.shard = Shard.open(self.record_dir, plan, share, self.policy, self.host)
        except (ValueError, OSError) as exc:
            self.fail(f"{exc}")
            return
        self.plan = plan
        self.share = share
        self.make = callback_maker(plan, share, secret.value)
        self.sender = Sender(plan.target, timeout=self.policy.timeout, concurrency=plan.concurrency)
        say(f"swarm worker {share.label}: recording to {self.shard.path}")
        self.ready.set()

    def fail(self, reason: str) -> None:
        """Tell the master this worker cannot take part (it prints the reason, exit 2)."""
        self.failure = reason
        terminal_say(f"zego-emulator swarm --worker: error: {safe(reason)}", file=sys.stderr)
        self.runner.send_message("zego_failed", {"reason": reason, "host": self.host})

    # --- the share, run by the user -----------------------------------------------------

    def run_share(self) -> None:
        """Start each callback of the share when it falls due; return once all are done.

        Called by the worker's one user; the pacing runs in a greenlet of its own, so that
        stopping the share (``zego_stop``, Ctrl-C) does not depend on Locust's user.
        """
        if self.shard is None or self.pacer is not None:
            return
        self.pacer = gevent.spawn(self._pace)
        self.pacer.join()

    def _pace(self) -> None:
        shard, plan = self.shard, self.plan
        assert shard is not None
        clock = GeventClock(plan.speed)
        for count, number in enumerate(self.share.numbers(plan.total), 1):
            due = plan.due(number)
            clock.sleep_until(due)
            callback = self.make(number)
            policy = self._policy(callback.event)
            retry = None if policy == self.policy else policy.record()
            shard.callback(callback, max(0.0, clock.now() - due) / plan.speed, retry)
            self.callbacks.spawn(self._deliver, callback, policy, clock)
            if count % YIELD_EVERY == 0:
                gevent.sleep(0)  # behind schedule it never sleeps: let due requests go out
        self.callbacks.join()
        self._finish(interrupted=False)

    def stop_share(self, *args: Any, **kwargs: Any) -> None:
        """Stop starting callbacks, end those in flight, report (``zego_stop``, Ctrl-C)."""
        if self.shard is None or self.finished:
            return
        if self.pacer is not None and self.pacer is not gevent.getcurrent():
            self.pacer.kill(block=True)
        self.callbacks.kill(block=True, timeout=5)
        self._finish(interrupted=True)

    def _finish(self, interrupted: bool) -> None:
        """The shard's summary line, the last statistics, then ``zego_done`` (in that order:
        messages to the master go down one ordered pipe)."""
        if self.shard is None or self.finished:
            return
        self.finished = True
        summary = self.shard.close(interrupted=interrupted)
        report = self.shard.tally.to_report()
        report.update(
            worker=self.share.label,
            host=self.host,
            record=summary["record"],
            interrupted=interrupted,
        )
        if interrupted:
            say(
                f"swarm worker {self.share.label}: interrupted; carry on with "
                f"zego-emulator resume {self.shard.path}"
            )
        self.runner._send_stats()
        self.runner.send_message("zego_done", report)

    def _policy(self, event: str) -> RetryPolicy:
        """The retry policy of ``event``'s callbacks (made once per event)."""
        policy = self.policies.get(event)
        if policy is None:
            policy = self.policies[event] = self.plan.policy(event)
        return policy

    def _deliver(self, callback: Callback, policy: RetryPolicy, clock: GeventClock) -> None:
        shard, sender = self.shard, self.sender
        assert shard is not None and sender is not None
        outcome = deliver(callback, sender, policy, clock, self._attempted)
        shard.outcome(outcome)

    def _attempted(self, attempt: Attempt, answer: Answer, callback: Callback) -> None:
        """One request: into the shard, and into Locust's statistics."""
        assert self.shard is not None
        self.shard.attempt(attempt)
        self.request_event.fire(
            request_type="POST",
            name=f"{attempt.event} attempt {attempt.attempt}",
            response_time=attempt.latency_ms,
            response_length=answer.length,
            exception=None if answer.ok else AttemptFailed(answer.reason),
            context={"callback_id": attempt.callback_id, "task_id": attempt.task_id},
            url=self.plan.target,
            response=None,
            start_time=attempt.sent_at,
        )

    def close(self) -> None:
        """The process is ending: whatever is still in flight stops, the shard is closed."""
        self.callbacks.kill(block=True, timeout=5)
        if self.shard is not None and not self.shard.closed:
            self.shard.close(interrupted=True)
        if self.sender is not None:
            self.sender.close()


def say(text: str) -> None:
    """One line for the person at the terminal, at once (control characters escaped)."""
    terminal_say(text)


def run_worker(master_host: str, master_port: int, record_dir: str) -> int:
    """Take part in the master's run; the exit code (0 done, 2 unusable share, 130 stopped)."""
    environment = Environment(user_classes=[ZegoCallbackUser], catch_exceptions=True)
    runner = environment.create_worker_runner(master_host, master_port)
    work = WorkerWork(environment, runner, record_dir)
    ZegoCallbackUser.work = work
    runner.register_message("zego_share", work.on_share)
    runner.register_message("zego_stop", work.stop_share)
    # Locust connects while the runner is made, before these handlers exist: the master
    # waits for this message before it sends a share (else the share could be dropped)
    runner.send_message("zego_ready", {"host": work.host})
    events: Any = environment.events  # Locust's hooks are untyped
    events.test_stop.add_listener(work.stop_share)  # the web UI's Stop button
    stopped = gevent.event.Event()

    def on_sigint() -> None:
        stopped.set()
        work.stop_share()
        events.quitting.fire(environment=environment, reverse=True)  # tells the master
        runner.quit()

    gevent.signal_handler(signal.SIGINT, on_sigint)
    gevent.signal_handler(signal.SIGTERM, on_sigint)
    try:
        runner.greenlet.join()
    finally:
        work.close()
    if work.failure is not None:
        return 2
    return 0 if work.finished and not stopped.is_set() else 130
