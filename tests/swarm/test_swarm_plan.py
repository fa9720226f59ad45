"""The swarm's pure parts: shares, the plan as a message, callbacks per worker, the tally,
and the command's one-line errors. None of this imports gevent or Locust."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from emulator.cli.main import main
from emulator.delivery.results import Attempt, Outcome
from emulator.scenario.reader import load_scenario
from emulator.signing import verify_fields
from emulator.swarm.callbacks import callback_maker
from emulator.swarm.plan import Share, SwarmPlan, scenario_values
from emulator.swarm.tally import Tally, describe, merge


def plan(**overrides: object) -> SwarmPlan:
    values: dict[str, object] = {
        "swarm_id": "s1",
        "target": "http://127.0.0.1:9/cb",
        "rate": 7,
        "duration": 3,
        "workers": 3,
        "app_id": "1234567890",
        "encoding": "json",
        "seed": 4,
    }
    values.update(overrides)
    return SwarmPlan.model_validate(values)


def test_shares_cut_rate_times_duration_into_interleaved_disjoint_parts() -> None:
    work = plan()
    parts = [list(Share(index=i, of=3).numbers(work.total)) for i in range(3)]
    assert sorted(n for part in parts for n in part) == list(range(21))
    assert [len(part) for part in parts] == [7, 7, 7]
    assert parts[1][:3] == [1, 4, 7]
    assert work.due(7) == pytest.approx(1.0)  # callback n is due n / rate


def test_the_plan_travels_as_plain_values_and_a_bad_one_is_one_line() -> None:
    work = plan(scenario={"name": "x", "callbacks": [{"event": "procedure", "status": "FAILED"}]})
    assert SwarmPlan.from_message(work.to_message()) == work
    with pytest.raises(ValueError, match=r"unusable plan: rate: "):
        SwarmPlan.from_message({**work.to_message(), "rate": -1})
    with pytest.raises(ValueError, match=r"unusable plan: callbacks"):
        SwarmPlan.from_message({**work.to_message(), "scenario": {"callbacks": []}})


def test_workers_sign_with_one_appid_and_never_share_ids_task_ids_or_nonces() -> None:
    work = plan(rate=200, duration=1)
    made = []
    for index in range(3):
        share = Share(index=index, of=3)
        make = callback_maker(work, share, "secret-1")
        made += [make(number) for number in share.numbers(work.total)]
    assert len(made) == 200
    assert len({cb.callback_id for cb in made}) == 200
    assert {cb.callback_id for cb in made} == {f"cb-{n:06d}" for n in range(1, 201)}
    assert len({cb.task_id for cb in made}) == 200
    stamps_nonces = {(cb.fields["timestamp"], cb.fields["nonce"]) for cb in made}
    assert len(stamps_nonces) == 200  # what a receiver's replay check keys on
    assert {cb.fields["appid"] for cb in made} == {"1234567890"}
    assert all(verify_fields(cb.fields, "secret-1") for cb in made)


def test_the_same_seed_makes_the_same_callbacks_for_the_same_share() -> None:
    first = callback_maker(plan(), Share(index=1, of=3), "s")(4)
    again = callback_maker(plan(), Share(index=1, of=3), "s")(4)
    other = callback_maker(plan(), Share(index=2, of=3), "s")(4)
    assert first.task_id == again.task_id != other.task_id


def test_scenario_entries_are_used_in_turn() -> None:
    scenario = {
        "name": "two kinds",
        "callbacks": [{"event": "procedure"}, {"event": "snapshot"}],
    }
    make = callback_maker(plan(scenario=scenario), Share(index=0, of=1), "s")
    assert [make(n).event for n in range(4)] == ["procedure", "snapshot"] * 2


def attempt(number: int, status: int, late_s: float = 0.0) -> Attempt:
    return Attempt(
        callback_id="cb-1",
        event="procedure",
        task_id="t",
        attempt=number,
        scheduled_at=100.0,
        sent_at=100.0 + late_s,
        offset_s=0.0,
        gap_s=None,
        status=status,
        error=None,
        latency_ms=1.0,
        response_excerpt="",
    )


def test_worker_tallies_merge_into_counts_lateness_and_the_achieved_rate() -> None:
    one, two = Tally(), Tally()
    for tally, start in ((one, 10.0), (two, 10.5)):
        tally.started(start)
        tally.started(start + 0.5)
        tally.attempt(attempt(1, 500))
        tally.attempt(attempt(2, 200, late_s=0.004))
        tally.outcome(Outcome("cb-1", "procedure", "t", True))
        tally.outcome(Outcome("cb-2", "procedure", "t", False))
    total = merge([one.to_report(), two.to_report()], rate=4)
    assert (total["callbacks"], total["delivered"], total["lost"]) == (4, 2, 2)
    assert total["attempts"] == 4 and total["answers"] == {"200": 2, "500": 2}
    assert total["retries"] == 2 and total["retry_lateness"]["p50"] == 4.0
    assert total["achieved_rate"] == pytest.approx(4 / (11.0 - 10.0 + 0.25))
    text = "\n".join(describe(total))
    assert "swarm: 2 workers, 4 callbacks, 2 delivered, 2 lost" in text
    assert "retry lateness p50 4 ms" in text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--rate", "5"], "swarm needs a target"),
        (["--target", "http://127.0.0.1:9/cb"], "swarm needs --rate R"),
        (["--target", "ftp://127.0.0.1/cb", "--rate", "5"], "--target: expected an http"),
        (["--master", "--worker"], "give --master or --worker, not both"),
        (["--worker"], "--worker needs --master-host HOST"),
        (["--worker", "--master-host", "h", "--rate", "5"], "drop --rate"),
        (["--expect-workers", "2", "--rate", "5"], "--expect-workers goes with --master"),
        (["--master", "--workers", "2"], "--workers starts local workers"),
        (["--master-host", "h", "--rate", "5"], "--master-host goes with --worker"),
        (["--rate", "0"], "--rate: expected a number greater than 0"),
    ],
)
def test_bad_flags_are_one_line_and_exit_2(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert exit_code(["swarm", *args]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1, err


def exit_code(argv: list[str]) -> int:
    """``main``'s exit code, also when argparse exits for a flag it cannot parse."""
    try:
        return main(argv)
    except SystemExit as exc:
        return int(exc.code or 0)


def test_a_bad_scenario_is_one_line_naming_file_line_and_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scenario = tmp_path / "bad.yaml"
    scenario.write_text("callbacks:\n  - event: procedure\n    repeat: many\n")
    assert main(["swarm", str(scenario), "--target", "http://127.0.0.1:9/cb", "--rate", "1"]) == 2
    err = capsys.readouterr().err.strip()
    assert f"{scenario}:3" in err and "repeat" in err and len(err.splitlines()) == 1


def test_without_the_locust_extra_swarm_says_how_to_install_it() -> None:
    probe = (
        "import sys; sys.modules['locust'] = None\n"
        "from emulator.cli.main import main\n"
        "sys.exit(main(['swarm', '--target', 'http://127.0.0.1:9/cb', '--rate', '1']))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert done.returncode == 2
    assert done.stderr.strip() == (
        "zego-emulator swarm: error: swarm needs Locust, which is not installed: "
        "pip install 'zego-callback-emulator[locust]'"
    )


def test_every_bundled_scenario_reaches_the_workers_unchanged() -> None:
    bundled = sorted(Path(__file__).parents[2].joinpath("scenarios").rglob("*.yaml"))
    assert len(bundled) > 10
    for path in bundled:
        scenario = load_scenario(path)
        work = plan(scenario=scenario_values(scenario))
        arrived = SwarmPlan.from_message(work.to_message()).scenario_model()
        assert arrived == scenario, path
        assert [type(e) for e in arrived.callbacks] == [type(e) for e in scenario.callbacks]
