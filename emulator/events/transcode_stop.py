"""``transcode_stop``: a cloud single-stream transcoding task stopped — zego-events.md §5.2.

PascalCase keys, as transcode_start: ``Event``, ``Appid``, ``Timestamp``, ``Nonce``,
``Signature``, ``TaskId``, ``UserId``, ``Sequence`` (JSON number), ``Status``
(``TranscodeStopped``; ZEGO's own example says ``TranscodeStarted``, which ``status:``
can reproduce) and ``StopReason`` (JSON number: ``0`` the user stopped it, ``1`` the task
failed and ended by itself).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from emulator.events.base import Common, EventSpec, Fake, row, text
from emulator.events.transcode_start import (
    PascalCallback,
    PascalParams,
    check_pascal,
    describe_pascal,
    pascal_common,
)
from emulator.wire import WireFields, WireValue

STOP_REASONS = {"0": "stopped by the user", "1": "the task failed and ended"}


class TranscodeStopCallback(PascalCallback):
    """A ``transcode_stop`` callback: every documented field, typed as on the wire."""

    event: Literal["transcode_stop"] = "transcode_stop"
    stop_reason: int

    def event_fields(self) -> WireFields:
        return {"StopReason": self.stop_reason}


class TranscodeStopParams(PascalParams):
    """Scenario keys of a ``transcode_stop`` callback; anything absent is faked."""

    status: Literal["TranscodeStopped", "TranscodeStarted"] = "TranscodeStopped"
    stop_reason: Literal[0, 1] = 0


def generate(fake: Fake, params: TranscodeStopParams, common: Common) -> TranscodeStopCallback:
    """A realistic ``transcode_stop`` callback; every given parameter wins."""
    shared = pascal_common(fake, params, common)
    return TranscodeStopCallback.model_validate(
        {**shared, "status": params.status, "stop_reason": params.stop_reason}
    )


def describe(fields: Mapping[str, WireValue]) -> list[str]:
    """Readable lines for a receiver's display of a ``transcode_stop`` callback."""
    reason = text(fields, "StopReason", "(none)")
    return [*describe_pascal(fields), row("reason", f"{reason} ({STOP_REASONS.get(reason, '?')})")]


def check(fields: Mapping[str, WireValue]) -> list[str]:
    """Problems a complete ``transcode_stop`` body cannot have."""
    problems = check_pascal(fields)
    if "StopReason" not in fields:
        problems.append("missing field StopReason")
    return problems


SPEC: EventSpec[TranscodeStopParams] = EventSpec(
    name="transcode_stop",
    title="cloud transcoding stopped",
    model=TranscodeStopCallback,
    params=TranscodeStopParams,
    generate=generate,
    describe=describe,
    check=check,
    task_field="TaskId",
)
