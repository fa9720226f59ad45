"""ZEGO's two signatures, computed and verified in constant time.

* The callback signature (spec §2): ``sha1_hex("".join(sorted([secret, timestamp, nonce])))``.
* The server-API signature, version 2.0 (spec §5):
  ``md5_hex(AppId + SignatureNonce + ServerSecret + Timestamp)``.

Everything here is pure: values in, values out.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping


def callback_signature(callback_secret: str, timestamp: str, nonce: str) -> str:
    """The ``signature`` field ZEGO puts on every callback (lowercase hex SHA-1)."""
    joined = "".join(sorted([callback_secret, str(timestamp), str(nonce)]))
    return hashlib.sha1(joined.encode("utf-8")).hexdigest()


def verify_callback_signature(
    callback_secret: str, timestamp: str, nonce: str, signature: str
) -> bool:
    """True when ``signature`` is the callback signature of ``timestamp`` and ``nonce``."""
    expected = callback_signature(callback_secret, timestamp, nonce)
    return hmac.compare_digest(expected.encode("ascii"), signature.strip().lower().encode())


def sign_fields(fields: Mapping[str, str], callback_secret: str) -> dict[str, str]:
    """A copy of a callback's fields with its ``signature`` set from timestamp and nonce."""
    signed = dict(fields)
    signed["signature"] = callback_signature(
        callback_secret, fields.get("timestamp", ""), fields.get("nonce", "")
    )
    return signed


def verify_fields(fields: Mapping[str, str], callback_secret: str) -> bool:
    """True when decoded callback fields carry a valid signature for ``callback_secret``."""
    signature = fields.get("signature")
    if not signature:
        return False
    return verify_callback_signature(
        callback_secret, fields.get("timestamp", ""), fields.get("nonce", ""), signature
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
