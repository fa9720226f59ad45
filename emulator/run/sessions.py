"""A scenario's ``sessions:`` as deliveries: planned, turned into callbacks, put in ``order``.

The callbacks are generated in the order the changes happened (so a seed gives the same
payloads whatever the ``order``), then delivered in ``order``: the n-th session callback's
first request goes out ``n x SESSION_GAP`` emulated seconds into the run, so they arrive
in that order and any retry (2 s later at least) lands after callbacks planned behind it —
a stream_close refused once arrives after the re-publish's stream_create.
"""

from __future__ import annotations

from dataclasses import dataclass

from emulator.callback.factory import CallbackFactory
from emulator.callback.model import Callback
from emulator.callback.sessions import session_model
from emulator.events.base import CallbackModel
from emulator.scenario.model import Scenario
from emulator.sessions import SessionEvent, Truth, in_order, plan_sessions, truth
from emulator.wire import Encoding

SESSION_GAP = 0.1  # emulated seconds between two session callbacks' first requests


@dataclass(frozen=True)
class SessionCallback:
    """One session callback to deliver: signed, its model (for re-signing) and its delay."""

    callback: Callback
    model: CallbackModel
    event: SessionEvent
    delay: float


@dataclass(frozen=True)
class SessionRun:
    """The session callbacks of a scenario, in delivery order, and the truth they describe."""

    callbacks: list[SessionCallback]
    truth: Truth


def plan_session_callbacks(
    scenario: Scenario,
    factory: CallbackFactory,
    callback_secret: str,
    encoding: Encoding,
    seed: int | None,
    start_ms: int,
) -> SessionRun:
    """Plan ``scenario.sessions`` from ``start_ms`` (Unix ms) and sign their callbacks."""
    planned = plan_sessions(scenario.sessions, seed, start_ms)
    built: dict[int, tuple[Callback, CallbackModel]] = {}
    for event in planned.events:
        model = session_model(factory, event)
        built[id(event)] = (factory.callback(model, callback_secret, encoding), model)
    ordered = in_order(planned.events, scenario.order, seed)
    callbacks = [
        SessionCallback(*built[id(event)], event, index * SESSION_GAP)
        for index, event in enumerate(ordered)
    ]
    return SessionRun(callbacks, truth(planned.world))
