"""Cases: signature vectors that catch real bugs in hand-written signature checks.

Each is a valid callback whose ``nonce`` is chosen to break one common mistake and
nothing else (its string and numeric orders against the timestamp agree, except in the
case that tests exactly that).
"""

from __future__ import annotations

from emulator.check.context import CaseContext
from emulator.check.families import per_encoding
from emulator.check.model import Case, Chain, Probe
from emulator.wire import Encoding

FAMILY = "vector"
JS_SAFE_INTEGER = 2**53  # beyond this JavaScript's Number cannot hold every integer


# Each nonce carries random digits from the suite's seeded source: a receiver refuses a
# *different* body under a (timestamp, nonce) pair it has seen — rightly — so two runs of
# the suite in the same second must not share one (a seed makes both runs' bodies equal).


def string_sort_nonce(context: CaseContext, timestamp: str) -> str:
    """A seven-digit nonce that sorts before ``timestamp`` as a number, after it as a string.

    (Sorted as strings, as ZEGO does, the nonce comes last; PHP's ``sort()`` without
    ``SORT_STRING`` compares numeric strings as numbers and puts it first.) Seven digits:
    the factory's own nonces have six or twelve, so no other callback shares it.
    """
    nonce = "9" + context.factory.fake.digits(7)[1:]
    assert int(nonce) < int(timestamp) and nonce > timestamp, "valid until the year 2255"
    return nonce


def long_nonce(context: CaseContext) -> str:
    """19 digits, beyond 2^53, sorting after the timestamp both ways (leading 9)."""
    nonce = "9" + context.factory.fake.digits(19)[1:]
    assert int(nonce) > JS_SAFE_INTEGER
    return nonce


def short_nonce(context: CaseContext) -> str:
    """Three digits, 100-169: before a 17.../18.../19... timestamp both ways."""
    return f"1{context.factory.fake.integer(0, 69):02d}"


def leading_zero_nonce(context: CaseContext) -> str:
    """Seven characters, two leading zeros: before the timestamp both ways."""
    return "00" + context.factory.fake.digits(5)


def _valid_with_nonce(
    context: CaseContext, case_id: str, encoding: Encoding, nonce: str, note: str
) -> Chain:
    model = context.factory.procedure(status="SUCCESS")
    # one second earlier per encoding: a (timestamp, nonce) pair is never reused, or a
    # careful receiver would rightly refuse the second body under it as a replay
    timestamp = str(context.now() - context.encodings.index(encoding))
    callback = context.sign(
        model, case_id, encoding, overrides={"timestamp": timestamp, "nonce": nonce}
    )
    return [Probe(callback, "accepted", f"{note} ({encoding})")]


def _string_sort(context: CaseContext, case_id: str, encoding: Encoding) -> Chain:
    nonce = string_sort_nonce(context, str(context.now()))
    note = f"nonce {nonce}: numeric and string orders differ"
    return _valid_with_nonce(context, case_id, encoding, nonce, note)


def _long(context: CaseContext, case_id: str, encoding: Encoding) -> Chain:
    nonce = long_nonce(context)
    return _valid_with_nonce(context, case_id, encoding, nonce, f"19-digit nonce {nonce}")


def _short(context: CaseContext, case_id: str, encoding: Encoding) -> Chain:
    nonce = short_nonce(context)
    return _valid_with_nonce(context, case_id, encoding, nonce, f"three-digit nonce {nonce}")


def _leading_zero(context: CaseContext, case_id: str, encoding: Encoding) -> Chain:
    nonce = leading_zero_nonce(context)
    return _valid_with_nonce(context, case_id, encoding, nonce, f"nonce {nonce}")


CASES: tuple[Case, ...] = (
    Case(
        "vector.string-sort",
        "The three strings are sorted as strings, not as numbers",
        "timestamp and nonce are digit strings; ZEGO sorts them as strings. Sorted as "
        "numbers, most real callbacks get another order and fail the check — yet "
        "ZEGO's one published vector passes either way.",
        "PHP sort($parts) without SORT_STRING, JavaScript parts.sort((a, b) => a - b), "
        "or sorting ints; use sort($parts, SORT_STRING) / parts.sort() / sorted(strings).",
        per_encoding("vector.string-sort", _string_sort),
        FAMILY,
    ),
    Case(
        "vector.nonce-19-digits",
        "A 19-digit nonce (beyond 2^53) verifies",
        "A nonce is a random number sent as a string; beyond 2^53 a double cannot hold it exactly.",
        "The nonce went through a number: JavaScript Number()/parseInt, JSON parsed into "
        "floats, PHP (int) on 32-bit; keep it the string that arrived.",
        per_encoding("vector.nonce-19-digits", _long),
        FAMILY,
    ),
    Case(
        "vector.nonce-short",
        "A three-digit nonce verifies",
        "Nothing in ZEGO's docs fixes the nonce's length.",
        "The receiver validates the nonce's format (six digits, like ZEGO's samples) or pads it.",
        per_encoding("vector.nonce-short", _short),
        FAMILY,
    ),
    Case(
        "vector.nonce-leading-zero",
        "A nonce with leading zeros verifies",
        "The signature is over the nonce's text: 007 and 7 sign differently.",
        "The nonce was converted to a number and back (int(nonce), intval, Number), "
        "which drops the leading zeros.",
        per_encoding("vector.nonce-leading-zero", _leading_zero),
        FAMILY,
    ),
)
