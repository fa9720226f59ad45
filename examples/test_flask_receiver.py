"""Testing the Flask receiver with the emulator's pytest plugin — nothing else needed.

The ``zego`` fixture comes from the installed package (entry point ``pytest11``). It
serves the Flask app on 127.0.0.1 for each test and delivers callbacks with ZEGO's retry
schedule on virtual time, so even a callback that is lost after 62 s takes milliseconds.

    pytest examples/
"""

from __future__ import annotations

import pytest
from flask import Flask
from flask_receiver import create_app

pytestmark = pytest.mark.asyncio  # harmless in auto mode, required in strict mode

SECRET = "my-callback-secret"


@pytest.fixture
def zego_secret() -> str:
    """Sign the emulator's callbacks with the secret the app checks."""
    return SECRET


@pytest.fixture
def app() -> Flask:
    return create_app(SECRET)


@pytest.mark.parametrize("encoding", ["form", "json", "json-urlencoded"])
async def test_a_finished_transcode_is_stored_on_the_first_attempt(zego, app, encoding):
    callback = zego.procedure(status="SUCCESS", transcode=[{"resolution": "720p"}])

    outcome = await zego.deliver(callback, to=app, encoding=encoding)

    assert outcome.delivered and outcome.attempts == 1
    stored = app.config["TRANSCODED"][callback.task_id]
    assert stored["status"] == "SUCCESS" and stored["urls"][0].endswith(".mp4")


async def test_an_outage_of_two_requests_is_survived_by_zegos_retries(zego):
    app = create_app(SECRET, fail_first=2)

    outcome = await zego.deliver(zego.procedure(status="SUCCESS"), to=app)

    assert outcome.delivered and outcome.attempts == 3
    assert [attempt.status for attempt in outcome.history] == [503, 503, 200]
    assert [attempt.offset_s for attempt in outcome.history] == [0, 2, 6]


async def test_a_receiver_that_never_recovers_loses_the_callback_after_five_retries(zego):
    app = create_app(SECRET, fail_first=1000)

    outcome = await zego.deliver(zego.procedure(status="SUCCESS"), to=app)

    assert outcome.lost and outcome.attempts == 6
    assert [attempt.offset_s for attempt in outcome.history] == [0, 2, 6, 14, 30, 62]
    assert app.config["TRANSCODED"] == {}


@pytest.mark.parametrize("tamper", ["bad_signature", "stale_timestamp", "missing_signature"])
async def test_a_forged_callback_is_refused_every_time(zego, app, tamper):
    outcome = await zego.deliver(zego.procedure(status="SUCCESS"), to=app, tamper=tamper)

    assert outcome.lost
    assert {attempt.status for attempt in outcome.history} == {401}
    assert app.config["TRANSCODED"] == {}


async def test_a_callback_signed_with_another_secret_is_refused(zego, app):
    outcome = await zego.deliver(zego.procedure(), to=app, secret="not-my-secret")

    assert outcome.history[0].status == 401


async def test_a_failed_transcode_is_stored_as_failed(zego, app):
    callback = zego.procedure(status="FAILED")

    outcome = await zego.deliver(callback, to=app, path="/zego/callback")

    assert outcome.delivered
    assert app.config["TRANSCODED"][callback.task_id] == {"status": "FAILED", "urls": []}
