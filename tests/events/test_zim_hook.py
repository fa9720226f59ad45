"""ZIM's before_send_msg hook (§11.8, §1.4): the answer contract read strictly, the decision
recorded on the attempt, over real sockets to hook receivers written from the digest."""

from __future__ import annotations

import asyncio
import hashlib
import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from emulator.callback.factory import CallbackFactory
from emulator.clock import VirtualClock
from emulator.delivery.dispatch import Delivery, Dispatcher, DispatchListener
from emulator.delivery.results import Outcome
from emulator.events import EVENTS
from emulator.events.zim.hook_answer import read_hook_answer
from emulator.record.reader import read_record
from emulator.record.writer import Recorder
from emulator.report.html import render_html
from emulator.report.junit import render_junit
from emulator.report.model import load
from emulator.retry import RetryPolicy
from emulator.run.planner import plan
from emulator.run.runner import execute
from emulator.scenario.model import Scenario
from emulator.servers.receiver import answer_content
from emulator.servers.start import start_server
from emulator.settings import RunOptions, Secret, resolve

SECRET = "zim-hook-secret"
KEY = Secret(SECRET, "test")
# ZIM's hook policy, the deadline scaled down 50x: no answer in time -> one immediate retry
HOOK_POLICY = RetryPolicy(intervals=(0.0,), timeout=0.05)


@pytest.mark.parametrize(
    ("body", "meaning", "message"),
    [
        (b'{"result": 0}', "neutral", "sent"),
        (b'{"result": 1}', "send", "sent"),
        (b'{"result": 2}', "silent", "silent"),
        (b'{"result": 3, "reason": "spam"}', "refuse", "not_sent"),
    ],
)
def test_each_documented_result_decides_the_message(
    body: bytes, meaning: str, message: str
) -> None:
    decision = read_hook_answer(200, None, body)
    assert decision.answer == "decision" and decision.problem is None
    assert (decision.meaning, decision.message) == (meaning, message)


def test_replacements_and_reason_are_read() -> None:
    decision = read_hook_answer(
        200, None, b'{"result":1,"new_msg_body":"hi ***","new_payload":"{}","x":1}'
    )
    assert decision.new_msg_body == "hi ***" and decision.new_payload == "{}"
    assert decision.summary() == "result 1 (send): sent, replaces msg_body and payload"
    assert read_hook_answer(200, None, b'{"result":3,"reason":"spam"}').reason == "spam"


def test_an_undocumented_result_is_neutral_and_says_so() -> None:
    decision = read_hook_answer(200, None, b'{"result": 7}')
    assert (decision.answer, decision.result, decision.meaning) == ("decision", 7, "neutral")
    assert decision.message == "sent" and "not documented" in str(decision.note)


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (b"", "an empty body"),
        (b"ok", "not JSON: 'ok'"),
        (b"[3]", "JSON list, expected an object"),
        (b'{"reason": "spam"}', "no result"),
        (b'{"result": "3"}', 'result "3" is not an integer'),
        (b'{"result": 3.0}', "result 3.0 is not an integer"),
        (b'{"result": true}', "result true is not an integer"),
        (b'{"result": 3, "reason": 5}', "reason 5 is not a string"),
        (b'{"result": 1, "new_msg_body": null}', "new_msg_body null is not a string"),
    ],
)
def test_what_is_not_the_documented_json_is_invalid(body: bytes, fragment: str) -> None:
    decision = read_hook_answer(200, None, body)
    assert decision.invalid and decision.message == "not_sent"
    assert fragment in str(decision.problem)


def test_a_failing_or_silent_hook_leaves_the_message_unsent() -> None:
    assert read_hook_answer(500, None, b'{"result": 1}').answer == "error_status"
    late = read_hook_answer(None, "timeout", b"")
    assert (late.answer, late.message) == ("no_answer", "not_sent")


# --- over sockets ----------------------------------------------------------------------------

Answer = Callable[[dict[str, Any]], Awaitable[web.Response]]


def signed_by_zego(body: dict[str, Any]) -> bool:
    """§1.2, as a receiver writes it: sha1 of the three strings sorted, timestamp's text."""
    parts = sorted([SECRET, str(body["timestamp"]), str(body["nonce"])])
    return hashlib.sha1("".join(parts).encode()).hexdigest() == body["signature"]


class HookReceiver:
    """A before_send_msg endpoint as a customer writes it from the digest."""

    def __init__(self, answer: Answer) -> None:
        self.answer = answer
        self.requests: list[dict[str, Any]] = []

    async def handle(self, request: web.Request) -> web.Response:
        body = json.loads(await request.read())
        assert signed_by_zego(body) and body["event"] == "before_send_msg"
        assert isinstance(body["request_id"], str) and isinstance(body["timestamp"], int)
        self.requests.append(body)
        return await self.answer(body)


@pytest.fixture
async def hook_target() -> AsyncIterator[Callable[[Answer], Awaitable[tuple[HookReceiver, str]]]]:
    stops: list[Callable[[], Awaitable[None]]] = []

    async def start(answer: Answer) -> tuple[HookReceiver, str]:
        receiver = HookReceiver(answer)
        app = web.Application()
        app.router.add_post("/hook", receiver.handle)
        server = await start_server(app)
        stops.append(server.stop)
        return receiver, server.url + "/hook"

    yield start
    for stop in stops:
        await stop()


class Finished(DispatchListener):
    def __init__(self) -> None:
        self.done = asyncio.Event()

    def delivery_finished(self, outcome: Outcome) -> None:
        self.done.set()


async def deliver_hook(
    url: str, record: Path, listener: DispatchListener | None = None
) -> tuple[Outcome, list[dict[str, Any]]]:
    factory = CallbackFactory(seed=11)
    spec = EVENTS["zim.before_send_msg"]
    callback = factory.callback(factory.build(spec.name), SECRET, encoding="json")
    with Recorder(record) as recorder:
        dispatcher = Dispatcher(
            policy=HOOK_POLICY,
            clock=VirtualClock(),
            recorder=recorder,
            listeners=[listener] if listener else [],
        )
        async with dispatcher:
            outcome = await dispatcher.deliver(
                Delivery(callback, url, read_answer=spec.read_answer)
            )
    attempts = [line for line in read_record(record) if line["type"] == "attempt"]
    return outcome, attempts


async def test_a_refusal_with_a_reason_is_recorded_on_the_attempt(
    hook_target: Callable[[Answer], Awaitable[tuple[HookReceiver, str]]], tmp_path: Path
) -> None:
    async def refuse(body: dict[str, Any]) -> web.Response:
        return web.json_response({"result": 3, "reason": "spam"})

    receiver, url = await hook_target(refuse)
    outcome, attempts = await deliver_hook(url, tmp_path / "r.jsonl")
    assert outcome.delivered and len(receiver.requests) == 1
    (line,) = attempts
    decision = line["decision"]
    assert (decision["answer"], decision["result"], decision["meaning"]) == (
        "decision",
        3,
        "refuse",
    )
    assert decision["message"] == "not_sent" and decision["reason"] == "spam"


async def test_a_late_answer_gets_one_immediate_retry_then_the_hook_gives_up(
    hook_target: Callable[[Answer], Awaitable[tuple[HookReceiver, str]]], tmp_path: Path
) -> None:
    finished = Finished()

    async def too_late(body: dict[str, Any]) -> web.Response:
        await finished.done.wait()  # answers only once the sender has given up on it
        return web.json_response({"result": 1})

    receiver, url = await hook_target(too_late)
    outcome, attempts = await deliver_hook(url, tmp_path / "r.jsonl", finished)
    assert not outcome.delivered and outcome.attempts == 2
    assert [line["error"] for line in attempts] == ["timeout", "timeout"]
    assert attempts[1]["gap_s"] == 0.0  # the retry is immediate
    assert [line["decision"]["answer"] for line in attempts] == ["no_answer", "no_answer"]
    assert attempts[-1]["decision"]["message"] == "not_sent"
    assert len(receiver.requests) == 2
    assert receiver.requests[0]["request_id"] == receiver.requests[1]["request_id"]


async def test_a_garbage_answer_is_not_retried_and_recorded_as_invalid(
    hook_target: Callable[[Answer], Awaitable[tuple[HookReceiver, str]]], tmp_path: Path
) -> None:
    async def garbage(body: dict[str, Any]) -> web.Response:
        return web.Response(text="<html>500 oops</html>", content_type="text/html")

    receiver, url = await hook_target(garbage)
    outcome, attempts = await deliver_hook(url, tmp_path / "r.jsonl")
    assert outcome.attempts == 1 and len(receiver.requests) == 1
    decision = attempts[0]["decision"]
    assert decision["answer"] == "invalid" and decision["message"] == "not_sent"
    assert "not JSON" in decision["problem"]


async def test_other_events_record_no_decision(
    hook_target: Callable[[Answer], Awaitable[tuple[HookReceiver, str]]], tmp_path: Path
) -> None:
    assert EVENTS["zim.send_msg"].read_answer is None
    assert EVENTS["procedure"].read_answer is None


# --- in scenarios ----------------------------------------------------------------------------


def test_a_hook_in_a_scenario_follows_zims_before_send_profile() -> None:
    scenario = Scenario.model_validate(
        {"callbacks": [{"event": "zim.before_send_msg"}, {"event": "zim.send_msg"}]}
    )
    hook, sent = plan(scenario, resolve(RunOptions(target="http://127.0.0.1:9/", secret=KEY)))
    assert hook.policy is not None and hook.read_answer is not None
    assert (hook.policy.intervals, hook.policy.timeout) == ((0.0,), 2.5)
    assert hook.policy.retry_on == "no_answer"
    assert sent.read_answer is None and (sent.policy is None or sent.policy.profile == "rtc")


async def test_a_non_2xx_hook_answer_is_final_and_leaves_the_message_unsent(
    tmp_path: Path,
) -> None:
    scenario = Scenario.model_validate(
        {
            "encoding": "json",
            "callbacks": [{"event": "zim.before_send_msg", "respond": [500, 200]}],
        }
    )
    options = RunOptions(
        secret=KEY, virtual=True, live=False, builtin_receiver=True, record=tmp_path / "r.jsonl"
    )
    result = await execute(scenario, options)
    (outcome,) = result.outcomes
    assert outcome.attempts == 1 and not outcome.delivered
    decision = outcome.history[0].decision
    assert decision is not None and decision["answer"] == "error_status"
    assert decision["message"] == "not_sent"


# --- a run against hook receivers written from the digest, recorded and reported ------------


class Done(DispatchListener):
    """Sets ``done`` when the callback ``callback_id`` has been delivered or lost."""

    def __init__(self, callback_id: str) -> None:
        self.callback_id = callback_id
        self.done = asyncio.Event()

    def delivery_finished(self, outcome: Outcome) -> None:
        if outcome.callback_id == self.callback_id:
            self.done.set()


HOOK_SCENARIO = {
    "name": "hook receivers from the digest",
    "encoding": "json",
    "seed": 3,
    "retry": {"timeout": 0.05},  # ZIM's 2.5 s deadline, scaled down 50x
    "callbacks": [
        {"event": "zim.before_send_msg", "msg_body": "spam", "expect": {"result": 3}},
        {"event": "zim.before_send_msg", "msg_body": "late", "expect": {"answer": "no_answer"}},
        {"event": "zim.before_send_msg", "msg_body": "garbage"},
    ],
}


async def test_refusal_late_and_garbage_answers_are_judged_recorded_and_reported(
    hook_target: Callable[[Answer], Awaitable[tuple[HookReceiver, str]]], tmp_path: Path
) -> None:
    late_done = Done("cb-000002")

    async def by_body(body: dict[str, Any]) -> web.Response:
        if body["msg_body"] == "spam":
            return web.json_response({"result": 3, "reason": "spam"})
        if body["msg_body"] == "late":
            await late_done.done.wait()  # only once ZIM has given up on it
            return web.json_response({"result": 1})
        return web.Response(text="<html>oops</html>", content_type="text/html")

    receiver, url = await hook_target(by_body)
    record = tmp_path / "hook.jsonl"
    options = RunOptions(target=url, secret=KEY, virtual=True, live=False, record=record)
    result = await execute(Scenario.model_validate(HOOK_SCENARIO), options, [late_done])

    assert result.exit_code == 1  # the garbage answer is a named failure
    by_id = {outcome.callback_id: outcome for outcome in result.outcomes}
    spam, late, garbage = (by_id[f"cb-00000{n}"] for n in (1, 2, 3))
    assert spam.verdict is not None and spam.verdict.ok
    assert "result 3 (refuse): not sent, reason 'spam'" in spam.verdict.reason
    assert late.attempts == 2 and late.verdict is not None and late.verdict.ok
    assert garbage.attempts == 1 and garbage.verdict is not None and not garbage.verdict.ok
    assert "not the documented JSON" in garbage.verdict.reason
    assert [outcome.callback_id for outcome in result.broken] == ["cb-000003"]
    assert len(receiver.requests) == 4

    lines = read_record(record)
    decisions = [line["decision"]["answer"] for line in lines if line["type"] == "attempt"]
    assert sorted(decisions) == ["decision", "invalid", "no_answer", "no_answer"]
    summary = next(line for line in lines if line["type"] == "summary")
    assert summary["verdicts"] == {"pass": 2, "fail": 1} and summary["ok"] is False

    runs = load([record])
    junit = ET.fromstring(render_junit(runs))
    failures = [case for case in junit.iter("testcase") if case.find("failure") is not None]
    assert len(failures) == 1 and "cb-000003" in str(failures[0].get("name"))
    out = "".join(text.text or "" for text in junit.iter("system-out"))
    assert "decision: result 3 (refuse): not sent, reason 'spam'" in out
    assert "decision: no answer in time: not sent" in out
    html = render_html(runs)
    assert "decision: invalid answer (not JSON" in html


def test_a_decision_expect_is_only_for_a_hook_and_names_a_key() -> None:
    hook = {"event": "zim.before_send_msg", "expect": {"result": 3, "reason": "spam"}}
    entry = Scenario.model_validate({"callbacks": [hook]}).callbacks[0]
    assert entry.expectation().label == "result=3 reason=spam"
    with pytest.raises(ValueError, match="what a synchronous hook's answer makes"):
        Scenario.model_validate({"callbacks": [{"event": "zim.send_msg", "expect": {"result": 3}}]})
    with pytest.raises(ValueError, match="at least one of answer, result"):
        Scenario.model_validate({"callbacks": [{"event": "zim.before_send_msg", "expect": {}}]})
    named = {"event": "zim.before_send_msg", "expect": "accepted"}
    assert Scenario.model_validate({"callbacks": [named]}).callbacks[0].expectation().label == (
        "accepted"
    )


def test_a_bad_decision_expect_is_one_line_naming_file_line_and_field(tmp_path: Path) -> None:
    path = tmp_path / "hook.yaml"
    path.write_text(
        "callbacks:\n  - event: zim.before_send_msg\n    expect: {result: 3, reasn: spam}\n"
    )
    result = subprocess.run(
        [sys.executable, "-m", "emulator", "show", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert f"{path}:3: callbacks[0].expect.reasn: unknown key 'reasn'" in line
    assert "did you mean 'reason'?" in line
    assert "Traceback" not in result.stderr


def test_receive_answer_text_is_json_for_an_object_and_text_otherwise() -> None:
    assert answer_content('{"result": 1}') == {"result": 1}
    assert answer_content("ok") == "ok" and answer_content("[1]") == "[1]"
