"""A run that keeps no outcome (load mode) counts them as they finish: its summary must be
the one the kept outcomes give, and a long load run's failed callbacks stay bounded."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from emulator.cli.main import main
from emulator.delivery.results import Attempt, Outcome
from emulator.delivery.verdict import CallbackVerdict
from emulator.run.expect import FAILED_CALLBACKS_KEPT, OutcomeCounts
from tests.check.receivers.doc_receiver import Bugs, DocReceiver, ServedInThread

SECRET = "outcome-counts-secret"


def attempt(callback_id: str, number: int) -> Attempt:
    return Attempt(callback_id, "procedure", "t", number, 0.0, 0.0, 0.0, None, 500, None, 1.0, "")


@st.composite
def outcomes(draw: st.DrawFn) -> list[Outcome]:
    numbers = draw(st.lists(st.integers(1, 2_000_000), max_size=300, unique=True))
    made = []
    for number in numbers:
        callback_id = f"cb-{number:06d}" + draw(st.sampled_from(["", "-dup1"]))
        verdict = draw(
            st.none() | st.builds(CallbackVerdict, st.sampled_from(["accepted", "refused"]),
                                  st.booleans(), st.text(max_size=5))
        )  # fmt: skip
        history = [attempt(callback_id, n) for n in range(1, draw(st.integers(0, 6)) + 1)]
        made.append(
            Outcome(callback_id, "procedure", "t", draw(st.booleans()), history, "", verdict)
        )
    return made


@settings(max_examples=200, deadline=None)
@given(outcomes())
def test_counting_gives_what_the_kept_outcomes_give(finished: list[Outcome]) -> None:
    counts = OutcomeCounts()
    for outcome in finished:
        counts.add(outcome)
    observed = counts.observed()
    assert observed.callbacks == len(finished)
    assert observed.delivered == sum(1 for o in finished if o.delivered)
    assert observed.lost == sum(1 for o in finished if not o.delivered)
    assert observed.attempts == sum(len(o.history) for o in finished)
    assert observed.max_attempts == max((len(o.history) for o in finished), default=0)
    judged = [o for o in finished if o.verdict is not None]
    broken = sorted(
        (o for o in judged if o.verdict is not None and not o.verdict.ok),
        key=lambda o: o.callback_id,
    )
    summary = counts.verdicts()
    assert summary["verdicts"] == {"pass": len(judged) - len(broken), "fail": len(broken)}
    assert [f["callback_id"] for f in summary["failed_callbacks"]] == [
        o.callback_id for o in broken[:FAILED_CALLBACKS_KEPT]
    ]


def test_a_long_load_run_names_only_the_first_failed_callbacks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """240 forged callbacks a receiver accepts: all counted, the first 100 by id named."""
    monkeypatch.setenv("ZEGO_CALLBACK_SECRET", SECRET)
    monkeypatch.chdir(tmp_path)
    scenario = tmp_path / "forged.yaml"
    scenario.write_text("callbacks:\n  - tamper: bad_signature\n")
    with ServedInThread(DocReceiver(SECRET, Bugs(verify_nothing=True)).app()) as served:
        argv = ["run", "--rate", "20", "--duration", "12", "--virtual", "--json"]
        assert main([*argv, "--target", served.url, str(scenario)]) == 1
    summary = json.loads(capsys.readouterr().out)
    assert summary["verdicts"] == {"pass": 0, "fail": 240}
    assert (summary["callbacks"], summary["delivered"], summary["attempts"]) == (240, 240, 240)
    named = [failed["callback_id"] for failed in summary["failed_callbacks"]]
    assert named == [f"cb-{n:06d}" for n in range(1, FAILED_CALLBACKS_KEPT + 1)]
