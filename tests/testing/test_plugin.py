"""The pytest plugin: the ``zego`` fixture as a user's test suite meets it.

Our own tests get the fixture the way users do — from the installed package's ``pytest11``
entry point. ``pytester`` runs user-style test files in a fresh pytest (a subprocess, in
a directory without our configuration) to prove the fixtures work in pytest-asyncio's
auto and strict modes and that the settings fixtures can be overridden.
"""

from __future__ import annotations

import gc
import json
import subprocess
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import pytest
from aiohttp import web

from emulator.callback.model import Callback
from emulator.clock import ScaledClock, VirtualClock
from emulator.signing import verify_fields
from emulator.testing.plugin import Zego, app_kind

pytest_plugins = ["pytester"]

ZEGO_OFFSETS = [0.0, 2.0, 6.0, 14.0, 30.0, 62.0]
REPO = Path(__file__).resolve().parents[2]


# --- the fixture in our own tests ----------------------------------------------------------


async def test_the_fixture_runs_on_virtual_time_by_default(zego: Zego) -> None:
    assert isinstance(zego.clock, VirtualClock)
    receiver = await zego.receiver(500)

    outcome = await zego.deliver(zego.procedure(status="SUCCESS"), to=receiver)

    assert outcome.lost and outcome.attempts == 6
    assert [attempt.offset_s for attempt in outcome.history] == ZEGO_OFFSETS
    assert zego.clock.now() == 62.0
    assert zego.outcomes == [outcome]


async def test_the_fixture_never_switches_the_processs_gc_off(zego: Zego) -> None:
    """The cyclic-GC pause is the CLI's; a test suite delivering callbacks keeps its GC."""
    seen: list[bool] = []

    async def handle(request: web.Request) -> web.Response:
        seen.append(gc.isenabled())
        return web.Response(status=500 if len(seen) < 2 else 200)

    app = web.Application()
    app.router.add_post("/zego/callback", handle)
    outcome = await zego.deliver(zego.procedure(), to=app)
    assert outcome.delivered and seen == [True, True]
    assert gc.isenabled()


async def test_scripted_receiver_500_500_200_is_delivered_on_the_third_attempt(zego: Zego) -> None:
    receiver = await zego.receiver(500, 500, 200)

    outcome = await zego.deliver(zego.procedure(status="SUCCESS"), to=receiver.url)

    assert outcome.delivered and outcome.attempts == 3
    assert [attempt.status for attempt in outcome.history] == [500, 500, 200]
    assert [attempt.offset_s for attempt in outcome.history] == [0.0, 2.0, 6.0]
    receiver.check()


@pytest.mark.parametrize("tamper", ["bad_signature", "stale_timestamp", "missing_signature"])
async def test_tamper_helpers_produce_callbacks_a_correct_receiver_refuses(
    zego: Zego, tamper: Any
) -> None:
    receiver = await zego.receiver()

    outcome = await zego.deliver(zego.procedure(), to=receiver, tamper=tamper, intervals=[1])

    assert [attempt.status for attempt in outcome.history] == [401, 401]
    with pytest.raises(AssertionError, match="401"):
        receiver.check()


async def test_a_ready_callback_can_be_tampered_and_re_encoded(zego: Zego) -> None:
    receiver = await zego.receiver()
    callback = zego.callback(zego.compose(), encoding="form")

    good = await zego.deliver(callback, to=receiver, encoding="json-urlencoded")
    bad = await zego.deliver(callback, to=receiver, tamper="bad_signature", intervals=[])

    assert good.delivered and receiver.received[0].encoding == "json-urlencoded"
    assert receiver.received[0].fields["event"] == "compose"
    assert bad.lost and bad.history[0].status == 401


async def test_a_callback_signed_with_another_secret_is_refused(zego: Zego) -> None:
    receiver = await zego.receiver()
    outcome = await zego.deliver(to=receiver, secret="someone-elses-secret", intervals=[])
    assert outcome.history[0].status == 401


async def test_deliver_all_runs_schedules_side_by_side(zego: Zego) -> None:
    first, second = zego.procedure(), zego.snapshot()
    receiver = await zego.receiver(201)
    receiver.respond_for(first.task_id, 500, 200)

    outcomes = await zego.deliver_all([first, second], to=receiver)

    assert [outcome.attempts for outcome in outcomes] == [2, 1]
    assert [outcome.final_status for outcome in outcomes] == [200, 201]
    assert zego.clock.now() == 2.0


def test_the_same_seed_builds_the_same_callbacks() -> None:
    first, second, other = Zego(seed=5), Zego(seed=5), Zego(seed=6)
    assert first.procedure().task_id == second.procedure().task_id
    assert first.procedure().task_id != other.procedure().task_id


# --- apps in the test process: aiohttp, ASGI, WSGI ----------------------------------------------


def _verified(body: bytes, content_type: str, secret: str) -> dict[str, str]:
    if content_type.startswith("application/x-www-form-urlencoded"):
        fields = dict(parse_qsl(body.decode()))
    else:
        fields = json.loads(body)
    return fields if verify_fields(fields, secret) else {}


async def test_deliver_to_an_aiohttp_application(zego: Zego) -> None:
    seen: list[dict[str, str]] = []

    async def handle(request: web.Request) -> web.Response:
        seen.append(_verified(await request.read(), request.content_type, zego.secret))
        return web.Response(text="success")

    app = web.Application()
    app.router.add_post("/zego/callback", handle)
    callback = zego.procedure(status="FAILED")

    outcome = await zego.deliver(callback, to=app)

    assert outcome.delivered and outcome.history[0].response_excerpt == "success"
    assert seen[0]["task_id"] == callback.task_id


def wsgi_receiver(fail_first: int, log: list[dict[str, Any]]) -> Callable[..., Iterable[bytes]]:
    """A bare WSGI app (no framework): verifies, then fails ``fail_first`` times."""
    failures = {"left": fail_first}

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        fields = _verified(body, environ.get("CONTENT_TYPE", ""), Zego().secret)
        log.append(
            {
                "method": environ["REQUEST_METHOD"],
                "path": environ["PATH_INFO"],
                "query": environ["QUERY_STRING"],
                "user_agent": environ.get("HTTP_USER_AGENT", ""),
                "fields": fields,
            }
        )
        if not fields:
            start_response("401 Unauthorized", [("Content-Type", "text/plain")])
            return [b"bad signature"]
        if failures["left"] > 0:
            failures["left"] -= 1
            start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
            return [b"busy"]
        start_response("200 OK", [("Content-Type", "text/plain"), ("X-Receiver", "wsgi")])
        return [b"suc", b"cess"]

    return app


async def test_deliver_to_a_wsgi_app_retries_until_it_recovers(zego: Zego) -> None:
    log: list[dict[str, Any]] = []
    app = wsgi_receiver(fail_first=2, log=log)
    callback = zego.procedure()

    outcome = await zego.deliver(callback, to=app, path="/hooks/zego?source=test")

    assert app_kind(app) == "wsgi"
    assert [attempt.status for attempt in outcome.history] == [503, 503, 200]
    assert outcome.history[-1].response_excerpt == "success"
    assert log[0]["method"] == "POST" and log[0]["path"] == "/hooks/zego"
    assert log[0]["query"] == "source=test"
    assert log[0]["user_agent"].startswith("zego-callback-emulator/")
    assert log[2]["fields"]["task_id"] == callback.task_id


async def test_a_wsgi_app_that_raises_answers_500(zego: Zego) -> None:
    def broken(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        raise RuntimeError("bug in the receiver")

    outcome = await zego.deliver(to=broken, intervals=[])

    assert outcome.history[0].status == 500


class AsgiReceiver:
    """A bare ASGI app (no framework) that verifies the callback and answers 204."""

    def __init__(self) -> None:
        self.scopes: list[dict[str, Any]] = []
        self.fields: list[dict[str, str]] = []

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        assert scope["type"] == "http"
        self.scopes.append(scope)
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = dict(scope["headers"])
        fields = _verified(body, headers[b"content-type"].decode(), Zego().secret)
        self.fields.append(fields)
        status = 204 if fields else 401
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": b"", "more_body": False})


async def test_deliver_to_an_asgi_app(zego: Zego) -> None:
    app = AsgiReceiver()
    callback = zego.procedure()

    outcome = await zego.deliver(callback, to=app, encoding="json")
    refused = await zego.deliver(to=app, tamper="bad_signature", intervals=[])

    assert app_kind(app) == "asgi"
    assert outcome.delivered and outcome.history[0].status == 204
    assert app.fields[0]["task_id"] == callback.task_id
    assert app.scopes[0]["method"] == "POST" and app.scopes[0]["path"] == "/zego/callback"
    assert refused.history[0].status == 401


async def test_an_app_is_served_once_per_test(zego: Zego) -> None:
    app = AsgiReceiver()
    first = await zego.target_url(app)
    second = await zego.target_url(app, "/other")
    assert first.rsplit("/", 2)[0] == second.rsplit("/", 1)[0]


def test_a_target_that_is_no_app_is_refused_with_a_clear_message() -> None:
    with pytest.raises(TypeError, match="expected a URL, a Receiver"):
        app_kind(42)


# --- user-style suites, run by a fresh pytest ------------------------------------------------

USER_CONFTEST = '''
import pytest
from aiohttp import web
from emulator.signing import verify_fields
from urllib.parse import parse_qsl

SECRET = "users-own-secret"


@pytest.fixture
def zego_secret():
    return SECRET


def make_app(fail_first=0):
    """The user's receiver: checks the signature, fails the first requests."""
    state = {"left": fail_first, "seen": []}

    async def callback(request):
        # ZEGO's default body is JSON (the emulator's default since issue 15); form on request
        if request.content_type == "application/json":
            fields = await request.json()
        else:
            fields = dict(parse_qsl(await request.text()))
        if not verify_fields(fields, SECRET):
            return web.Response(status=401)
        state["seen"].append(fields["task_id"])
        if state["left"] > 0:
            state["left"] -= 1
            return web.Response(status=500)
        return web.Response(text="success")

    app = web.Application()
    app.router.add_post("/zego/callback", callback)
    app["state"] = state
    return app
'''

USER_TESTS = """
import pytest
from conftest import make_app

pytestmark = pytest.mark.asyncio


async def test_my_receiver_accepts_on_the_first_try(zego):
    my_url = await zego.serve(make_app()) + "/zego/callback"
    outcome = await zego.deliver(zego.procedure(status="SUCCESS"), to=my_url)
    assert outcome.delivered and outcome.attempts == 1


async def test_my_receiver_retries(zego):
    outcome = await zego.deliver(zego.procedure(status="SUCCESS"), to=make_app(fail_first=2))
    assert outcome.delivered and outcome.attempts == 3
    assert [a.offset_s for a in outcome.history] == [0, 2, 6]


async def test_my_receiver_loses_a_callback_when_it_never_recovers(zego):
    outcome = await zego.deliver(zego.procedure(), to=make_app(fail_first=99))
    assert outcome.lost and outcome.attempts == 6
    assert outcome.history[-1].offset_s == 62


async def test_my_receiver_refuses_a_bad_signature(zego):
    outcome = await zego.deliver(zego.procedure(), to=make_app(), tamper="bad_signature")
    assert {a.status for a in outcome.history} == {401}


async def test_this_one_fails_on_purpose(zego):
    outcome = await zego.deliver(zego.procedure(), to=make_app())
    assert outcome.attempts == 2
"""


def _run_user_suite(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    pytester.makeconftest(USER_CONFTEST)
    pytester.makepyfile(test_user_receiver=USER_TESTS)
    return pytester.runpytest_subprocess("-p", "no:cacheprovider", *args)


def test_a_user_suite_works_in_strict_mode(pytester: pytest.Pytester) -> None:
    result = _run_user_suite(pytester, "-o", "asyncio_mode=strict")
    result.assert_outcomes(passed=4, failed=1)
    result.stdout.fnmatch_lines(["*assert 1 == 2*"])


def test_a_user_suite_works_in_auto_mode(pytester: pytest.Pytester) -> None:
    result = _run_user_suite(pytester, "-o", "asyncio_mode=auto")
    result.assert_outcomes(passed=4, failed=1)


def test_settings_fixtures_can_be_overridden(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_settings="""
        import pytest
        from emulator.clock import ScaledClock

        pytestmark = pytest.mark.asyncio


        @pytest.fixture
        def zego_speed():
            return 1000.0


        @pytest.fixture
        def zego_seed():
            return 42


        @pytest.fixture
        def zego_timeout():
            return 0.2


        async def test_settings_reach_the_fixture(zego):
            assert isinstance(zego.clock, ScaledClock) and zego.clock.speed == 1000.0
            assert zego.timeout == 0.2
            receiver = await zego.receiver(hang=True)
            outcome = await zego.deliver(to=receiver, intervals=[1])
            assert [a.error for a in outcome.history] == ["timeout", "timeout"]
            assert outcome.history[1].offset_s >= 1.0
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


def test_the_examples_suite_passes_with_only_the_installed_plugin() -> None:
    """``pytest examples/`` (outside testpaths) — run here so CI never misses it."""
    completed = subprocess.run(
        [sys.executable, "-m", "pytest", "examples", "-q", "-p", "no:cacheprovider"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert " passed" in completed.stdout and "failed" not in completed.stdout


def test_plugin_import_loads_nothing_heavy() -> None:
    code = (
        "import sys, emulator.testing.plugin; "
        "print(','.join(m for m in ('aiohttp', 'faker', 'pydantic') if m in sys.modules))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert loaded == ""


def test_zego_objects_are_plain_callbacks_underneath() -> None:
    zego = Zego(secret="s", seed=1)
    callback = zego.callback(zego.procedure(), encoding="json")
    assert isinstance(callback, Callback)
    assert verify_fields(callback.fields, "s")
    assert isinstance(Zego(speed=2.0).clock, ScaledClock)


async def test_a_hook_delivered_from_a_test_records_its_answers_decision(zego: Zego) -> None:
    async def hook(request: web.Request) -> web.Response:
        body = await request.json()
        assert body["event"] == "before_send_msg" and isinstance(body["timestamp"], int)
        return web.json_response({"result": 2})

    app = web.Application()
    app.router.add_post("/zego/callback", hook)
    outcome = await zego.deliver(
        zego.event("zim.before_send_msg", msg_type="text"), to=app, profile="zim-before-send"
    )
    decision = outcome.history[0].decision
    assert outcome.delivered and decision is not None
    assert (decision["result"], decision["meaning"], decision["message"]) == (2, "silent", "silent")
