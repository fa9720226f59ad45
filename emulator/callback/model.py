"""Callback: one callback exactly as it will be delivered (wire fields already signed)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Literal, get_args

from emulator.wire import Encoding, WireFields, encode

Tamper = Literal["none", "bad_signature", "stale_timestamp", "missing_signature"]
DUPLICATE_MARK = "-dup"  # cb-000003-dup1 is the first duplicate delivery of cb-000003
TAMPERS: tuple[Tamper, ...] = get_args(Tamper)


@dataclass
class Callback:
    """A callback ready to send: its id, event, task id and signed wire fields."""

    callback_id: str
    event: str
    task_id: str
    fields: WireFields  # JSON values: strings, and numbers/arrays/objects where ZEGO types them
    encoding: Encoding = "json"
    tamper: Tamper = "none"
    _body: tuple[str, bytes] | None = field(default=None, repr=False, compare=False)

    def body(self) -> tuple[str, bytes]:
        """``(content_type, body_bytes)`` in this callback's encoding (computed once)."""
        if self._body is None:
            self._body = encode(self.fields, self.encoding)
        return self._body

    @property
    def original_id(self) -> str:
        """The id of the callback this one duplicates (its own id when it is no duplicate)."""
        return self.callback_id.split(DUPLICATE_MARK, 1)[0]

    def with_fields(self, fields: WireFields) -> Callback:
        """The same callback carrying other wire fields (e.g. re-signed for a retry)."""
        return replace(self, fields=fields, _body=None)
