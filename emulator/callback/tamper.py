"""Deliberate defects a scenario can put on a signed callback (``tamper:``).

* ``bad_signature``     a well-formed 40-hex signature that does not match
* ``stale_timestamp``   validly signed, but the timestamp is one hour old (in its unit)
* ``missing_signature`` no ``signature`` field at all
"""

from __future__ import annotations

from collections.abc import Mapping

from emulator.signing import sign_fields, signature_keys
from emulator.wire import WireFields, WireValue, field_text

STALE_BY_SECONDS = 3600
MS_TIMESTAMP_FROM = 10**11  # as emulator.verify reads timestamps: this large is milliseconds


def apply_tamper(signed: Mapping[str, WireValue], tamper: str, callback_secret: str) -> WireFields:
    """A copy of validly ``signed`` fields with ``tamper`` applied (pure).

    The timestamp keeps its wire type (a numeric one stays a number), and PascalCase
    bodies (``transcode_*``) are tampered in their own ``Timestamp``/``Signature``.
    """
    fields = dict(signed)
    timestamp_key, _, signature_key = signature_keys(fields)
    if tamper == "bad_signature":
        good = fields.get(signature_key, "")
        fields[signature_key] = sign_fields(fields, callback_secret + "-wrong")[signature_key]
        if fields[signature_key] == good:  # pragma: no cover - sha1 collision
            fields[signature_key] = "0" * 40
    elif tamper == "stale_timestamp":
        stamp = fields.get(timestamp_key, "0")
        text = field_text(stamp)
        value = int(text) if text.isdigit() else 0
        # a millisecond timestamp (ZIM's room and group events) is an hour old in ms
        hour = STALE_BY_SECONDS * (1000 if value >= MS_TIMESTAMP_FROM else 1)
        old = value - hour if value else 0
        fields[timestamp_key] = old if type(stamp) is int else str(old)
        fields = sign_fields(fields, callback_secret)
    elif tamper == "missing_signature":
        fields.pop(signature_key, None)
    elif tamper != "none":
        raise ValueError(f"unknown tamper {tamper!r}")
    return fields
