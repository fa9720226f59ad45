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
from pathlib import Path
from typing import Any

from emulator._version import __version__
from emulator.callback.model import Callback
from emulator.delivery.results import Attempt, Outcome
from emulator.record.writer import Recorder
from emulator.retry import RetryPolicy
from emulator.swarm.plan import Share, SwarmPlan
from emulator.swarm.tally import Tally


def shard_path(record_dir: str | Path, plan: SwarmPlan, share: Share) -> Path:
    """Where share ``share`` of ``plan`` records: ``<dir>/<swarm id>-w<N>.jsonl``."""
    return Path(record_dir) / f"{plan.swarm_id}-{share.label}.jsonl"


def callback_line(callback: Callback, target: str, run_id: str) -> dict[str, Any]:
    """The record's ``callback`` line: the exact body, so that ``resume`` can re-send it."""
    content_type, body = callback.body()
    return {
        "type": "callback",
        "run_id": run_id,
        "callback_id": callback.callback_id,
        "event": callback.event,
        "task_id": callback.task_id,
        "target": target,
        "delay": 0.0,
        "encoding": callback.encoding,
        "tamper": callback.tamper,
        "content_type": content_type,
        "body": body.decode("utf-8"),
    }


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
        self.tally = Tally()
        self.closed = False
        recorder.write(
            {
                "type": "run",
                "run_id": self.run_id,
                "started_at": round(time.time(), 6),
                "scenario": plan.scenario_name,
                "target": plan.target,
                "encoding": plan.encoding,
                "speed": plan.speed,
                "version": __version__,
                "callbacks": len(share.numbers(plan.total)),
                "intervals": list(policy.intervals),
                "timeout": policy.timeout,
                "concurrency": plan.concurrency,
                "swarm": {
                    "id": plan.swarm_id,
                    "worker": share.label,
                    "share": share.index,
                    "of": share.of,
                    "host": host,
                },
                "load": {"rate": plan.rate / share.of, "duration": plan.duration},
            }
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

    def callback(self, callback: Callback, behind_s: float = 0.0) -> None:
        """A callback starts (``behind_s`` real seconds after it was due): its line."""
        self.tally.started(time.time(), behind_s)
        self.recorder.write(callback_line(callback, self.plan.target, self.run_id))

    def attempt(self, attempt: Attempt) -> None:
        attempt.run_id = self.run_id
        self.tally.attempt(attempt)
        self.recorder.attempt(attempt)

    def outcome(self, outcome: Outcome) -> None:
        outcome.run_id = self.run_id
        self.tally.outcome(outcome)
        self.recorder.outcome(outcome)

    def summary_line(self, interrupted: bool) -> dict[str, Any]:
        """The ``summary`` line: the record's four counts plus what a swarm adds."""
        report = self.tally.to_report()
        planned = len(self.share.numbers(self.plan.total))
        return {
            "type": "summary",
            "run_id": self.run_id,
            "callbacks": report["callbacks"],
            "delivered": report["delivered"],
            "lost": report["lost"],
            "attempts": report["attempts"],
            "expectations": [],
            "scenario": self.plan.scenario_name,
            "pending": planned - report["delivered"] - report["lost"],
            "interrupted": interrupted,
            "ok": not interrupted,
            "record": str(self.path),
            "swarm": {"id": self.plan.swarm_id, "worker": self.share.label},
            "answers": report["answers"],
        }

    def close(self, interrupted: bool) -> dict[str, Any]:
        """Write the summary line and close the file; returns the summary (once)."""
        summary = self.summary_line(interrupted)
        if not self.closed:
            self.closed = True
            self.recorder.write(summary)
            self.recorder.close()
        return summary
