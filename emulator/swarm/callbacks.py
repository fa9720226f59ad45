"""A worker's callbacks: callback ``n`` of the swarm, generated, signed and encoded.

    make = callback_maker(plan, share, callback_secret)
    callback = make(7)          # cb-000008: the scenario's entry 7 mod entries, signed

As load mode does: with a scenario, callback ``n`` is built from its entry ``n mod
entries`` (``repeat`` ignored: the rate and duration say how many); without one, a
``procedure`` SUCCESS callback. Ids count across the swarm (``cb-000001`` is callback 0,
whichever worker sends it), so merged shards never share one. Pure.
"""

from __future__ import annotations

from collections.abc import Callable

from emulator.callback.factory import CallbackFactory
from emulator.callback.model import Callback
from emulator.events.base import CallbackModel
from emulator.scenario.model import CallbackCommon
from emulator.swarm.plan import Share, SwarmPlan


def callback_maker(
    plan: SwarmPlan, share: Share, callback_secret: str
) -> Callable[[int], Callback]:
    """The function giving this share's callback ``number`` (see module docstring)."""
    factory = CallbackFactory(seed=share.seed(plan.seed), app_id=plan.app_id or None)
    scenario = plan.scenario_model()
    entries: list[CallbackCommon] = list(scenario.callbacks) if scenario is not None else []
    encoding = plan.encoding

    def unique(model: CallbackModel) -> CallbackModel:
        return model.model_copy(update={"nonce": share.nonce(model.nonce)})

    def make(number: int) -> Callback:
        callback_id = f"cb-{number + 1:06d}"
        if not entries:
            model = unique(factory.procedure())
            return factory.callback(
                model, callback_secret, encoding=encoding, callback_id=callback_id
            )
        entry = entries[number % len(entries)]
        event = str(getattr(entry, "event", "procedure"))
        model = unique(factory.build(event, entry.event_params()))
        return factory.callback(
            model,
            callback_secret,
            encoding=encoding,
            tamper=entry.tamper,
            rename=entry.rename,
            extra_fields=entry.fields,
            callback_id=callback_id,
        )

    return make
