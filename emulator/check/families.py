"""Helpers the case families share: one chain of probes per configured encoding."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from emulator.check.context import CaseContext
from emulator.check.model import Chain
from emulator.wire import Encoding

ChainBuilder = Callable[[CaseContext, str, Encoding], Chain]


def per_encoding(case_id: str, build: ChainBuilder) -> Callable[[CaseContext], Sequence[Chain]]:
    """A case's probe builder: ``build`` once for every encoding the user configured."""

    def chains(context: CaseContext) -> list[Chain]:
        return [build(context, case_id, encoding) for encoding in context.encodings]

    return chains
