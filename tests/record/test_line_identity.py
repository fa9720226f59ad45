"""Attempt and outcome lines escape a callback's identity keys once (lines._IdentityText):
each line still carries its own ids, whatever the ids hold and in whatever order lines of
different callbacks come, and each is exactly its record dict, key order included.
"""

from __future__ import annotations

import json

import pytest

from emulator.delivery.results import Attempt, Outcome
from emulator.delivery.verdict import NAMED
from emulator.record.lines import attempt_record, attempt_text, outcome_record, outcome_text

HOSTILE = [
    'cb-"quoted"',
    "back\\slash",
    "line\nbreak\ttab\x00nul\x1fus\x7fdel",
    "ünïcödé-任务-😀",
    "\u2028\u2029",
    "",
]


def attempt(run_id: str, callback_id: str, event: str, task_id: str, number: int = 1) -> Attempt:
    return Attempt(
        callback_id=callback_id,
        event=event,
        task_id=task_id,
        attempt=number,
        scheduled_at=1_796_133_742.073364,
        sent_at=1_796_133_742.075216,
        offset_s=0.0 if number == 1 else 2.000125,
        gap_s=None if number == 1 else 2.000125,
        status=500 if number == 1 else 200,
        error=None,
        latency_ms=1.25,
        response_excerpt='{"code": 0, "note": "\u00e9"}',
        run_id=run_id,
    )


def parsed(text: str) -> list[tuple[str, object]]:
    """A line's keys and values, in order."""
    return list(json.loads(text).items())


@pytest.mark.parametrize("hostile", HOSTILE)
def test_hostile_ids_are_written_as_they_are_in_every_slot(hostile: str) -> None:
    for ids in (
        (hostile, "cb-000001", "procedure", "t1"),
        ("r1", hostile, "procedure", "t1"),
        ("r1", "cb-000001", hostile, "t1"),
        ("r1", "cb-000001", "procedure", hostile),
    ):
        first, second = attempt(*ids), attempt(*ids, number=2)
        outcome = Outcome(ids[1], ids[2], ids[3], True, [first, second], ids[0])
        outcome.verdict = NAMED["accepted"].judge(outcome)
        for text, record in (
            (attempt_text(first), attempt_record(first)),
            (attempt_text(second), attempt_record(second)),
            (outcome_text(outcome), outcome_record(outcome)),
        ):
            assert "\n" not in text
            assert parsed(text) == list(record.items())
        assert json.loads(attempt_text(first))["offset_s"] == 0.0
        assert attempt_text(first).count('"offset_s":0.000000,') == 1


def test_lines_of_interleaved_callbacks_each_carry_their_own_ids() -> None:
    names = [f"cb-{index:06d}" for index in range(4)]
    twins = ["".join(["cb-", f"{index:06d}"]) for index in range(4)]  # equal, not the same
    for callback_id, twin in zip(names, twins, strict=True):
        assert callback_id == twin and callback_id is not twin
    order = [names[0], names[1], twins[1], names[0], twins[0], names[2], names[2], names[3]]
    for callback_id in order:
        task_id = "task-" + callback_id
        line = json.loads(attempt_text(attempt("r1", callback_id, "procedure", task_id)))
        assert (line["callback_id"], line["task_id"]) == (callback_id, task_id)
        outcome = Outcome(callback_id, "procedure", task_id, False, [], "r1")
        line = json.loads(outcome_text(outcome))
        assert (line["callback_id"], line["task_id"]) == (callback_id, task_id)
    # the same strings, another run: the run id changes with them
    for run_id in ("r1", "r2", "r1"):
        line = json.loads(attempt_text(attempt(run_id, names[0], "procedure", "t")))
        assert line["run_id"] == run_id


def test_a_negative_zero_offset_keeps_its_sign() -> None:
    line = attempt("r1", "cb-1", "procedure", "t1")
    line.offset_s = -0.0
    assert '"offset_s":-0.000000,' in attempt_text(line)


def test_an_outcome_line_quotes_each_verdict_it_was_judged_with() -> None:
    answered = attempt("r1", "cb-1", "procedure", "t1")
    reasons = []
    for name in ("any", "accepted", "refused", "lost", "any"):
        outcome = Outcome("cb-1", "procedure", "t1", False, [answered], "r1")
        outcome.verdict = NAMED[name].judge(outcome)
        line = json.loads(outcome_text(outcome))
        assert (line["expect"], line["verdict"], line["why"]) == (
            name,
            outcome.verdict.verdict,
            outcome.verdict.reason,
        )
        reasons.append(line["why"])
    assert reasons == [
        "any outcome will do (500)",
        "expected accepted, never acknowledged: 500; a validly signed callback must get a 2xx",
        "refused (500)",
        "never acknowledged (500)",
        "any outcome will do (500)",
    ]
