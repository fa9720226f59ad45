"""``check --product zim`` judges ZIM receivers written from the digest (§1.2, §11).

A correct receiver passes every case; each bug a ZIM receiver really has — a timestamp
taken for seconds when it is milliseconds, a hook answered ``ok``, a hook answered too
late, a result sent as a string — fails the case named for it.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from emulator.check import CheckOptions, CheckResult, all_cases, run_check
from emulator.servers.start import start_server

SECRET = "zim-check-secret"
MAX_AGE = 300


@dataclass
class ZimBugs:
    """What a ZIM receiver gets wrong (all False: a correct one)."""

    seconds_only: bool = False  # reads every timestamp as seconds
    string_timestamp: bool = False  # refuses a timestamp that is not a JSON string
    hook_says_ok: bool = False  # answers the hook like a notification
    hook_result_as_text: bool = False  # {"result": "1"}
    slow_hook: bool = False  # answers the hook only when told to
    no_verify: bool = False


@dataclass
class ZimDocReceiver:
    """A ZIM endpoint as the digest describes it: JSON bodies, sha1 of the three sorted
    strings (timestamp's decimal text), fresh within 5 minutes (ms read as ms); the hook
    answered with ``{"result": 1}``."""

    bugs: ZimBugs
    release: asyncio.Event = field(default_factory=asyncio.Event)

    def fresh(self, stamp: int) -> bool:
        seconds = stamp / 1000 if stamp >= 10**11 and not self.bugs.seconds_only else stamp
        return abs(time.time() - seconds) <= MAX_AGE

    def signed(self, body: dict[str, Any]) -> bool:
        parts = sorted([SECRET, str(body.get("timestamp")), str(body.get("nonce"))])
        expected = hashlib.sha1("".join(parts).encode()).hexdigest()
        return hmac.compare_digest(expected, str(body.get("signature", "")))

    async def handle(self, request: web.Request) -> web.Response:
        body = json.loads(await request.read())
        stamp = body.get("timestamp")
        if self.bugs.string_timestamp and not isinstance(stamp, str):
            return web.Response(status=400, text="timestamp must be a string")
        valid = self.signed(body) and isinstance(stamp, int) and self.fresh(stamp)
        if not self.bugs.no_verify and not valid:
            return web.Response(status=401, text="bad signature")
        if body.get("event") != "before_send_msg":
            return web.Response(text="success")
        if self.bugs.slow_hook:
            await self.release.wait()
        if self.bugs.hook_says_ok:
            return web.Response(text="ok")
        result: Any = "1" if self.bugs.hook_result_as_text else 1
        return web.json_response({"result": result})

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/zim", self.handle)
        return app


async def check_zim(bugs: ZimBugs, **options: Any) -> CheckResult:
    receiver = ZimDocReceiver(bugs)
    async with await start_server(receiver.app()) as server:
        try:
            return await run_check(
                CheckOptions(
                    target=f"{server.url}/zim", callback_secret=SECRET, product="zim", **options
                )
            )
        finally:
            receiver.release.set()


def failing(result: CheckResult) -> set[str]:
    return {case.case.id for case in result.failed}


async def test_a_correct_zim_receiver_passes_every_zim_case() -> None:
    result = await check_zim(ZimBugs())
    assert result.passed, result.describe_failures()
    assert len(result.cases) == len(all_cases("zim"))
    ids = {case.case.id for case in result.cases}
    assert {"zim.timestamp-ms", "zim.hook.answer", "zim.hook.deadline"} <= ids
    assert "event.zim.room_create" in ids and "procedure.success" not in ids


async def test_a_receiver_reading_seconds_only_fails_the_millisecond_cases() -> None:
    result = await check_zim(ZimBugs(seconds_only=True))
    assert {"zim.timestamp-ms", "event.zim.room_create", "event.zim.group_join"} <= failing(result)
    assert not failing(result) & {"zim.timestamp-number", "event.zim.send_msg"}


async def test_a_receiver_wanting_string_timestamps_fails_every_valid_zim_callback() -> None:
    result = await check_zim(ZimBugs(string_timestamp=True))
    assert "zim.timestamp-number" in failing(result)
    numeric = next(case for case in result.failed if case.case.id == "zim.timestamp-number")
    assert "never acknowledged: 400" in numeric.reason


async def test_a_hook_answered_ok_fails_the_answer_contract() -> None:
    result = await check_zim(ZimBugs(hook_says_ok=True))
    assert "zim.hook.answer" in failing(result)
    answer = next(case for case in result.failed if case.case.id == "zim.hook.answer")
    assert "not the documented JSON" in answer.reason and "'ok'" in answer.reason
    decision = answer.probes[0].outcome.history[0].decision
    assert decision is not None and decision["answer"] == "invalid"


async def test_a_result_sent_as_text_fails_the_answer_contract() -> None:
    result = await check_zim(ZimBugs(hook_result_as_text=True))
    answer = next(case for case in result.failed if case.case.id == "zim.hook.answer")
    assert 'result "1" is not an integer' in answer.reason


async def test_a_hook_that_misses_the_deadline_fails_it() -> None:
    # the deadline is ZIM's 2.5 s, or --timeout when shorter: 0.05 s here, and the hook
    # answers only once the suite is over
    result = await check_zim(ZimBugs(slow_hook=True), timeout=0.05)
    assert {"zim.hook.deadline", "zim.hook.answer"} <= failing(result)
    deadline = next(case for case in result.failed if case.case.id == "zim.hook.deadline")
    assert "no answer in time: not sent" in deadline.reason
    assert [a.error for a in deadline.probes[0].outcome.history] == ["timeout"]


async def test_a_receiver_that_verifies_nothing_fails_the_forgery_cases() -> None:
    result = await check_zim(ZimBugs(no_verify=True))
    assert {"zim.signature.forged", "zim.hook.forged", "zim.timestamp-ms-stale"} <= failing(result)
