"""``mix_stop``: a stream-mixing task stopped — zego-events.md §4.2.

The fields of mix_start without the URL lists, all Strings: ``seq``, ``task_id``,
``channel_id``, ``publish_id``, ``mix_url``, ``mix_stream_alias``. ZEGO sends no callback
when the stop request fails or the mix ends abnormally.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from emulator.events import _rtc
from emulator.events.base import CallbackModel, Common, EventSpec, Fake
from emulator.events.mix_start import MixParams, describe_mix, mix_common
from emulator.wire import WireFields, WireValue

FIELDS = ("seq", "task_id", "channel_id", "publish_id", "mix_url", "mix_stream_alias")


class MixStopCallback(CallbackModel):
    """A ``mix_stop`` callback: every documented field (all strings)."""

    event: Literal["mix_stop"] = "mix_stop"
    seq: str
    channel_id: str
    publish_id: str
    mix_url: str
    mix_stream_alias: str

    def event_fields(self) -> WireFields:
        return {name: getattr(self, name) for name in FIELDS}


class MixStopParams(MixParams):
    """Scenario keys of a ``mix_stop`` callback; anything absent is faked."""


def generate(fake: Fake, params: MixStopParams, common: Common) -> MixStopCallback:
    """A realistic ``mix_stop`` callback; every given parameter wins."""
    shared = mix_common(fake, params, common)
    return MixStopCallback.model_validate(
        {"appid": common.appid, "timestamp": common.timestamp, "nonce": common.nonce, **shared}
    )


def check(fields: Mapping[str, WireValue]) -> list[str]:
    """Problems a complete ``mix_stop`` body cannot have."""
    return _rtc.required(fields, FIELDS)


SPEC: EventSpec[MixStopParams] = EventSpec(
    name="mix_stop",
    title="stream mixing stopped",
    model=MixStopCallback,
    params=MixStopParams,
    generate=generate,
    describe=describe_mix,
    check=check,
)
