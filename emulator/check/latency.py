"""Case: the receiver answers well within ZEGO's timeout.

Every case's answers are timed (a ``warn`` past 1 s in any of them); this one names it:
a valid callback, answered 2xx — ``warn`` past 1 s, ``fail`` past the timeout.
"""

from __future__ import annotations

from emulator.check.context import CaseContext
from emulator.check.families import per_encoding
from emulator.check.model import Case, Chain, Probe
from emulator.wire import Encoding

FAMILY = "latency"


def _answer(context: CaseContext, case_id: str, encoding: Encoding) -> Chain:
    callback = context.sign(context.factory.procedure(status="SUCCESS"), case_id, encoding)
    return [Probe(callback, "accepted", f"a valid procedure, timed ({encoding})")]


CASES: tuple[Case, ...] = (
    Case(
        "latency.answer-in-time",
        "A callback is answered within 1 s, well before the timeout",
        "ZEGO counts an answer that comes too late as a failure and sends the callback "
        "again; slow answers turn into duplicates and, past the timeout, into lost callbacks.",
        "The handler does the work (downloads, transcoding bookkeeping, slow queries) "
        "before answering; answer 2xx first and do the work in the background.",
        per_encoding("latency.answer-in-time", _answer),
        FAMILY,
    ),
)
