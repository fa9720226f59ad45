"""ZEGO's two signatures, computed and verified in constant time.

* The callback signature (spec §2): ``sha1_hex("".join(sorted([secret, timestamp, nonce])))``,
  over the text of each value: a numeric ``timestamp`` (``room_create``, ZIM) is signed as
  its decimal text. ``transcode_start``/``transcode_stop`` spell the fields ``Timestamp``,
  ``Nonce`` and ``Signature`` (PascalCase); :func:`signature_keys` tells which a body uses.
* The server-API signature, version 2.0 (spec §5):
  ``md5_hex(AppId + SignatureNonce + ServerSecret + Timestamp)``.

Everything here is pure: values in, values out.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

from emulator.wire import WireFields, WireValue, field_text

SIGNATURE_KEYS = ("timestamp", "nonce", "signature")
PASCAL_SIGNATURE_KEYS = ("Timestamp", "Nonce", "Signature")  # transcode_start/transcode_stop


def callback_signature(callback_secret: str, timestamp: WireValue, nonce: WireValue) -> str:
    """The ``signature`` field ZEGO puts on every callback (lowercase hex SHA-1)."""
    joined = "".join(sorted([callback_secret, field_text(timestamp), field_text(nonce)]))
    return hashlib.sha1(joined.encode("utf-8")).hexdigest()


def verify_callback_signature(
    callback_secret: str, timestamp: WireValue, nonce: WireValue, signature: str
) -> bool:
    """True when ``signature`` is the callback signature of ``timestamp`` and ``nonce``."""
    expected = callback_signature(callback_secret, timestamp, nonce)
    return hmac.compare_digest(expected.encode("ascii"), signature.strip().lower().encode())


def signature_keys(fields: Mapping[str, WireValue]) -> tuple[str, str, str]:
    """The names of a body's timestamp, nonce and signature fields (PascalCase for
    ``transcode_*``, whose bodies have ``Timestamp`` and no ``timestamp``)."""
    if "timestamp" not in fields and "Timestamp" in fields:
        return PASCAL_SIGNATURE_KEYS
    return SIGNATURE_KEYS


def sign_fields(fields: Mapping[str, WireValue], callback_secret: str) -> WireFields:
    """A copy of a callback's fields with its signature set from its timestamp and nonce."""
    timestamp, nonce, signature = signature_keys(fields)
    signed = dict(fields)
    signed[signature] = callback_signature(
        callback_secret, fields.get(timestamp, ""), fields.get(nonce, "")
    )
    return signed


def restamp(fields: Mapping[str, WireValue], timestamp: int, nonce: str) -> WireFields:
    """A copy with a new timestamp and nonce, each keeping its wire type (a numeric
    timestamp stays a number); the signature is left for :func:`sign_fields`."""
    timestamp_key, nonce_key, _ = signature_keys(fields)
    fresh = dict(fields)
    fresh[timestamp_key] = timestamp if type(fields.get(timestamp_key)) is int else str(timestamp)
    fresh[nonce_key] = int(nonce) if type(fields.get(nonce_key)) is int else nonce
    return fresh


def verify_fields(fields: Mapping[str, WireValue], callback_secret: str) -> bool:
    """True when decoded callback fields carry a valid signature for ``callback_secret``."""
    timestamp, nonce, signature_key = signature_keys(fields)
    signature = fields.get(signature_key)
    if not signature or not isinstance(signature, str):
        return False
    return verify_callback_signature(
        callback_secret, fields.get(timestamp, ""), fields.get(nonce, ""), signature
    )


def api_signature(
    app_id: str | int, signature_nonce: str, server_secret: str, timestamp: str | int
) -> str:
    """The ``Signature`` query parameter of a server-API call (SignatureVersion 2.0)."""
    text = f"{app_id}{signature_nonce}{server_secret}{timestamp}"
    return hashlib.md5(text.encode("utf-8")).hexdigest()


def verify_api_signature(
    app_id: str | int,
    signature_nonce: str,
    server_secret: str,
    timestamp: str | int,
    signature: str,
) -> bool:
    """True when ``signature`` is the API signature of the other parameters."""
    expected = api_signature(app_id, signature_nonce, server_secret, timestamp)
    return hmac.compare_digest(expected.encode("ascii"), signature.strip().lower().encode())
