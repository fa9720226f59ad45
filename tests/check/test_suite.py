"""The conformance suite judges real receivers written from ZEGO's docs (not our verifier).

Each buggy receiver makes the suite fail naming the case that catches its bug; a correct
receiver — in Python and in Node — and the emulator's own ``Receiver`` pass every case.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest

from emulator.check import CheckOptions, CheckResult, all_cases, run_check, select_cases
from emulator.errors import UsageError
from emulator.events import EVENT_NAMES
from emulator.servers.receiver import Receiver
from emulator.servers.start import start_server
from tests.check.receivers.doc_receiver import Bugs, DocReceiver

SECRET = "check-suite-callback-secret"
ALL_ENCODINGS = ("json", "form", "json-urlencoded")


async def check_doc_receiver(bugs: Bugs, secret: str = SECRET, **options: object) -> CheckResult:
    receiver = DocReceiver(secret, bugs)
    async with await start_server(receiver.app()) as server:
        return await run_check(
            CheckOptions(
                target=f"{server.url}/zego/callback",
                callback_secret=SECRET,
                **options,  # type: ignore[arg-type]  # each test passes valid keys by name
            )
        )


def failing(result: CheckResult) -> set[str]:
    return {case.case.id for case in result.failed}


async def test_a_correct_receiver_passes_every_case_in_every_encoding() -> None:
    result = await check_doc_receiver(Bugs(), encodings=ALL_ENCODINGS)
    assert result.passed, result.describe_failures()
    assert {case.verdict for case in result.cases} == {"pass"}
    assert len(result.cases) == len(all_cases())


async def test_a_receiver_that_verifies_nothing_fails_every_signature_case() -> None:
    result = await check_doc_receiver(Bugs(verify_nothing=True))
    assert not result.passed
    assert failing(result) == {
        "signature.forged",
        "signature.missing",
        "signature.stale",
        "signature.future",
        "signature.server-secret",
    }
    forged = next(case for case in result.failed if case.case.id == "signature.forged")
    assert "expected refused, accepted (200 on attempt 1)" in forged.reason
    assert forged.probes[0].outcome.final_status == 200


async def test_a_receiver_with_the_wrong_secret_fails_the_valid_callbacks() -> None:
    result = await check_doc_receiver(Bugs(), secret="not-the-callback-secret")
    assert {"procedure.success", "vector.string-sort", "event.compose"} <= failing(result)
    success = next(case for case in result.failed if case.case.id == "procedure.success")
    assert "never acknowledged: 401" in success.reason
    # what it refuses, it refuses: the tampered cases pass
    assert not failing(result) & {"signature.forged", "signature.stale"}


async def test_a_numeric_sort_is_caught_by_the_string_sort_vector() -> None:
    result = await check_doc_receiver(Bugs(numeric_sort=True))
    assert "vector.string-sort" in failing(result)
    # the other vectors sort the same both ways: they isolate their own bug
    assert not failing(result) & {"vector.nonce-short", "vector.nonce-leading-zero"}


async def test_a_crash_on_empty_extra_params_fails_the_failed_procedure_case() -> None:
    result = await check_doc_receiver(Bugs(crash_on_empty_extra_params=True))
    assert failing(result) == {"procedure.failed-empty-extra-params"}
    case = result.failed[0]
    assert "never acknowledged: 500" in case.reason
    evidence = case.to_json()["evidence"][0]
    assert evidence["request"]["fields"]["extra_params"] == ""
    assert evidence["answers"][0]["status"] == 500


async def test_refusing_every_repeat_fails_the_redelivery_cases() -> None:
    result = await check_doc_receiver(Bugs(refuse_repeats=True))
    assert failing(result) == {
        "redelivery.retry-after-missed-answer",
        "redelivery.duplicate-delivery",
    }
    retry = next(c for c in result.failed if c.case.id == "redelivery.retry-after-missed-answer")
    first, again = retry.probes
    assert first.verdict.ok and again.outcome.final_status == 409
    assert again.probe.callback.body() == first.probe.callback.body()  # the identical body


async def test_the_emulators_own_receiver_passes_with_its_defaults() -> None:
    async with Receiver(SECRET) as receiver:
        result = await run_check(
            CheckOptions(target=receiver.url, callback_secret=SECRET, encodings=ALL_ENCODINGS)
        )
    assert result.passed, result.describe_failures()
    duplicates = [item for item in receiver.received if item.duplicate]
    assert len(duplicates) == 2 * len(ALL_ENCODINGS)  # acknowledged, not processed again


async def test_the_emulators_receiver_refusing_repeats_fails_exactly_the_redelivery_cases() -> None:
    async with Receiver(SECRET, replay_status=409) as receiver:
        result = await run_check(CheckOptions(target=receiver.url, callback_secret=SECRET))
    assert failing(result) == {
        "redelivery.retry-after-missed-answer",
        "redelivery.duplicate-delivery",
    }


async def test_a_given_server_secret_signs_the_server_secret_case() -> None:
    server_secret = "0123456789abcdef0123456789abcdef"
    accepts_both = Receiver(SECRET)
    async with accepts_both:
        result = await run_check(
            CheckOptions(
                target=accepts_both.url,
                callback_secret=server_secret,  # the receiver holds the other one
                server_secret=SECRET,
                only=("signature.server-secret",),
            )
        )
    # signed with what the receiver knows as its secret: accepted, so the case fails
    assert failing(result) == {"signature.server-secret"}


async def test_an_unreachable_target_fails_cases_without_raising() -> None:
    async with Receiver(SECRET) as receiver:
        url = receiver.url
    result = await run_check(
        CheckOptions(target=url, callback_secret=SECRET, only=("procedure.success",))
    )
    assert failing(result) == {"procedure.success"}
    assert "connection_refused" in result.failed[0].reason


def test_every_catalogue_event_has_a_case() -> None:
    ids = {case.id for case in all_cases()}
    for event in EVENT_NAMES:
        if event != "procedure" and "." not in event:
            assert f"event.{event}" in ids


def test_case_ids_are_unique_and_every_case_says_why_and_what_failing_means() -> None:
    cases = all_cases()
    assert len({case.id for case in cases}) == len(cases)
    for case in cases:
        assert case.title and case.why and case.hint, case.id


def test_selecting_an_unknown_case_names_it() -> None:
    with pytest.raises(UsageError, match=re.escape("--case signature.forgd: no such case")):
        select_cases(all_cases(), only=["signature.forgd"])
    with pytest.raises(UsageError, match=re.escape("--skip nope: no such case")):
        select_cases(all_cases(), skip=["nope"])
    chosen = select_cases(all_cases(), only=["signature.forged", "vector.string-sort"])
    assert [case.id for case in chosen] == ["signature.forged", "vector.string-sort"]
    assert "signature.forged" not in {
        c.id for c in select_cases(all_cases(), skip=["signature.forged"])
    }


async def test_a_server_secret_equal_to_the_callback_secret_is_bad_input() -> None:
    with pytest.raises(UsageError, match="--server-secret"):
        await run_check(
            CheckOptions(target="http://127.0.0.1:9", callback_secret="a", server_secret="a")
        )


class NodeReceiver:
    """``tests/receivers/zego_receiver.mjs`` running under node on a free port."""

    SCRIPT = Path(__file__).parent / "receivers" / "zego_receiver.mjs"

    def __init__(self, *args: str) -> None:
        self.args = args
        self.process: asyncio.subprocess.Process | None = None
        self.url = ""

    async def __aenter__(self) -> NodeReceiver:
        self.process = await asyncio.create_subprocess_exec(
            "node", str(self.SCRIPT), *self.args, stdout=asyncio.subprocess.PIPE
        )
        assert self.process.stdout is not None
        line = await asyncio.wait_for(self.process.stdout.readline(), 30)
        self.url = f"http://127.0.0.1:{int(line.split()[1])}/zego/callback"
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.process is not None
        self.process.terminate()
        await self.process.wait()


async def test_a_correct_node_receiver_passes_every_case() -> None:
    async with NodeReceiver(SECRET) as node:
        result = await run_check(
            CheckOptions(target=node.url, callback_secret=SECRET, encodings=ALL_ENCODINGS)
        )
    assert result.passed, result.describe_failures()


async def test_a_node_receiver_sorting_numerically_fails_the_string_sort_vector() -> None:
    async with NodeReceiver(SECRET, "numeric-sort") as node:
        result = await run_check(CheckOptions(target=node.url, callback_secret=SECRET))
    assert "vector.string-sort" in failing(result)
