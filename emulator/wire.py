"""The three body encodings a callback travels in (spec §1), and their inverse.

* ``form``            ``application/x-www-form-urlencoded``; one ``key=value`` a field.
* ``json``            ``application/json``; one object, every value a string.
* ``json-urlencoded`` the ``json`` text percent-encoded as a whole, sent as ``application/json``.

``encode`` and ``decode`` are pure and exact inverses: ``decode(*encode(f, e)) == f``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Literal, get_args
from urllib.parse import parse_qsl, unquote

from emulator.errors import DecodeError

Encoding = Literal["form", "json", "json-urlencoded"]
ENCODINGS: tuple[Encoding, ...] = get_args(Encoding)

FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
JSON_CONTENT_TYPE = "application/json"
UTF8_BOM = b"\xef\xbb\xbf"  # some tools put it before a saved body; it is not content
CONTENT_TYPES: dict[Encoding, str] = {
    "form": FORM_CONTENT_TYPE,
    "json": JSON_CONTENT_TYPE,
    "json-urlencoded": JSON_CONTENT_TYPE,
}


def encode(fields: Mapping[str, str], encoding: Encoding = "form") -> tuple[str, bytes]:
    """Encode callback fields as ``(content_type, body)`` for one of the three encodings."""
    if encoding == "form":
        pairs = [f"{_quote(str(k), _PLUS)}={_quote(str(v), _PLUS)}" for k, v in fields.items()]
        return FORM_CONTENT_TYPE, "&".join(pairs).encode("ascii")
    text = json.dumps(dict(fields), ensure_ascii=False, separators=(",", ":"))
    if encoding == "json":
        return JSON_CONTENT_TYPE, text.encode("utf-8")
    if encoding == "json-urlencoded":
        return JSON_CONTENT_TYPE, _quote(text, _PERCENT).encode("ascii")
    raise ValueError(f"unknown encoding {encoding!r}; expected one of {', '.join(ENCODINGS)}")


# Byte -> its percent-encoding, as urllib's quote_plus / quote(safe="") write it (UTF-8,
# unreserved characters kept, upper-case hex); one table lookup a byte is ~3x faster than
# urlencode, and a callback body is encoded for every callback sent.
_UNRESERVED = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-~"
_PERCENT = [chr(byte) if byte in _UNRESERVED else f"%{byte:02X}" for byte in range(256)]
_PLUS = [*_PERCENT[:32], "+", *_PERCENT[33:]]


def _quote(text: str, table: list[str]) -> str:
    """``text`` percent-encoded with ``table`` (``_PLUS``: form, ``_PERCENT``: whole JSON)."""
    raw = text.encode("utf-8")
    if not raw.rstrip(_UNRESERVED):
        return text
    return "".join(map(table.__getitem__, raw))


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


def decode(body: bytes, content_type: str | None = None) -> dict[str, str]:
    """Decode a callback body into its top-level fields, every value a string.

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


def _decode_form(text: str) -> dict[str, str]:
    if not text.strip():
        raise DecodeError("body is empty: expected key=value pairs")
    try:
        pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=True, errors="strict")
    except (ValueError, UnicodeDecodeError) as exc:
        raise DecodeError(f"body is not form-urlencoded: {exc}") from exc
    return dict(pairs)


def _decode_json(text: str) -> dict[str, str]:
    try:
        value = json.loads(text)
    except RecursionError as exc:
        raise DecodeError("body is JSON nested too deeply to be a callback") from exc
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError, a number too long
        raise DecodeError(f"body is not JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise DecodeError(f"body is JSON {type(value).__name__}, expected an object")
    return {str(key): _as_field_text(item) for key, item in value.items()}


def _as_field_text(value: object) -> str:
    """A JSON value as the string a callback field carries (nested values as JSON text)."""
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
