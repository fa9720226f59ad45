"""Callback: one callback exactly as it will be delivered (wire fields already signed)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from json.encoder import encode_basestring
from typing import Any, Literal, NoReturn, get_args

from emulator.wire import Encoding, WireFields, WireValue, encode

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
    _literal: str | None = field(default=None, repr=False, compare=False)

    def body(self) -> tuple[str, bytes]:
        """``(content_type, body_bytes)`` in this callback's encoding (computed once)."""
        if self._body is None:
            self._body = encode(self.fields, self.encoding)
        return self._body

    def body_literal(self) -> str:
        """The body's text as a JSON string, quotes included (the record's ``body``).

        A literal made with the body (:meth:`set_body`) is handed out once and forgotten:
        the callback line is written once, and a callback waiting for its request should
        not hold its body twice. Later calls escape the body again."""
        literal, self._literal = self._literal, None
        if literal is None:
            literal = encode_basestring(self.body()[1].decode("utf-8"))
        return literal

    def set_body(self, content_type: str, body: bytes, literal: str) -> None:
        """Take a body made for these fields (a template's: the bytes encode() would
        write) and its text as a JSON string, instead of encoding them."""
        self._body = (content_type, body)
        self._literal = literal

    @property
    def original_id(self) -> str:
        """The id of the callback this one duplicates (its own id when it is no duplicate)."""
        return self.callback_id.split(DUPLICATE_MARK, 1)[0]

    def release_fields(self) -> None:
        """Keep only the encoded body: the wire fields dict is dropped (it is most of a
        waiting callback's memory after its body). Reading ``fields`` afterwards raises.
        The body's record text goes too (a run with no record never takes it)."""
        self._literal = None
        if not isinstance(self.fields, ReleasedFields):
            self.body()
            self.fields = ReleasedFields(self.callback_id)

    def with_fields(self, fields: WireFields) -> Callback:
        """The same callback carrying other wire fields (e.g. re-signed for a retry)."""
        return replace(self, fields=fields, _body=None, _literal=None)


class ReleasedFields(dict[str, WireValue]):
    """The ``fields`` of a callback that kept only its body: any read raises."""

    __slots__ = ("callback_id",)

    def __init__(self, callback_id: str) -> None:
        super().__init__()
        self.callback_id = callback_id

    def _released(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise RuntimeError(
            f"the fields of {self.callback_id} were released after encoding; "
            "decode its body() instead"
        )

    __getitem__ = __iter__ = __len__ = __contains__ = _released
    get = keys = values = items = copy = _released
