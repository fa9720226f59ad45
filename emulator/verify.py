"""How a receiver should check a ZEGO callback: decode, verify the signature, check freshness.

    verdict = verify_callback(body, content_type, callback_secret, max_age=300)
    if not verdict.ok: answer 401 with verdict.reason

This is the reference the ``receive`` command and the ``verify`` command both use.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field

from emulator.errors import DecodeError
from emulator.signing import signature_keys, verify_fields
from emulator.wire import Encoding, WireFields, decode, field_text, sniff_encoding

_UNIX_TIME = re.compile(r"[0-9]{1,16}(?:\.[0-9]{1,9})?")
MS_TIMESTAMP_FROM = 1e11  # a timestamp this large is Unix milliseconds (year 5138 in seconds)


@dataclass
class Verdict:
    """What checking one callback found."""

    fields: WireFields  # decoded: a JSON body's values keep their types, a form body's are text
    encoding: Encoding
    signature_ok: bool
    fresh: bool = True
    reasons: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.signature_ok and self.fresh

    @property
    def reason(self) -> str:
        return "; ".join(self.reasons) if self.reasons else "ok"


def verify_callback(
    body: bytes,
    content_type: str | None,
    callback_secret: str,
    max_age: float | None = None,
    now: float | None = None,
) -> Verdict:
    """Decode ``body`` and check its signature (and, with ``max_age``, its timestamp's age).

    A timestamp of 10^11 or more is read as milliseconds (ZIM sends them). Raises
    DecodeError when the body is not a callback in any of the three encodings.
    """
    encoding = sniff_encoding(body, content_type)
    fields = decode(body, content_type)
    reasons: list[str] = []
    timestamp_key, _, signature_key = signature_keys(fields)
    if signature_key not in fields:
        signature_ok = False
        reasons.append("missing signature")
    else:
        signature_ok = verify_fields(fields, callback_secret)
        if not signature_ok:
            reasons.append("signature does not match")
    fresh = True
    if max_age is not None:
        stamp = field_text(fields.get(timestamp_key, ""))
        current = time.time() if now is None else now
        try:
            if not _UNIX_TIME.fullmatch(stamp):  # nan, inf, 1e9, " 12": not a ZEGO timestamp
                raise ValueError(stamp)
            sent = float(stamp)
            if sent >= MS_TIMESTAMP_FROM:  # ZIM's room and group events stamp milliseconds
                sent /= 1000
            age = current - sent
        except ValueError:
            fresh = False
            shown = repr(stamp) if len(stamp) <= 40 else repr(stamp[:36]) + "..."
            reasons.append(f"timestamp {shown} is not Unix seconds")
        else:
            if abs(age) > max_age:
                fresh = False
                reasons.append(f"timestamp is {age:.0f} s old (more than {max_age:g} s)")
    return Verdict(fields, encoding, signature_ok, fresh, reasons)


__all__ = ["DecodeError", "Verdict", "verify_callback"]
