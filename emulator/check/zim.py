"""Cases of ``check --product zim``: ZIM's own types and its synchronous hook (§11, §1.4).

ZIM signs callbacks as RTC does, but its ``timestamp`` is a JSON number — milliseconds for
its room and group events — and ``before_send_msg`` is a hook: ZIM waits up to 2.5 s for a
JSON answer whose integer ``result`` decides the message. A receiver written for RTC's
all-string bodies, or one that answers the hook ``ok``, breaks on exactly these.

The hook's deadline is ZIM's 2.5 s, or ``--timeout`` when that is shorter.
"""

from __future__ import annotations

from dataclasses import replace

from emulator.check.context import CaseContext
from emulator.check.families import per_encoding
from emulator.check.model import Case, Chain, Probe
from emulator.delivery.hook import DecisionExpectation
from emulator.retry import RetryPolicy, profile_policy
from emulator.wire import Encoding

FAMILY = "zim"
HOOK = "zim.before_send_msg"
HOOK_DEADLINE = 2.5  # seconds ZIM waits for before_send_msg's answer (the ZH page)
ANSWERED = DecisionExpectation({"answer": "decision"})


def _hook_policy(deadline: float) -> RetryPolicy:
    """One request (the case judges the first answer) with the hook's deadline."""
    return replace(profile_policy("zim-before-send"), intervals=(), timeout=deadline)


def _numeric(context: CaseContext, case_id: str, encoding: Encoding) -> Chain:
    callback = context.sign(context.factory.build("zim.user_action"), case_id, encoding)
    return [Probe(callback, "accepted", f"user_action, timestamp a JSON number ({encoding})")]


def _millis(context: CaseContext, case_id: str, encoding: Encoding) -> Chain:
    callback = context.sign(context.factory.build("zim.room_create"), case_id, encoding)
    return [Probe(callback, "accepted", f"room_create, timestamp in ms ({encoding})")]


def _stale_millis(context: CaseContext, case_id: str, encoding: Encoding) -> Chain:
    model = context.factory.build("zim.room_enter")
    callback = context.sign(model, case_id, encoding, tamper="stale_timestamp")
    return [Probe(callback, "refused", f"room_enter, ms timestamp 1 h old ({encoding})")]


def _forged(context: CaseContext, case_id: str, encoding: Encoding) -> Chain:
    model = context.factory.build("zim.send_msg")
    callback = context.sign(model, case_id, encoding, tamper="bad_signature")
    return [Probe(callback, "refused", f"send_msg with a forged signature ({encoding})")]


def _hook_answer(context: CaseContext, case_id: str, encoding: Encoding) -> Chain:
    callback = context.sign(context.factory.build(HOOK), case_id, encoding)
    note = f"before_send_msg, answered with the documented JSON ({encoding})"
    return [Probe(callback, ANSWERED, note, policy=_hook_policy(context.timeout))]


def _hook_deadline(context: CaseContext, case_id: str, encoding: Encoding) -> Chain:
    callback = context.sign(context.factory.build(HOOK), case_id, encoding)
    deadline = min(HOOK_DEADLINE, context.timeout)
    note = f"before_send_msg, answered within {deadline:g} s ({encoding})"
    return [Probe(callback, ANSWERED, note, policy=_hook_policy(deadline))]


def _hook_forged(context: CaseContext, case_id: str, encoding: Encoding) -> Chain:
    model = context.factory.build(HOOK)
    callback = context.sign(model, case_id, encoding, tamper="bad_signature")
    note = f"before_send_msg with a forged signature ({encoding})"
    return [Probe(callback, "refused", note, policy=_hook_policy(context.timeout))]


CASES: tuple[Case, ...] = (
    Case(
        "zim.timestamp-number",
        "A ZIM callback whose timestamp is a JSON number is acknowledged",
        "ZIM sends timestamp as a number (1796000000), not a string; the signature is "
        "computed over its decimal text, sorted with the secret and nonce as strings.",
        "The receiver requires a string timestamp, formats the parsed number differently "
        "(1.796e9, 1796000000.0) before hashing, or sorts the three values as numbers.",
        per_encoding("zim.timestamp-number", _numeric),
        FAMILY,
    ),
    Case(
        "zim.timestamp-ms",
        "A ZIM room callback stamped in milliseconds is acknowledged",
        "ZIM's room and group callbacks carry timestamp in ms (1796000000123): a "
        "freshness check that reads it as seconds sees a time 56,000 years ahead.",
        "The freshness check assumes seconds; read a 13-digit timestamp as milliseconds.",
        per_encoding("zim.timestamp-ms", _millis),
        FAMILY,
    ),
    Case(
        "zim.timestamp-ms-stale",
        "A validly signed ZIM room callback 1 h old (in ms) is refused",
        "A millisecond timestamp must be checked for freshness too, in its own unit.",
        "The freshness check is skipped for timestamps it cannot read as seconds, or "
        "divides the age by 1000 twice.",
        per_encoding("zim.timestamp-ms-stale", _stale_millis),
        FAMILY,
    ),
    Case(
        "zim.signature.forged",
        "A ZIM callback with a forged signature is refused",
        "ZIM's callbacks are signed like RTC's; an unchecked one lets anyone fake "
        "messages, logins and calls.",
        "The ZIM endpoint skips the signature check the RTC endpoint does.",
        per_encoding("zim.signature.forged", _forged),
        FAMILY,
    ),
    Case(
        "zim.hook.answer",
        "before_send_msg gets the documented JSON answer",
        "ZIM reads the hook's answer: a JSON object with an integer result (0 neutral, "
        "1 send, 2 silent, 3 do not send) and optional string reason, new_msg_body, "
        "new_payload. Anything else is the business side failing: the message is not sent.",
        "The handler answers 'ok' or an empty 200 as for notifications, sends result as a "
        'string ("1"), or answers a non-2xx.',
        per_encoding("zim.hook.answer", _hook_answer),
        FAMILY,
    ),
    Case(
        "zim.hook.deadline",
        f"before_send_msg is answered within {HOOK_DEADLINE:g} s",
        f"ZIM waits {HOOK_DEADLINE:g} s for the answer, retries once at once, then gives "
        "up: every message the user sends waits on this answer, and a slow one is not "
        "sent at all.",
        "The hook does slow work (moderation calls, database writes) before answering; "
        "answer first, or bound that work well under the deadline.",
        per_encoding("zim.hook.deadline", _hook_deadline),
        FAMILY,
    ),
    Case(
        "zim.hook.forged",
        "A before_send_msg with a forged signature is refused",
        "An unverified hook request decides nothing: a forger must not learn your "
        "moderation decisions or get messages rewritten.",
        "The hook answers before (or without) checking the signature.",
        per_encoding("zim.hook.forged", _hook_forged),
        FAMILY,
    ),
)
