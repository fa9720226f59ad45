"""Named expectations judge a one-request delivery from its number and answer alone (each
distinct verdict is worked out once): the tamper, the callback's name and the answer
still make every reason, in any order of judging.
"""

from __future__ import annotations

from emulator.delivery.results import Attempt, AttemptError, Outcome
from emulator.delivery.verdict import NAMED


def one_request(status: int | None, error: AttemptError | None = None, number: int = 1) -> Outcome:
    answer = Attempt(
        callback_id="cb-1",
        event="procedure",
        task_id="t1",
        attempt=number,
        scheduled_at=1.0,
        sent_at=1.0,
        offset_s=0.0,
        gap_s=None,
        status=status,
        error=error,
        latency_ms=1.0,
        response_excerpt="",
    )
    delivered = error is None and status is not None and 200 <= status <= 299
    return Outcome("cb-1", "procedure", "t1", delivered, [answer])


def test_each_reason_follows_the_answer_the_tamper_and_the_name_in_any_order() -> None:
    cases = [
        ("refused", one_request(200), "bad_signature", None, False,
         "expected refused, accepted (200 on attempt 1): a callback with a forged signature "
         "must never get a 2xx"),
        ("refused", one_request(200), "missing_signature", None, False,
         "expected refused, accepted (200 on attempt 1): a callback with no signature must "
         "never get a 2xx"),
        ("refused", one_request(200), "bad_signature", "this callback", False,
         "expected refused, accepted (200 on attempt 1): this callback must never get a 2xx"),
        ("refused", one_request(401), "bad_signature", None, True, "refused (401)"),
        ("refused", one_request(None, "timeout"), "bad_signature", None, False,
         "expected refused, attempt 1 got no answer (timeout): a refusal is a prompt "
         "non-2xx answer"),
        ("refused", one_request(200, "too_large"), "none", None, True,
         "refused (200 (too_large))"),
        ("accepted", one_request(200), "none", None, True, "acknowledged on attempt 1"),
        ("accepted", one_request(200, number=3), "none", None, True,
         "acknowledged on attempt 3"),
        ("accepted", one_request(503), "none", None, False,
         "expected accepted, never acknowledged: 503; a validly signed callback must get a 2xx"),
        ("lost", one_request(None, "connection_refused"), "none", None, True,
         "never acknowledged (connection_refused)"),
        ("any", one_request(200), "none", None, True, "any outcome will do (200)"),
        ("any", one_request(204), "none", None, True, "any outcome will do (204)"),
    ]  # fmt: skip
    for _ in range(2):  # judged afresh, then from what was worked out
        for name, outcome, tamper, what, ok, reason in [*cases, *reversed(cases)]:
            verdict = NAMED[name].judge(outcome, tamper, what)
            assert (verdict.expect, verdict.ok, verdict.reason) == (name, ok, reason)


def test_a_history_of_several_requests_is_judged_on_all_of_them() -> None:
    first, second = one_request(500), one_request(200, number=2)
    outcome = Outcome("cb-1", "procedure", "t1", True, [*first.history, *second.history])
    assert NAMED["any"].judge(outcome).reason == "any outcome will do (500, 200)"
    assert NAMED["accepted"].judge(outcome).reason == "acknowledged on attempt 2"
    assert NAMED["lost"].judge(Outcome("cb-1", "procedure", "t1", False)).reason == (
        "never acknowledged (no request made)"
    )
