"""The three body encodings a callback travels in (spec §1), and their inverse.

A callback's fields are JSON values (:data:`WireValue`): most are strings, but ZEGO types
some as JSON numbers (``room_create``'s ``appid``, ``timestamp`` and 64-bit
``room_session_id``; Cloud Recording's ``app_id``, ``event_type``, ``sequence``), arrays
(``stream_create``'s ``rtmp_url``...) or objects (``transcode_start``'s ``Details``).

* ``json``            ``application/json``; one object, every value with its JSON type
  (an integer of any size is written exactly, never through a double).
* ``form``            ``application/x-www-form-urlencoded``; one ``key=value`` a field. Form
  has no types, so a value goes as its text (:func:`field_text`): a string as itself, a
  number as its decimal text (``appid=1234567890``, ``room_session_id=858012925204410400``),
  ``true``/``false``, an array or object as its compact JSON text
  (``rtmp_url=["rtmp://a/x","rtmp://b/x"]``, percent-encoded), null as an empty value.
* ``json-urlencoded`` the ``json`` text percent-encoded as a whole, sent as ``application/json``.

``encode`` and ``decode`` are pure and exact inverses for ``json`` and ``json-urlencoded``
(``decode(*encode(f, e)) == f``); a ``form`` body decodes to every field's text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from json.encoder import encode_basestring
from typing import Any, Literal, TypeAlias, get_args
from urllib.parse import parse_qsl, unquote

from emulator.errors import DecodeError
from emulator.jsontext import compact_encoder

Encoding = Literal["form", "json", "json-urlencoded"]
ENCODINGS: tuple[Encoding, ...] = get_args(Encoding)

FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
JSON_CONTENT_TYPE = "application/json"
UTF8_BOM = b"\xef\xbb\xbf"  # some tools put it before a saved body; it is not content
# a field's value: what JSON holds (a form body carries each as its text, see field_text)
WireValue: TypeAlias = "str | int | float | bool | list[WireValue] | dict[str, WireValue] | None"
WireFields: TypeAlias = dict[str, WireValue]

CONTENT_TYPES: dict[Encoding, str] = {
    "form": FORM_CONTENT_TYPE,
    "json": JSON_CONTENT_TYPE,
    "json-urlencoded": JSON_CONTENT_TYPE,
}


def encode(fields: Mapping[str, WireValue], encoding: Encoding = "json") -> tuple[str, bytes]:
    """Encode callback fields as ``(content_type, body)`` for one of the three encodings."""
    if encoding == "form":
        return FORM_CONTENT_TYPE, _form_body(fields)
    text = _json_text(fields if type(fields) is dict else dict(fields))
    if encoding == "json":
        return JSON_CONTENT_TYPE, text.encode("utf-8")
    if encoding == "json-urlencoded":
        return JSON_CONTENT_TYPE, _escape_whole_json(text.encode("utf-8"))
    raise ValueError(f"unknown encoding {encoding!r}; expected one of {', '.join(ENCODINGS)}")


def field_text(value: WireValue) -> str:
    """The text a field carries in a form body, and what a signature is computed over.

    A string is itself; an integer its exact decimal text; ``true``/``false``; null is
    empty; any other value (a float, an array, an object) its compact JSON text.
    """
    if type(value) is str:
        return value
    if value is None:
        return ""
    if type(value) is int:
        return str(value)
    return _json_text(value)


def _form_body(fields: Mapping[str, WireValue]) -> bytes:
    """``key=value`` pairs joined by ``&``, each key and value percent-encoded (``+`` for space)."""
    pairs = [
        f"{key}={value}" if type(value) is str else f"{key}={field_text(value)}"
        for key, value in fields.items()
    ]
    raw = "&".join(pairs).encode("utf-8")
    if raw.count(b"=") == len(pairs) and raw.count(b"&") == len(pairs) - 1:
        # no key or value holds "=" or "&": escape the whole body at once (~2x faster)
        return _escape_form_body(raw)
    return b"&".join(
        _escape_form_text(str(key).encode("utf-8"))
        + b"="
        + _escape_form_text(field_text(value).encode("utf-8"))
        for key, value in fields.items()
    )


class _Escaper:
    """Percent-encoding by a table of byte -> escape (a byte that maps to itself is kept).

    One ``bytes.replace`` a distinct byte to escape: a callback body holds about ten (JSON
    punctuation, URL characters) and each replace runs at C speed over the whole text,
    ~3x faster than a table lookup a byte. Byte-identical to urllib's ``quote_plus`` /
    ``quote(safe="")`` (UTF-8, unreserved characters kept, upper-case hex).
    """

    FEW_DISTINCT = 24  # more distinct bytes to escape than this: one lookup a byte is faster

    def __init__(self, table: list[bytes]) -> None:
        self.table = table
        self.kept = bytes(byte for byte in range(256) if table[byte] == _BYTES[byte])
        # the escapes contain "%" and "+": escape those first, so later escapes stay as made
        self.first = [byte for byte in b"%+" if byte not in self.kept]

    def __call__(self, raw: bytes) -> bytes:
        """``raw`` with every byte the table does not keep replaced by its escape."""
        to_escape = set(raw.translate(None, self.kept))
        if not to_escape:
            return raw
        table = self.table
        if len(to_escape) > self.FEW_DISTINCT:
            return b"".join(map(table.__getitem__, raw))
        for byte in self.first:
            if byte in to_escape:
                to_escape.discard(byte)
                raw = raw.replace(_BYTES[byte], table[byte])
        for byte in to_escape:
            raw = raw.replace(_BYTES[byte], table[byte])
        return raw


_json_text = compact_encoder()
_BYTES = [bytes([byte]) for byte in range(256)]
_UNRESERVED = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-~"
_PERCENT = [_BYTES[b] if b in _UNRESERVED else f"%{b:02X}".encode() for b in range(256)]
_PLUS = [*_PERCENT[:32], b"+", *_PERCENT[33:]]  # form: a space is "+"
_escape_whole_json = _Escaper(_PERCENT)  # json-urlencoded: the JSON text as a whole
_escape_form_text = _Escaper(_PLUS)  # form: one key or value
# form: a whole body whose keys and values hold no "=" or "&" (those are its separators)
_escape_form_body = _Escaper([_BYTES[b] if b in b"=&" else _PLUS[b] for b in range(256)])


def media_type(content_type: str) -> str:
    """``application/json`` from ``Application/JSON; charset=utf-8``."""
    return content_type.split(";", 1)[0].strip().lower()


def sniff_encoding(body: bytes, content_type: str | None = None) -> Encoding:
    """Which of the three encodings ``body`` is in, judged by its content type and first byte.

    With no content type the body alone decides. Raises DecodeError for a content type
    that no ZEGO callback uses.
    """
    head = body.removeprefix(UTF8_BOM).lstrip()[:3]
    looks_json = head.startswith(b"{")
    looks_urlencoded_json = head.upper() == b"%7B"
    if content_type is None or not content_type.strip():
        if looks_json:
            return "json"
        return "json-urlencoded" if looks_urlencoded_json else "form"
    kind = media_type(content_type)
    if kind == FORM_CONTENT_TYPE:
        return "form"
    if kind == JSON_CONTENT_TYPE or kind.endswith("+json"):
        return "json-urlencoded" if looks_urlencoded_json else "json"
    raise DecodeError(
        f"unsupported content type {content_type!r}: expected {FORM_CONTENT_TYPE} or "
        f"{JSON_CONTENT_TYPE}"
    )


def decode(body: bytes, content_type: str | None = None) -> WireFields:
    """Decode a callback body into its top-level fields.

    A JSON body keeps its values' types (integers exact, however large); a form body's
    values are all text (see :func:`field_text` for how a typed value was written).

    Raises DecodeError, with a one-line reason, for anything that is not a callback body.
    """
    encoding = sniff_encoding(body, content_type)
    try:
        text = body.removeprefix(UTF8_BOM).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DecodeError(f"body is not UTF-8 text (byte {exc.start})") from exc
    if encoding == "form":
        return _decode_form(text)
    if encoding == "json-urlencoded":
        try:
            text = unquote(text.strip(), errors="strict")
        except UnicodeDecodeError as exc:
            raise DecodeError(
                f"body is not JSON: percent-encoded bytes are not UTF-8 ({exc.reason})"
            ) from exc
    return _decode_json(text)


def _decode_form(text: str) -> WireFields:
    if not text.strip():
        raise DecodeError("body is empty: expected key=value pairs")
    try:
        pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=True, errors="strict")
    except (ValueError, UnicodeDecodeError) as exc:
        reason = str(exc) if len(str(exc)) <= 120 else f"{str(exc)[:117]}..."
        raise DecodeError(f"body is not form-urlencoded: {reason}") from exc
    return dict(pairs)


def _decode_json(text: str) -> WireFields:
    try:
        value = json.loads(text, parse_constant=_no_constant)
    except RecursionError as exc:
        raise DecodeError("body is JSON nested too deeply to be a callback") from exc
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError, a number too long
        raise DecodeError(f"body is not JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise DecodeError(f"body is JSON {type(value).__name__}, expected an object")
    if _SURROGATE_ESCAPE.search(text) and _has_lone_surrogate(value):
        raise DecodeError("body is not JSON text: a string holds a lone surrogate (\\udXXX)")
    return value


def _no_constant(name: str) -> Any:
    """``NaN``/``Infinity`` are not JSON (Python's reader takes them by default)."""
    raise ValueError(f"{name} is not a JSON value")


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def _has_lone_surrogate(value: Any) -> bool:
    """True when a string (key or value) inside ``value`` is not encodable as UTF-8."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            texts = [item]
        elif isinstance(item, dict):
            texts = list(item)
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
            continue
        else:
            continue
        for text in texts:
            try:
                text.encode("utf-8")
            except UnicodeEncodeError:
                return True
    return False


# --- copies of one body: the fixed text encoded once ---------------------------------------


class Run:
    """A hole in a template's text for a fresh random run (``0-9a-f`` only, which no
    encoding or escaping changes): the copy's ``runs[index]`` goes there."""

    __slots__ = ("index",)

    def __init__(self, index: int) -> None:
        self.index = index


# a holed string: its text as pieces, fixed text and Run holes
Holed: TypeAlias = "list[str | Run]"
_ESCAPE_NEEDED = re.compile(r'["\\\x00-\x1f]')


class BodyTemplate:
    """:func:`encode` for copies of one callback that differ only in a few values: the
    same bytes, with the fixed text encoded (and escaped for the record) once.

        template = BodyTemplate(fields, "json", scalars=("nonce",), holed={"task_id": [...]})
        body, literal = template.render(["123456"], ["a3f0..."])

    ``scalars`` are keys whose value each copy gives whole (in that order); a ``holed`` key
    holds a string whose :class:`Run` holes get each copy's fresh runs. ``literal`` is the
    body's text as a JSON string (what the record's callback line carries). Every escaping
    involved (JSON strings, percent-encoding) works character by character and leaves a
    run as it is, so escaping the pieces and joining them is escaping the whole;
    :meth:`check` compares a render with :func:`encode` of the same fields.

    """

    def __init__(
        self,
        fields: Mapping[str, WireValue],
        encoding: Encoding,
        scalars: Sequence[str] = (),
        holed: Mapping[str, Holed] | None = None,
    ) -> None:
        if encoding not in ENCODINGS:
            raise ValueError(f"unknown encoding {encoding!r}")
        self.encoding: Encoding = encoding
        self.content_type = CONTENT_TYPES[encoding]
        self.scalars = tuple(scalars)
        holed = holed or {}
        form = encoding == "form"
        outer = self._outer
        # the body's text: fixed text, Run holes, and scalar holes (a scalar's position)
        pieces: list[str | Run | int] = ["" if form else outer("{")]
        for position, (key, value) in enumerate(fields.items()):
            if position:
                pieces.append("&" if form else outer(","))
            pieces.append(self._key(key) + ("=" if form else outer(":")))
            if key in self.scalars:
                pieces.append(self.scalars.index(key))
            elif key in holed:
                pieces.extend(self._holed(holed[key]))
            else:
                pieces.append(self._value(value))
        pieces.append("" if form else outer("}"))
        merged: list[str | Run | int] = []  # adjacent fixed text joined
        for piece in pieces:
            if isinstance(piece, str) and merged and isinstance(merged[-1], str):
                merged[-1] += piece
            elif piece != "":
                merged.append(piece)
        # the text as a list with each hole's place left empty, and which value fills it
        self._body: list[str] = []
        self._literal: list[str] = ['"']  # the same, escaped for the record
        places: list[tuple[int, int]] = []  # (place, index in render()'s scalars + runs)
        for piece in merged:
            if isinstance(piece, str):
                self._body.append(piece)
                self._literal.append(_literal_part(piece) if encoding == "json" else piece)
            else:
                hole = piece if isinstance(piece, int) else len(self.scalars) + piece.index
                places.append((len(self._body), hole))
                self._body.append("")
                self._literal.append("")
        self._literal.append('"')
        self._places = tuple(places)
        # how a plain scalar (ASCII letters and digits) is quoted, in the body and the record
        self._quote = {"json": '"', "form": "", "json-urlencoded": "%22"}[encoding]

    def render(self, scalars: Sequence[WireValue], runs: Sequence[str]) -> tuple[bytes, str]:
        """``(body, literal)`` of one copy: its scalars' values (in :attr:`scalars`' order)
        and its fresh runs."""
        json = self.encoding == "json"
        quote = self._quote
        texts: list[str] = []
        literals: list[str] = []
        for item in scalars:
            if type(item) is int:
                text = literal = str(item)
            elif isinstance(item, str) and item.isascii() and item.isalnum():
                text = quote + item + quote
                literal = '\\"' + item + '\\"' if json else text
            else:
                text = self._value(item)
                literal = _literal_part(text) if json else text
            texts.append(text)
            literals.append(literal)
        texts += runs
        body = self._body.copy()
        for place, hole in self._places:
            body[place] = texts[hole]
        whole = "".join(body)
        if not json:  # percent-encoded: nothing in it to escape
            return whole.encode("utf-8"), '"' + whole + '"'
        literals += runs
        escaped = self._literal.copy()
        for place, hole in self._places:
            escaped[place + 1] = literals[hole]  # one place on: the literal opens with a quote
        return whole.encode("utf-8"), "".join(escaped)

    def check(
        self, fields: Mapping[str, WireValue], scalars: Sequence[WireValue], runs: Sequence[str]
    ) -> bool:
        """True when :meth:`render` writes what :func:`encode` writes for ``fields`` (and
        the literal is that body's text as a JSON string)."""
        body, literal = self.render(scalars, runs)
        expected = encode(fields, self.encoding)[1]
        return body == expected and literal == encode_basestring(expected.decode("utf-8"))

    # --- this encoding's text of a key, a value, a holed string --------------------------

    def _key(self, key: str) -> str:
        if self.encoding == "form":
            return _escape_form_text(key.encode("utf-8")).decode("ascii")
        return self._outer(encode_basestring(key))

    def _value(self, value: WireValue) -> str:
        """``value`` as this encoding writes it (a plain one without the encoder)."""
        if type(value) is int:
            return str(value)
        encoding = self.encoding
        if isinstance(value, str) and value.isascii() and value.isalnum():
            if encoding == "json":
                return f'"{value}"'
            return value if encoding == "form" else f"%22{value}%22"
        if encoding == "form":
            return _escape_form_text(field_text(value).encode("utf-8")).decode("ascii")
        return self._outer(_json_text(value))

    def _holed(self, holed: Holed) -> list[str | Run | int]:
        """A holed string's pieces as this encoding writes it (quoted in JSON)."""
        if self.encoding == "form":
            return [
                _escape_form_text(part.encode("utf-8")).decode("ascii")
                if isinstance(part, str)
                else part
                for part in holed
            ]
        inner: list[str | Run | int] = [
            self._outer(encode_basestring(part)[1:-1]) if isinstance(part, str) else part
            for part in holed
        ]
        return [self._outer('"'), *inner, self._outer('"')]

    def _outer(self, json_text: str) -> str:
        """JSON text as the body carries it (percent-encoded for ``json-urlencoded``)."""
        if self.encoding == "json-urlencoded":
            return _escape_whole_json(json_text.encode("utf-8")).decode("ascii")
        return json_text


def _literal_part(text: str) -> str:
    """``text`` escaped as inside a JSON string, without the quotes around it."""
    return encode_basestring(text)[1:-1] if _ESCAPE_NEEDED.search(text) else text
