"""What a swarm run is, as the master sends it to every worker, and each worker's share.

    plan = SwarmPlan(swarm_id=new_swarm_id(), target=url, rate=2000, duration=60, workers=2)
    share = Share(index=1, of=2)
    for number in share.numbers(plan.total):        # 1, 3, 5, ...
        due = plan.due(number)                        # emulated seconds after the start

The whole swarm sends ``rate x duration`` callbacks: callback ``n`` is due ``n / rate``
emulated seconds after the start and belongs to worker ``n mod workers``, so every worker
sends at ``rate / workers`` and the shares interleave into one steady stream. The plan
travels as a Locust message (plain JSON values) and is validated on arrival; it never
holds the secret — each worker signs with its own (``ZEGO_CALLBACK_SECRET`` there).

Pure: no gevent, no Locust, no asyncio delivery stack.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from dataclasses import replace
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from emulator.retry import RetryPolicy, profile_policy
from emulator.scenario.model import Scenario, event_profile
from emulator.wire import Encoding

DEFAULT_CONCURRENCY = 100  # requests in flight at most, per worker
SCENARIO_NAME = "swarm"  # the record's scenario name when no scenario file is given


def new_swarm_id() -> str:
    """``20240501T120000Z-3f2a9c1b``: sortable; each shard's run id adds ``-w<N>``."""
    return f"{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}-{uuid.uuid4().hex[:8]}"


def scenario_values(scenario: Scenario) -> dict[str, Any]:
    """A validated scenario as plain values that validate back to it (what the user gave).

    Each callback entry is dumped by its own model: the scenario's ``callbacks`` is
    declared with the common entry type, which alone would drop the event's own keys.
    """
    values = scenario.model_dump(mode="json", exclude_unset=True, exclude={"callbacks"})
    values["callbacks"] = [
        entry.model_dump(mode="json", exclude_unset=True) for entry in scenario.callbacks
    ]
    return values


class SwarmPlan(BaseModel):
    """Everything a worker needs to do its share (sent by the master; no secret in it)."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    swarm_id: str = Field(min_length=1, max_length=100)
    target: str = Field(min_length=1)
    rate: float = Field(gt=0)  # callbacks per emulated second, the whole swarm
    duration: float = Field(gt=0)  # emulated seconds of new callbacks
    speed: float = Field(default=1.0, gt=0)  # every wait divided by this
    workers: int = Field(default=1, ge=1)  # how many shares the work is cut into
    encoding: Encoding = "json"
    seed: int | None = None  # each worker seeds its factory from this and its share
    app_id: str = Field(default="", max_length=64)  # the same appid on every worker
    timeout: float | None = Field(default=None, gt=0)  # per request, real seconds
    concurrency: int = Field(default=DEFAULT_CONCURRENCY, ge=1)  # per worker
    scenario: dict[str, Any] | None = None  # a validated scenario, as JSON values
    scenario_name: str = SCENARIO_NAME

    @property
    def total(self) -> int:
        """Callbacks the whole swarm sends: ``rate x duration`` (at least one)."""
        return max(1, round(self.rate * self.duration))

    def due(self, number: int) -> float:
        """Emulated seconds from the start to callback ``number``'s first request."""
        return number / self.rate

    def scenario_model(self) -> Scenario | None:
        """The scenario the callbacks come from (None: default ``procedure`` callbacks)."""
        return None if self.scenario is None else Scenario.model_validate(self.scenario)

    def policy(self, event: str | None = None) -> RetryPolicy:
        """The retry policy of ``event``'s callbacks — its family's profile (ZEGO's RTC one
        by default) unless the scenario names one — or, without ``event``, the run's;
        ``timeout`` winning."""
        scenario = self.scenario_model()
        if scenario is not None:
            policy = scenario.retry_policy(event)
        else:
            policy = profile_policy(event_profile(event)) if event else RetryPolicy()
        return policy if self.timeout is None else replace(policy, timeout=self.timeout)

    def to_message(self) -> dict[str, Any]:
        """The plan as plain values for a Locust message."""
        return self.model_dump(mode="json")

    @classmethod
    def from_message(cls, data: Any) -> SwarmPlan:
        """The plan back from a message; ValueError (one line) when it is not one."""
        try:
            plan = cls.model_validate(data)
            plan.scenario_model()
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(part) for part in first["loc"]) or "plan"
            raise ValueError(f"the master sent an unusable plan: {where}: {first['msg']}") from None
        return plan


class Share(BaseModel):
    """Worker ``index`` of ``of`` (0-based): it sends callbacks ``index, index + of, ...``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    index: int = Field(ge=0)
    of: int = Field(ge=1)

    def numbers(self, total: int) -> range:
        """This share's callback numbers out of ``total``, in the order they fall due."""
        return range(self.index, total, self.of)

    def seed(self, seed: int | None) -> int | None:
        """This share's factory seed: distinct per share (no two workers fake the same task
        ids), the same for the same plan seed and share."""
        if seed is None:
            return None
        digest = hashlib.sha256(f"{seed}/{self.index}/{self.of}".encode()).digest()
        return int.from_bytes(digest[:8], "big")

    def nonce(self, nonce: str) -> str:
        """A factory nonce made unique across shares: ``nonce x of + index``.

        One factory never repeats a nonce at one timestamp; workers' factories could, and
        (timestamp, nonce) is what a receiver's replay check keys on.
        """
        if self.of == 1 or not nonce.isdigit():
            return nonce
        return str(int(nonce) * self.of + self.index)

    @property
    def label(self) -> str:
        """``w1``: the shard's name (1-based, as people count workers)."""
        return f"w{self.index + 1}"
