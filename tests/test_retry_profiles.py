"""Retry profiles per family (zego-events.md §1.4), at real sockets on the virtual clock:
rtc (5 retries, 2/4/8/16/32 s, on no answer or non-2xx), legacy-2 (two retries),
cloud-recording (2 retries 5 s apart, on no answer only), zim-before-send (2.5 s timeout,
one immediate retry on no answer). Scenarios, records and resume follow them.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError
from scripted import ScriptedReceiver

from emulator.callback.factory import CallbackFactory
from emulator.clock import VirtualClock
from emulator.delivery.dispatch import Delivery, Dispatcher
from emulator.record.reader import read_record, read_runs
from emulator.retry import PROFILES, profile_policy
from emulator.run.resume import ResumeOptions, resume_run
from emulator.run.runner import execute
from emulator.scenario.model import Scenario
from emulator.settings import RunOptions, Secret

SECRET = "retry-profiles-secret"


def refused_url() -> str:
    """A 127.0.0.1 URL nothing listens on: every request is refused (no answer)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/zego/callback"


def test_profiles_are_zegos_documented_schedules() -> None:
    assert {name: (p.intervals, p.retry_on, p.timeout) for name, p in PROFILES.items()} == {
        "rtc": ((2.0, 4.0, 8.0, 16.0, 32.0), "failure", None),
        "legacy-2": ((2.0, 4.0), "failure", None),
        "cloud-recording": ((5.0, 5.0), "no_answer", None),
        "zim-before-send": ((0.0,), "no_answer", 2.5),
    }
    assert profile_policy("zim-before-send").timeout == 2.5
    assert profile_policy("rtc").timeout == 5.0
    assert profile_policy("cloud-recording", intervals=(1.0,)).intervals == (1.0,)
    with pytest.raises(KeyError, match="unknown retry profile 'rtx'"):
        profile_policy("rtx")


async def offsets_at(profile: str, url: str) -> list[tuple[float, int | None, str | None]]:
    """``(offset_s, status, error)`` of each request of one callback under ``profile``."""
    factory = CallbackFactory(seed=1)
    callback = factory.callback(factory.build("procedure"), SECRET)
    policy = profile_policy(profile, timeout=1.0)
    async with Dispatcher(policy=policy, clock=VirtualClock()) as dispatcher:
        outcome = await dispatcher.deliver(Delivery(callback, url))
    assert outcome.lost
    return [(round(a.offset_s, 3), a.status, a.error) for a in outcome.history]


@pytest.mark.parametrize(
    ("profile", "failing", "expected"),
    [
        ("rtc", [0, 2, 6, 14, 30, 62], [0, 2, 6, 14, 30, 62]),
        ("legacy-2", [0, 2, 6], [0, 2, 6]),
        ("cloud-recording", [0], [0, 5, 10]),  # a 500 is final; no answer is retried
        ("zim-before-send", [0], [0, 0]),  # one immediate retry on no answer only
    ],
)
async def test_each_profile_at_a_real_socket(
    profile: str, failing: list[float], expected: list[float]
) -> None:
    async with ScriptedReceiver(statuses=(500,)) as receiver:
        answered = await offsets_at(profile, receiver.url)
    assert [offset for offset, _, _ in answered] == failing
    assert {status for _, status, _ in answered} == {500}
    refused = await offsets_at(profile, refused_url())
    assert [offset for offset, _, _ in refused] == expected
    assert {(status, error) for _, status, error in refused} == {(None, "connection_refused")}


def scenario(**document: Any) -> Scenario:
    return Scenario.model_validate({"name": "profiles", "seed": 4, **document})


async def run_record(tmp_path: Path, url: str, **document: Any) -> list[dict[str, Any]]:
    path = tmp_path / "run.jsonl"
    options = RunOptions(
        target=url, secret=Secret(SECRET, "test"), virtual=True, record=path, live=False
    )
    await execute(scenario(**document), options)
    return read_record(path)


def attempts_by_event(lines: list[dict[str, Any]]) -> dict[str, list[float]]:
    found: dict[str, list[float]] = {}
    for line in lines:
        if line["type"] == "attempt":
            found.setdefault(line["event"], []).append(round(line["offset_s"], 3))
    return found


async def test_each_event_follows_its_familys_profile_and_the_record_names_it(
    tmp_path: Path,
) -> None:
    callbacks = [{"event": "procedure"}, {"event": "cloud_recording"}]
    async with ScriptedReceiver(statuses=(500,)) as receiver:
        lines = await run_record(tmp_path, receiver.url, callbacks=callbacks)
    assert attempts_by_event(lines) == {
        "procedure": [0, 2, 6, 14, 30, 62],
        "cloud_recording": [0],  # ZEGO's Cloud Recording takes a non-2xx answer as final
    }
    [run] = [line for line in lines if line["type"] == "run"]
    assert (run["retry_profile"], run["retry_on"], run["intervals"]) == (
        "rtc",
        "failure",
        [2, 4, 8, 16, 32],
    )
    own = {line["event"]: line.get("retry") for line in lines if line["type"] == "callback"}
    assert own["procedure"] is None
    assert own["cloud_recording"] == {
        "profile": "cloud-recording",
        "intervals": [5.0, 5.0],
        "timeout": 5.0,
        "retry_on": "no_answer",
    }


async def test_a_cloud_recording_run_records_its_profile_in_the_run_line(tmp_path: Path) -> None:
    lines = await run_record(tmp_path, refused_url(), callbacks=[{"event": "cloud_recording"}])
    [run] = [line for line in lines if line["type"] == "run"]
    assert (run["retry_profile"], run["retry_on"], run["intervals"]) == (
        "cloud-recording",
        "no_answer",
        [5.0, 5.0],
    )
    assert attempts_by_event(lines) == {"cloud_recording": [0, 5, 10]}
    assert "retry" not in next(line for line in lines if line["type"] == "callback")


@pytest.mark.parametrize(
    ("retry", "procedure", "cloud"),
    [
        ({"profile": "legacy-2"}, [0, 2, 6], [0, 2, 6]),  # the scenario's profile beats both
        ({"intervals": [1, 1]}, [0, 1, 2], [0]),  # explicit intervals win; triggers stay
        ({"profile": "cloud-recording", "intervals": [3]}, [0], [0]),
    ],
)
async def test_a_scenario_profile_and_explicit_intervals_win(
    tmp_path: Path, retry: dict[str, Any], procedure: list[float], cloud: list[float]
) -> None:
    callbacks = [{"event": "procedure"}, {"event": "cloud_recording"}]
    async with ScriptedReceiver(statuses=(500,)) as receiver:
        lines = await run_record(tmp_path, receiver.url, callbacks=callbacks, retry=retry)
    assert attempts_by_event(lines) == {"procedure": procedure, "cloud_recording": cloud}


def test_an_unknown_profile_is_a_scenario_error() -> None:
    with pytest.raises(ValidationError, match="profile"):
        scenario(callbacks=[{}], retry={"profile": "aggressive"})


def cut(source: Path, keep: Callable[[dict[str, Any]], bool]) -> Path:
    lines = [json.dumps(line) for line in read_record(source) if keep(line)]
    path = source.with_name("cut.jsonl")
    path.write_text("\n".join(lines) + "\n")
    return path


async def test_resume_continues_with_the_recorded_profile(tmp_path: Path) -> None:
    full = tmp_path / "run.jsonl"
    await run_record(tmp_path, refused_url(), callbacks=[{"event": "cloud_recording"}])
    record = cut(
        full,
        lambda line: (
            line["type"] in ("run", "callback")
            or (line["type"] == "attempt" and line["attempt"] == 1)
        ),
    )
    async with ScriptedReceiver(statuses=(500,)) as receiver:
        state = read_runs(record)[0]
        options = ResumeOptions(clock=VirtualClock(), target=receiver.url)
        result = await resume_run(state, record, options)
    attempts = [line for line in read_record(record) if line["type"] == "attempt"]
    # the refused first request is retried 5 s later; its 500 is final under the profile
    assert [(a["attempt"], a["status"]) for a in attempts] == [(1, None), (2, 500)]
    assert attempts[1]["gap_s"] >= 5 - 0.01
    assert receiver.count(attempts[0]["task_id"]) == 1
    assert (result.summary["lost"], result.summary["attempts"]) == (1, 2)


async def test_resume_of_a_mixed_run_uses_each_callbacks_own_profile(tmp_path: Path) -> None:
    full = tmp_path / "run.jsonl"
    callbacks = [{"event": "procedure"}, {"event": "cloud_recording"}]
    await run_record(tmp_path, refused_url(), callbacks=callbacks)
    record = cut(full, lambda line: line["type"] in ("run", "callback"))
    async with ScriptedReceiver(statuses=(500,)) as receiver:
        state = read_runs(record)[0]
        await resume_run(state, record, ResumeOptions(clock=VirtualClock(), target=receiver.url))
    assert attempts_by_event(read_record(record)) == {
        "procedure": [0, 2, 6, 14, 30, 62],
        "cloud_recording": [0],
    }
