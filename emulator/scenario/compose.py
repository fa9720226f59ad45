"""The callback entries a scenario makes: those it lists, then those its ``calls:`` generate.

    entries = scenario_entries(scenario, epoch=time.time())

A call's entries carry the call's ids, its ``delay`` (seconds into the run) and the
``timestamp`` that moment is stamped with (see :mod:`emulator.scenario.calls`). Their fake
ids come from a source seeded apart from the listed callbacks', so adding a call never
changes the payloads of the callbacks listed beside it.
"""

from __future__ import annotations

import hashlib

from emulator.events.base import Fake
from emulator.scenario.calls import plan_call
from emulator.scenario.model import ENTRY_MODELS, CallbackCommon, Scenario


def scenario_entries(scenario: Scenario, epoch: float, seed: int | None) -> list[CallbackCommon]:
    """Every callback entry of ``scenario``: the listed ones, then each call's, in order."""
    entries: list[CallbackCommon] = list(scenario.callbacks)
    if scenario.calls:
        fake = Fake(_derived_seed("calls", seed))
        for script in scenario.calls:
            for event in plan_call(script, fake, epoch):
                entry = {
                    "event": event.event,
                    **event.params,
                    "delay": event.offset,
                    "timestamp": event.timestamp,
                }
                entries.append(ENTRY_MODELS[event.event].model_validate(entry))
    return entries


def _derived_seed(purpose: str, seed: int | None) -> int | None:
    """A seed for ``purpose`` that follows ``seed`` (None stays None: random)."""
    if seed is None:
        return None
    digest = hashlib.sha256(f"{purpose}:{seed}".encode()).digest()
    return int.from_bytes(digest[:8], "big")
