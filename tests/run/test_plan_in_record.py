"""Nothing planned is lost to a crash: the run line holds the plan, resume sends the rest.

Before the first request the record's ``run`` line holds the scenario, the seeds actually
used, the generation time and the plan's size, so ``resume`` regenerates — byte for byte —
every planned callback whose ``callback`` line a kill kept from being written, and sends it.
A summary with callbacks still pending is never ``ok``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from scripted import ScriptedReceiver, ThreadedReceiver

from emulator.cli.main import main
from emulator.record.reader import read_record
from emulator.run.planner import PlanSeeds, plan_run
from emulator.scenario.model import Scenario
from emulator.scenario.reader import load_scenario
from emulator.settings import RunOptions, Secret, resolve

ROOT = Path(__file__).resolve().parents[2]
SECRET = "plan-test-secret-41d7"
TARGET = "http://127.0.0.1:9/zego/callback"


@pytest.fixture(autouse=True)
def in_tmp(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("ZEGO_CALLBACK_SECRET", SECRET)
    monkeypatch.chdir(tmp_path)


def bodies(scenario: Scenario, seeds: PlanSeeds) -> list[tuple[str, bytes]]:
    options = RunOptions(target=TARGET, secret=Secret(SECRET, "test"))
    settings = seeds.apply(resolve(options, scenario, quiet=True))
    planned, _ = plan_run(scenario, settings, seeds.factory(), epoch=seeds.epoch)
    return [
        (item.delivery.callback.callback_id, item.delivery.callback.body()[1]) for item in planned
    ]


@pytest.mark.parametrize("path", sorted((ROOT / "scenarios").glob("*.yaml")), ids=lambda p: p.name)
def test_every_bundled_scenario_regenerates_byte_for_byte_from_its_recorded_plan(
    path: Path,
) -> None:
    scenario = load_scenario(path)
    seeds = PlanSeeds(seed=7, nonce_seed=99, app_id=None, epoch=1_800_000_000)
    first = bodies(scenario, seeds)
    plan = seeds.record(scenario, len(first))
    again = bodies(Scenario.model_validate(plan["scenario"]), PlanSeeds.from_record(plan))
    assert plan["size"] == len(first) and again == first


def cut(record: Path, keep_callbacks: int) -> Path:
    """The record as a kill right after ``keep_callbacks`` callback lines would leave it."""
    kept: list[str] = []
    seen = 0
    for raw in record.read_text().splitlines():
        if '"type":"callback"' in raw:
            seen += 1
            if seen > keep_callbacks:
                break
        if '"type":"summary"' in raw:
            break
        kept.append(raw)
    cut_path = record.with_name("cut.jsonl")
    cut_path.write_text("\n".join(kept) + "\n")
    return cut_path


def test_resume_regenerates_the_callbacks_a_kill_kept_from_being_recorded(
    tmp_path: Path,
) -> None:
    scenario = tmp_path / "mixed.yaml"
    scenario.write_text(
        "callbacks:\n"
        "  - repeat: 3\n"
        "  - {event: compose, duplicates: 1}\n"
        "  - {event: snapshot, delay: 5}\n"
    )
    full = tmp_path / "full.jsonl"
    with ThreadedReceiver(ScriptedReceiver(statuses=[200])) as receiver:
        argv = ["run", str(scenario), "--target", receiver.url, "--virtual", "--no-live"]
        assert main([*argv, "--record", str(full)]) == 0
        sent = {  # callback id -> the exact body the full run sent
            line["callback_id"]: line["body"]
            for line in read_record(full)
            if line["type"] == "callback"
        }
        record = cut(full, keep_callbacks=2)  # 2 of 6 callback lines made it to the file
        receiver.receiver.bodies.clear()
        assert main(["resume", str(record), "--virtual", "--json"]) == 0
        resent = [body.decode() for body in receiver.receiver.bodies]
    lines = read_record(record)
    outcomes = Counter(line["callback_id"] for line in lines if line["type"] == "outcome")
    assert sorted(outcomes) == sorted(sent) and set(outcomes.values()) == {1}
    assert sorted(resent) == sorted(sent.values())  # every callback, byte for byte
    summary = lines[-1]
    assert (summary["callbacks"], summary["pending"], summary["ok"]) == (6, 0, True)


def test_a_run_killed_right_after_its_record_appears_resumes_to_every_outcome_once(
    tmp_path: Path,
) -> None:
    """SIGKILL a 20,000-callback run as soon as its record exists, then resume it."""
    count = 20_000
    scenario = tmp_path / "big.yaml"
    scenario.write_text(f"concurrency: 50\ncallbacks:\n  - repeat: {count}\n")
    record = tmp_path / "big.jsonl"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    with ThreadedReceiver(ScriptedReceiver(statuses=[200])) as receiver:
        argv = ["run", str(scenario), "--target", receiver.url, "--record", str(record)]
        child = subprocess.Popen(
            [sys.executable, "-m", "emulator", *argv, "--no-live", "--json"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            deadline = time.monotonic() + 120
            while not (record.exists() and record.stat().st_size > 0):
                assert child.poll() is None, child.communicate()[1]
                assert time.monotonic() < deadline, "the record never appeared"
                time.sleep(0.005)
            child.send_signal(signal.SIGKILL)
            child.wait(30)
        finally:
            if child.poll() is None:
                child.kill()
                child.wait()
        before: list[dict[str, Any]] = read_record(record)
        assert before[0]["type"] == "run" and before[0]["plan"]["size"] == count
        assert not any(line["type"] == "summary" for line in before)
        assert main(["resume", str(record), "--virtual", "--json"]) == 0
    lines = read_record(record)
    outcomes = Counter(line["callback_id"] for line in lines if line["type"] == "outcome")
    assert len(outcomes) == count and set(outcomes.values()) == {1}
    assert outcomes.keys() == {f"cb-{number:06d}" for number in range(1, count + 1)}
    summary = lines[-1]
    assert summary["type"] == "summary" and summary["resumed"] is True
    assert (summary["callbacks"], summary["delivered"], summary["pending"]) == (count, count, 0)
    assert summary["ok"] is True
