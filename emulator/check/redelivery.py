"""Cases: the same signed callback arriving again is acknowledged (2xx).

ZEGO re-sends the identical body (same timestamp, nonce and signature) whenever it did
not see a 2xx in time, and may deliver a callback it already delivered. A receiver that
refuses the repeat as a replay makes ZEGO retry it until it is lost.
"""

from __future__ import annotations

from dataclasses import replace

from emulator.callback.model import DUPLICATE_MARK
from emulator.check.context import CaseContext
from emulator.check.families import per_encoding
from emulator.check.model import Case, Chain, Probe
from emulator.retry import ZEGO_INTERVALS
from emulator.wire import Encoding

FAMILY = "redelivery"
DUPLICATE_AFTER = 60.0  # emulated seconds between a delivery and its duplicate


def _again(context: CaseContext, case_id: str, encoding: Encoding, gap: float) -> Chain:
    model = context.factory.procedure(status="SUCCESS")
    first = context.sign(model, case_id, encoding)
    again = replace(first, callback_id=f"{first.callback_id}{DUPLICATE_MARK}1")
    return [
        Probe(first, "accepted", f"a valid procedure ({encoding})"),
        Probe(again, "accepted", f"the identical body again {gap:g} s later ({encoding})", gap),
    ]


def _retry(context: CaseContext, case_id: str, encoding: Encoding) -> Chain:
    return _again(context, case_id, encoding, ZEGO_INTERVALS[0])


def _duplicate(context: CaseContext, case_id: str, encoding: Encoding) -> Chain:
    return _again(context, case_id, encoding, DUPLICATE_AFTER)


CASES: tuple[Case, ...] = (
    Case(
        "redelivery.retry-after-missed-answer",
        "A retry of the identical body is acknowledged",
        "When ZEGO's request times out or its connection drops before your answer "
        "arrives, it re-sends the identical body 2 s after the first request. Your "
        "receiver may already have processed it.",
        "The receiver stores (timestamp, nonce) as seen on arrival and answers 409 to any "
        "repeat; acknowledge a repeat of an accepted callback (2xx) without processing "
        "it twice, and refuse only a different body under a seen nonce.",
        per_encoding("redelivery.retry-after-missed-answer", _retry),
        FAMILY,
    ),
    Case(
        "redelivery.duplicate-delivery",
        "A duplicate delivery of an accepted callback is acknowledged",
        "Delivery is at least once: ZEGO delivers a callback again when it missed the "
        "answer, a minute later or more.",
        "The replay check refuses duplicates (409/400) instead of acknowledging them; "
        "or the handler is not idempotent and fails on a task it has seen.",
        per_encoding("redelivery.duplicate-delivery", _duplicate),
        FAMILY,
    ),
)
