"""Cases: every other event of the catalogue is acknowledged — discovered, not listed.

One case per event in :mod:`emulator.events` (``compose``, ``snapshot``, and the room and
stream events as they are added), so a new event module is covered without a new case.
Events of another product (a ``zim.`` prefix) belong to that product's suite.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from emulator.check.context import CaseContext
from emulator.check.model import Case, Chain, Probe
from emulator.events import EVENTS
from emulator.events.base import EventSpec

FAMILY = "event"
COVERED_ELSEWHERE = frozenset({"procedure", "zim.before_send_msg"})  # own families


def product_of(event: str) -> str:
    """``rtc`` for an unprefixed event name, else the prefix (``zim.room_create``: zim)."""
    prefix, dot, _ = event.partition(".")
    return prefix if dot else "rtc"


def _event_chains(event: str, case_id: str) -> Callable[[CaseContext], Sequence[Chain]]:
    def chains(context: CaseContext) -> list[Chain]:
        built = []
        for encoding in context.encodings:
            callback = context.sign(context.factory.build(event), case_id, encoding)
            built.append([Probe(callback, "accepted", f"a valid {event} ({encoding})")])
        return built

    return chains


def event_cases(product: str = "rtc") -> tuple[Case, ...]:
    """A case per catalogue event of ``product`` (procedure excepted)."""
    cases = []
    for name, spec in EVENTS.items():
        if name in COVERED_ELSEWHERE or product_of(name) != product:
            continue
        case_id = f"event.{name}"
        hint = (
            "The handler routes only the events it knows and answers 4xx/500 to the "
            "others, or reads fields of another event (task_id, status) that this one "
            "does not carry."
        )
        if _pascal_case(spec):
            hint = (
                f"{name} spells every key in PascalCase — Timestamp, Nonce, Signature "
                "too: a check that reads only timestamp/nonce/signature refuses it (401). "
                "Read either spelling; the signature is computed the same way."
            )
        cases.append(
            Case(
                case_id,
                f"A valid {name} callback is acknowledged ({spec.title})",
                f"If your callback URL is configured for {name}, ZEGO sends it there too; "
                "an unknown or unhandled event must still get a 2xx, or it is retried "
                "until lost.",
                hint,
                _event_chains(name, case_id),
                FAMILY,
            )
        )
    return tuple(cases)


def _pascal_case(spec: EventSpec[Any]) -> bool:
    """True when the event's wire keys are PascalCase (``Signature``, not ``signature``)."""
    return any(base.__name__ == "PascalCallback" for base in spec.model.__mro__)
