"""A worker's record shard: a record file of its own, in the record format of every run.

    shard = Shard.open(record_dir, plan, share, host="box-2")
    shard.callback(callback)        # before its first request (resume re-sends these bytes)
    shard.attempt(attempt)          # every request
    shard.outcome(outcome)          # every callback's fate
    shard.close(interrupted=False)  # the summary line

``<record-dir>/<swarm id>-w<N>.jsonl``, run id ``<swarm id>-w<N>``; its ``run`` line says
which worker wrote it (``swarm: {id, worker, share, of, host}``), how many callbacks the
share planned, the retry intervals, timeout and speed — everything ``zego-emulator resume``
reads to carry a killed worker's schedules on, and ``report`` to merge the shards (one run
each, totals across them). No secret is ever written.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from emulator.callback.model import Callback
from emulator.delivery.results import Attempt, Outcome
from emulator.record.lines import run_line, summary_line
from emulator.record.writer import Recorder
from emulator.retry import RetryPolicy
from emulator.swarm.plan import Share, SwarmPlan
from emulator.swarm.tally import Tally

if TYPE_CHECKING:
    from emulator.clock import Clock


def shard_path(record_dir: str | Path, plan: SwarmPlan, share: Share) -> Path:
    """Where share ``share`` of ``plan`` records: ``<dir>/<swarm id>-w<N>.jsonl``."""
    return Path(record_dir) / f"{plan.swarm_id}-{share.label}.jsonl"


@dataclass(frozen=True)
class _Speed:
    """What the record's run line reads of a clock: its speed (the gevent side has its own
    clock; the asyncio clocks stay out of this process)."""

    speed: float


class Shard:
    """The record lines of one worker's share, and its :class:`Tally`."""

    def __init__(
        self,
        recorder: Recorder,
        plan: SwarmPlan,
        share: Share,
        policy: RetryPolicy,
        host: str,
    ) -> None:
        self.recorder = recorder
        self.plan = plan
        self.share = share
        self.run_id = f"{plan.swarm_id}-{share.label}"
        self.planned = len(share.numbers(plan.total))
        self.tally = Tally()
        self.closed = False
        self.swarm = {
            "id": plan.swarm_id,
            "worker": share.label,
            "share": share.index,
            "of": share.of,
            "host": host,
        }
        recorder.write(
            run_line(
                run_id=self.run_id,
                scenario=plan.scenario_name,
                target=plan.target,
                encoding=plan.encoding,
                clock=cast("Clock", _Speed(plan.speed)),
                policy=policy,
                callbacks=self.planned,
                concurrency=plan.concurrency,
                seed=plan.seed,
                swarm=self.swarm,
                load={"rate": plan.rate / share.of, "duration": plan.duration},
            )
        )

    @classmethod
    def open(
        cls, record_dir: str | Path, plan: SwarmPlan, share: Share, policy: RetryPolicy, host: str
    ) -> Shard:
        """A new shard file in ``record_dir`` (OSError when it cannot be written)."""
        return cls(Recorder(shard_path(record_dir, plan, share)), plan, share, policy, host)

    @property
    def path(self) -> Path:
        return self.recorder.path

    def callback(
        self, callback: Callback, behind_s: float = 0.0, retry: Mapping[str, Any] | None = None
    ) -> None:
        """A callback starts (``behind_s`` real seconds after it was due): its line, with
        ``retry`` when its policy is not the run's (another event family's)."""
        self.tally.started(time.time(), behind_s)
        self.recorder.callback(callback, self.plan.target, 0.0, self.run_id, retry)

    def attempt(self, attempt: Attempt) -> None:
        attempt.run_id = self.run_id
        self.tally.attempt(attempt)
        self.recorder.attempt(attempt)

    def outcome(self, outcome: Outcome) -> None:
        outcome.run_id = self.run_id
        self.tally.outcome(outcome)
        self.recorder.outcome(outcome)

    def summary(self, interrupted: bool) -> dict[str, Any]:
        """The ``summary`` line: the record's counts plus the worker and its answers."""
        report = self.tally.to_report()
        return summary_line(
            run_id=self.run_id,
            scenario=self.plan.scenario_name,
            callbacks=report["callbacks"],
            delivered=report["delivered"],
            lost=report["lost"],
            attempts=report["attempts"],
            max_attempts=self.tally.max_attempts,
            pending=self.planned - report["delivered"] - report["lost"],
            expectations=[],
            interrupted=interrupted,
            record=str(self.path),
            swarm={"id": self.plan.swarm_id, "worker": self.share.label},
            answers=report["answers"],
        )

    def close(self, interrupted: bool) -> dict[str, Any]:
        """Write the summary line and close the file; returns the summary (once)."""
        summary = self.summary(interrupted)
        if not self.closed:
            self.closed = True
            self.recorder.write(summary)
            self.recorder.close()
        return summary
