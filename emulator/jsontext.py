"""Compact JSON text — no spaces, non-ASCII kept — as ZEGO nests it in a field, as a
``json`` body carries it and as each record line is written.

Every caller gets an encoder made once: ``json.dumps`` with options builds a
``JSONEncoder`` a call and ``JSONEncoder.encode`` a C encoder a call, ~1 µs of the ~3 µs
a callback body takes. The text is the same as
``json.dumps(value, ensure_ascii=False, separators=(",", ":"))``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from json.encoder import encode_basestring
from typing import Any

SEPARATORS = (",", ":")
# json's C encoder (None on an interpreter without json's C accelerator)
_make_c_encoder: Any = getattr(json.encoder, "c_make_encoder", None)


def _not_serializable(value: Any) -> Any:
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def compact_encoder(default: Callable[[Any], Any] | None = None) -> Callable[[Any], str]:
    """A function writing a value as compact JSON text; ``default`` as in ``json.dumps``.

    Values must not contain themselves (there is no circular-reference check). JSON has no
    Infinity or NaN: a non-finite float raises ValueError instead of writing one.
    """
    if _make_c_encoder is None:
        encoder = json.JSONEncoder(
            ensure_ascii=False, separators=SEPARATORS, default=default, allow_nan=False
        )
        return encoder.encode
    make_chunks = _make_c_encoder(
        None, default or _not_serializable, encode_basestring, None, ":", ",", False, False, False
    )

    def encode(value: Any) -> str:
        return "".join(make_chunks(value, 0))

    return encode


def record_encoder() -> Callable[[Any], str]:
    """:func:`compact_encoder` for record lines: a float that is not finite (a bug
    upstream, never a measurement) is written as null rather than failing the write."""
    encode = compact_encoder()

    def encode_line(value: Any) -> str:
        try:
            return encode(value)
        except ValueError:
            return encode(finite_or_null(value))

    return encode_line


def finite_or_null(value: Any) -> Any:
    """``value`` with every non-finite float (inf, -inf, nan) replaced by None."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: finite_or_null(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite_or_null(item) for item in value]
    return value
