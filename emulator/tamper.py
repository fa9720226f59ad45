"""Deliberate defects a scenario can put on a signed callback (``tamper:``).

* ``bad_signature``     a well-formed 40-hex signature that does not match
* ``stale_timestamp``   validly signed, but the timestamp is one hour old
* ``missing_signature`` no ``signature`` field at all
"""

from __future__ import annotations

from collections.abc import Mapping

from emulator.signing import sign_fields

STALE_BY_SECONDS = 3600


def apply_tamper(signed: Mapping[str, str], tamper: str, callback_secret: str) -> dict[str, str]:
    """A copy of validly ``signed`` fields with ``tamper`` applied (pure)."""
    fields = dict(signed)
    if tamper == "bad_signature":
        good = fields.get("signature", "")
        fields["signature"] = sign_fields(fields, callback_secret + "-wrong")["signature"]
        if fields["signature"] == good:  # pragma: no cover - sha1 collision
            fields["signature"] = "0" * 40
    elif tamper == "stale_timestamp":
        stamp = fields.get("timestamp", "0")
        old = int(stamp) - STALE_BY_SECONDS if stamp.isdigit() else 0
        fields["timestamp"] = str(old)
        fields = sign_fields(fields, callback_secret)
    elif tamper == "missing_signature":
        fields.pop("signature", None)
    elif tamper != "none":
        raise ValueError(f"unknown tamper {tamper!r}")
    return fields
