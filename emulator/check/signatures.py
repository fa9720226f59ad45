"""Cases: callbacks a receiver must refuse (never a 2xx) — bad, missing, stale signatures.

Anyone who knows the callback URL can POST to it; only the signature
(``sha1(sorted([callback_secret, timestamp, nonce]))``) and a fresh timestamp tell
ZEGO's callbacks from forgeries and replays of old captures.
"""

from __future__ import annotations

from emulator.callback.tamper import STALE_BY_SECONDS
from emulator.check.context import CaseContext
from emulator.check.families import per_encoding
from emulator.check.model import Case, Chain, Probe
from emulator.wire import Encoding

FAMILY = "signature"
FUTURE_BY_SECONDS = 3600


def _forged(context: CaseContext, case_id: str, encoding: Encoding) -> Chain:
    callback = context.sign(context.factory.procedure(), case_id, encoding, tamper="bad_signature")
    return [Probe(callback, "refused", f"a forged signature ({encoding})")]


def _missing(context: CaseContext, case_id: str, encoding: Encoding) -> Chain:
    model = context.factory.procedure()
    callback = context.sign(model, case_id, encoding, tamper="missing_signature")
    return [Probe(callback, "refused", f"no signature field ({encoding})")]


def _stale(context: CaseContext, case_id: str, encoding: Encoding) -> Chain:
    model = context.factory.procedure()
    callback = context.sign(model, case_id, encoding, tamper="stale_timestamp")
    return [Probe(callback, "refused", f"validly signed, timestamp 1 h old ({encoding})")]


def _future(context: CaseContext, case_id: str, encoding: Encoding) -> Chain:
    future = str(context.now() + FUTURE_BY_SECONDS)
    model = context.factory.procedure()
    callback = context.sign(model, case_id, encoding, overrides={"timestamp": future})
    return [Probe(callback, "refused", f"validly signed, timestamp 1 h ahead ({encoding})")]


def _server_secret(context: CaseContext, case_id: str, encoding: Encoding) -> Chain:
    model = context.factory.procedure()
    callback = context.sign(model, case_id, encoding, secret=context.server_secret)
    return [Probe(callback, "refused", f"signed with the server secret ({encoding})")]


CASES: tuple[Case, ...] = (
    Case(
        "signature.forged",
        "A forged signature is refused",
        "Without a signature check anyone who finds the callback URL can mark any task "
        "finished, with any replay URL.",
        "The signature is not checked at all, or the check's result is not used (logged "
        "but the callback processed), or a comparison that is always true.",
        per_encoding("signature.forged", _forged),
        FAMILY,
    ),
    Case(
        "signature.missing",
        "A callback without a signature is refused",
        "A body with no signature field must not slip through as 'nothing to check'.",
        "The check runs only when a signature is present (if sig and sig != expected), "
        "or compares against an empty/None default.",
        per_encoding("signature.missing", _missing),
        FAMILY,
    ),
    Case(
        "signature.stale",
        f"A validly signed callback {STALE_BY_SECONDS // 3600} h old is refused",
        "The signature covers only timestamp and nonce: a captured callback stays valid "
        "forever unless the receiver rejects old timestamps (and seen nonces).",
        "No freshness check on timestamp; allow a few minutes of clock skew, not hours.",
        per_encoding("signature.stale", _stale),
        FAMILY,
    ),
    Case(
        "signature.future",
        f"A validly signed callback {FUTURE_BY_SECONDS // 3600} h in the future is refused",
        "A timestamp ahead of time is as suspicious as an old one: it would stay "
        "'fresh' for hours.",
        "The freshness check tests now - timestamp > max_age only; use its absolute value.",
        per_encoding("signature.future", _future),
        FAMILY,
    ),
    Case(
        "signature.server-secret",
        "A callback signed with the server secret is refused",
        "ZEGO's pages disagree about which secret signs callbacks (CallbackSecret or "
        "ServerSecret); the callback secret does. A receiver that accepts either has "
        "two keys where one is documented.",
        "The receiver tries several secrets until one matches, or uses the server "
        "secret (then valid callbacks fail too). Give the real one with --server-secret.",
        per_encoding("signature.server-secret", _server_secret),
        FAMILY,
    ),
)
