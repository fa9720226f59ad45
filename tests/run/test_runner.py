"""The runner: a scenario becomes planned deliveries, a run becomes a complete record.

Planning is pure (no network): repeat, order, delay, tamper, rename, fields, fixed
timestamp/nonce, duplicates and re-signing. Running goes over real sockets to an aiohttp
receiver on 127.0.0.1, in virtual time, and checks the record line by line.
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import pytest
from scripted import ScriptedReceiver

from emulator import settings as config
from emulator.clock import VirtualClock
from emulator.errors import UsageError
from emulator.record.reader import read_record
from emulator.run import runner
from emulator.run.runner import delivery_chains, execute, request_preview
from emulator.scenario.model import Scenario
from emulator.settings import RunOptions, resolve
from emulator.verify import verify_callback
from emulator.wire import decode

SECRET = config.Secret("runner-test-secret-5b1d", "--secret")
TARGET = "http://127.0.0.1:9/zego/callback"  # planning never connects


def scenario(**data: Any) -> Scenario:
    data.setdefault("callbacks", [{}])
    return Scenario.model_validate(data)


def options(**kw: Any) -> RunOptions:
    kw.setdefault("target", TARGET)
    return RunOptions(**kw)


def plan(sc: Scenario, flags: RunOptions, secret: config.Secret, **kw: Any) -> list[Any]:
    """The deliveries ``run`` plans for a scenario under these flags (settings resolved once)."""
    flags.secret = secret
    return runner.plan(sc, resolve(flags, sc), **kw)


def fields_of(delivery: Any) -> dict[str, str]:
    content_type, body = delivery.callback.body()
    return decode(body, content_type)


# --- planning ----------------------------------------------------------------------------


def test_repeat_expands_entries_with_ids_in_listed_order() -> None:
    deliveries = plan(
        scenario(callbacks=[{"repeat": 2}, {"repeat": 0}, {"status": "FAILED"}]),
        options(),
        SECRET,
    )
    assert [d.callback.callback_id for d in deliveries] == ["cb-000001", "cb-000002", "cb-000003"]
    assert fields_of(deliveries[2])["status"] == "FAILED"
    assert all(d.target == TARGET for d in deliveries)


def payloads(deliveries: list[Any]) -> list[dict[str, Any]]:
    """Each delivery's decoded body without its identity (nonce and signature): what a seed
    fixes. Nonces are fresh each run, so two runs of one scenario never collide."""
    identity = ("nonce", "signature")
    return [
        {k: v for k, v in decode(d.callback.body()[1]).items() if k not in identity}
        for d in deliveries
    ]


def test_same_seed_gives_the_same_payloads_and_another_seed_does_not() -> None:
    sc = scenario(
        seed=11, app_id="1234567890", callbacks=[{"repeat": 3, "timestamp": 1_700_000_000}]
    )
    first = plan(sc, options(), SECRET)
    again = plan(sc, options(), SECRET)
    other = plan(sc, options(seed=12), SECRET)
    assert payloads(first) == payloads(again)
    assert payloads(first) != payloads(other)
    nonces = [fields_of(d)["nonce"] for d in first + again]
    assert len(set(nonces)) == len(nonces)  # same second, same seed: never the same nonce


def test_a_pinned_nonce_is_kept_by_every_run() -> None:
    sc = scenario(seed=11, callbacks=[{"nonce": "123412", "timestamp": 1_700_000_000}])
    assert fields_of(plan(sc, options(), SECRET)[0])["nonce"] == "123412"
    assert fields_of(plan(sc, options(), SECRET)[0])["nonce"] == "123412"


def test_reversed_order_delivers_the_last_listed_first_with_the_same_payloads() -> None:
    listed = scenario(seed=5, callbacks=[{"repeat": 4, "timestamp": 1_700_000_000}])
    reverse = listed.model_copy(update={"order": "reversed"})
    as_listed = plan(listed, options(), SECRET)
    reversed_ = plan(reverse, options(), SECRET)
    assert [d.callback.callback_id for d in reversed_] == [
        d.callback.callback_id for d in reversed(as_listed)
    ]
    assert payloads(reversed_) == payloads(as_listed[::-1])


def test_shuffled_order_is_a_permutation_fixed_by_the_seed() -> None:
    sc = scenario(seed=9, order="shuffled", callbacks=[{"repeat": 12}])
    ids = [d.callback.callback_id for d in plan(sc, options(), SECRET)]
    again = [d.callback.callback_id for d in plan(sc, options(), SECRET)]
    assert ids == again
    assert sorted(ids) == [f"cb-{n:06d}" for n in range(1, 13)]
    assert ids != sorted(ids)


def test_flags_override_the_scenario() -> None:
    sc = scenario(target="http://example.invalid/cb", app_id="111", encoding="json")
    [delivery] = plan(sc, RunOptions(target=TARGET, app_id="222", encoding="form"), SECRET)
    assert delivery.target == TARGET
    assert delivery.callback.body()[0] == "application/x-www-form-urlencoded"
    assert fields_of(delivery)["appid"] == "222"


def test_missing_target_is_a_usage_error_naming_the_scenario() -> None:
    with pytest.raises(UsageError, match="no target"):
        plan(scenario(name="nowhere"), RunOptions(), SECRET)


def test_delay_tamper_rename_fields_and_fixed_stamp_reach_the_wire() -> None:
    sc = scenario(
        callbacks=[
            {
                "delay": 3.5,
                "tamper": "bad_signature",
                "rename": {"file_id": "fileId"},
                "fields": {"extra": "x"},
                "timestamp": 1_700_000_123,
                "nonce": "424242",
            }
        ]
    )
    [delivery] = plan(sc, options(), SECRET)
    fields = fields_of(delivery)
    assert delivery.delay == 3.5
    assert "fileId" in fields and "file_id" not in fields
    assert fields["extra"] == "x"
    assert fields["timestamp"] == "1700000123" and fields["nonce"] == "424242"
    content_type, body = delivery.callback.body()
    verdict = verify_callback(body, content_type, SECRET.value)
    assert not verdict.signature_ok


def test_every_untampered_callback_verifies_with_the_secret() -> None:
    sc = scenario(encoding="json-urlencoded", callbacks=[{"repeat": 3}])
    for delivery in plan(sc, options(), SECRET):
        content_type, body = delivery.callback.body()
        assert verify_callback(body, content_type, SECRET.value, max_age=60).ok


def test_duplicates_repeat_the_same_signed_body_under_their_own_ids() -> None:
    sc = scenario(callbacks=[{"duplicates": 2}, {}])
    deliveries = plan(sc, options(), SECRET)
    ids = [d.callback.callback_id for d in deliveries]
    assert ids == ["cb-000001", "cb-000001-dup1", "cb-000001-dup2", "cb-000002"]
    assert deliveries[0].callback.body() == deliveries[1].callback.body()
    assert deliveries[0].callback.body() == deliveries[2].callback.body()
    chains = delivery_chains(deliveries)
    assert [[d.callback.callback_id for d in chain] for chain in chains] == [
        ["cb-000001", "cb-000001-dup1", "cb-000001-dup2"],
        ["cb-000002"],
    ]


def test_resign_each_attempt_gives_a_fresh_stamp_nonce_and_valid_signature() -> None:
    sc = scenario(retry={"resign_each_attempt": True}, callbacks=[{"timestamp": 1_700_000_000}])
    [delivery] = plan(sc, options(), SECRET, now=lambda: 1_800_000_000.0)
    assert delivery.resign is not None
    first = delivery.callback
    second = delivery.resign(first)
    third = delivery.resign(second)
    assert second.callback_id == first.callback_id
    assert len({first.fields["nonce"], second.fields["nonce"], third.fields["nonce"]}) == 3
    for callback in (first, second, third):
        assert verify_callback(callback.body()[1], callback.body()[0], SECRET.value).ok
    # the entry fixed the timestamp, so re-signing keeps it
    assert second.fields["timestamp"] == "1700000000"
    unfixed = plan(
        scenario(retry={"resign_each_attempt": True}),
        options(),
        SECRET,
        now=lambda: 1_800_000_000.0,
    )
    resigned = unfixed[0].resign(unfixed[0].callback)
    assert resigned.fields["timestamp"] == "1800000000"


def test_without_resign_retries_get_no_resigner() -> None:
    [delivery] = plan(scenario(), options(), SECRET)
    assert delivery.resign is None


def test_request_preview_matches_what_goes_on_the_wire() -> None:
    [delivery] = plan(scenario(encoding="json"), options(), SECRET)
    preview = request_preview(delivery)
    content_type, body = delivery.callback.body()
    assert preview["method"] == "POST" and preview["url"] == TARGET
    assert preview["headers"]["Content-Type"] == content_type
    assert preview["headers"]["Content-Length"] == str(len(body))
    assert preview["headers"]["User-Agent"].startswith("zego-callback-emulator/")
    assert preview["body"].encode() == body
    assert preview["nested"]["extra_params"]["media"]["transcode"]
    assert SECRET.value not in json.dumps(preview)


# --- running -----------------------------------------------------------------------------


async def test_run_writes_run_then_every_line_then_summary_and_expectations_hold(
    tmp_path: Path,
) -> None:
    record = tmp_path / "run.jsonl"
    sc = scenario(
        name="retry then success",
        callbacks=[{"repeat": 2}],
        expect={"callbacks": 2, "delivered": 2, "lost": 0, "attempts": 6, "max_attempts": 3},
    )
    async with ScriptedReceiver(statuses=[500, 500, 200], per_task=True) as receiver:
        result = await execute(
            sc, RunOptions(target=receiver.url, virtual=True, record=record, secret=SECRET)
        )
    lines = read_record(record)
    assert lines[0]["type"] == "run" and lines[-1]["type"] == "summary"
    run_line = lines[0]
    for key in ("run_id", "started_at", "scenario", "target", "encoding", "speed", "version"):
        assert key in run_line
    assert run_line["scenario"] == "retry then success" and run_line["target"] == receiver.url
    assert {line["run_id"] for line in lines} == {result.run_id}
    types = [line["type"] for line in lines]
    assert types.count("callback") == 2 and types.count("outcome") == 2
    assert types.count("attempt") == 6
    summary = lines[-1]
    assert summary == result.summary
    assert (summary["callbacks"], summary["delivered"], summary["lost"], summary["attempts"]) == (
        2,
        2,
        0,
        6,
    )
    assert all(item["ok"] for item in summary["expectations"])
    assert [item["name"] for item in summary["expectations"]] == [
        "callbacks",
        "delivered",
        "lost",
        "attempts",
        "max_attempts",
    ]
    assert result.exit_code == 0


async def test_failed_expectation_shows_expected_and_observed_and_exit_code_1(
    tmp_path: Path,
) -> None:
    sc = scenario(expect={"delivered": 1, "lost": 0, "attempts": 1})
    async with ScriptedReceiver(statuses=[500], per_task=True) as receiver:
        result = await execute(
            sc,
            RunOptions(
                target=receiver.url, virtual=True, record=tmp_path / "r.jsonl", secret=SECRET
            ),
        )
    assert result.exit_code == 1
    failed = {item.name: (item.expected, item.observed) for item in result.failed}
    assert failed == {"delivered": (1, 0), "lost": (0, 1), "attempts": (1, 6)}
    assert result.failed[0].describe() == "delivered: expected 1, observed 0"


async def test_duplicates_count_as_callbacks_and_follow_the_original(tmp_path: Path) -> None:
    record = tmp_path / "run.jsonl"
    sc = scenario(callbacks=[{"duplicates": 2}], expect={"callbacks": 3, "delivered": 3})
    async with ScriptedReceiver(statuses=[200], per_task=True) as receiver:
        result = await execute(
            sc, RunOptions(target=receiver.url, virtual=True, record=record, secret=SECRET)
        )
    assert result.exit_code == 0
    assert len(set(receiver.bodies)) == 1 and len(receiver.bodies) == 3
    outcomes = [line["callback_id"] for line in read_record(record) if line["type"] == "outcome"]
    assert outcomes == ["cb-000001", "cb-000001-dup1", "cb-000001-dup2"]


async def test_timeout_flag_overrides_the_scenario_retry_timeout(tmp_path: Path) -> None:
    record = tmp_path / "run.jsonl"
    sc = scenario(retry={"intervals": [1], "timeout": 30})
    async with ScriptedReceiver(statuses=[200], per_task=True, answer_after=1.0) as receiver:
        result = await execute(
            sc,
            RunOptions(
                target=receiver.url, virtual=True, record=record, secret=SECRET, timeout=0.2
            ),
        )
    assert result.lost == 1
    attempts = [line for line in read_record(record) if line["type"] == "attempt"]
    assert [line["error"] for line in attempts] == ["timeout", "timeout"]


async def test_stop_event_cancels_pending_deliveries_and_still_writes_the_summary(
    tmp_path: Path,
) -> None:
    record = tmp_path / "run.jsonl"
    stop = asyncio.Event()
    sc = scenario(callbacks=[{"repeat": 3}], expect={"delivered": 3})
    async with ScriptedReceiver(statuses=[500], per_task=True) as receiver:
        runner = asyncio.ensure_future(
            execute(
                sc,
                RunOptions(target=receiver.url, speed=1.0, record=record, secret=SECRET),
                stop=stop,
            )
        )
        while len(receiver.bodies) < 3:  # every first request went out; retries wait 2 s
            await asyncio.sleep(0.01)
        stop.set()
        result = await runner
    assert result.interrupted and result.exit_code == 130
    lines = read_record(record)
    summary = lines[-1]
    assert summary["type"] == "summary" and summary["interrupted"] is True
    assert summary["attempts"] == 3 and summary["pending"] == 3 and summary["callbacks"] == 3
    assert not [line for line in lines if line["type"] == "outcome"]


async def test_cancelling_a_run_writes_the_summary_then_cancels(tmp_path: Path) -> None:
    record = tmp_path / "run.jsonl"
    async with ScriptedReceiver(statuses=[500], per_task=True) as receiver:
        runner = asyncio.ensure_future(
            execute(scenario(), RunOptions(target=receiver.url, record=record, secret=SECRET))
        )
        # cancel once the first attempt is recorded (its answer read), never mid-request:
        # the next request is 2 s away, so the run is then provably idle
        while '"type":"attempt"' not in (record.read_text() if record.exists() else ""):
            await asyncio.sleep(0.01)
        runner.cancel()
        with pytest.raises(asyncio.CancelledError):
            await runner
    summary = read_record(record)[-1]
    assert summary["type"] == "summary" and summary["interrupted"] is True
    assert summary["attempts"] == 1


async def test_the_secret_is_in_no_record_line(tmp_path: Path) -> None:
    record = tmp_path / "run.jsonl"
    sc = scenario(
        callbacks=[{"repeat": 2}, {"tamper": "bad_signature"}, {"tamper": "stale_timestamp"}],
        retry={"resign_each_attempt": True},
    )
    async with ScriptedReceiver(statuses=[500, 200], per_task=True) as receiver:
        await execute(
            sc, RunOptions(target=receiver.url, virtual=True, record=record, secret=SECRET)
        )
    text = record.read_text()
    assert SECRET.value not in text
    assert text.count('"type":"attempt"') == 8


async def test_virtual_clock_option_is_used_and_records_emulated_times(tmp_path: Path) -> None:
    record = tmp_path / "run.jsonl"
    clock = VirtualClock(start_epoch=1_000_000.0)
    async with ScriptedReceiver(statuses=[500], per_task=True) as receiver:
        started = time.perf_counter()
        await execute(
            scenario(callbacks=[{"repeat": 25}]),
            RunOptions(target=receiver.url, clock=clock, record=record, secret=SECRET),
        )
        print(f"25 lost callbacks in virtual time: {time.perf_counter() - started:.3f} s wall")
    attempts = [line for line in read_record(record) if line["type"] == "attempt"]
    assert len(attempts) == 150
    assert max(float(line["sent_at"]) for line in attempts) == 1_000_062.0
