"""``zego.session(...)``: session callbacks delivered to a test's receiver, and their truth."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from zego_lists import NaiveLists, ZegoLists, canonical

from emulator.sessions import SessionEntry
from emulator.testing.plugin import Zego

pytest_plugins = ["pytester"]

REPO = Path(__file__).resolve().parents[2]
STATE: web.AppKey[dict[str, Any]] = web.AppKey("state", dict)


def lists_app(secret: str, refuse_first: str | None = None) -> web.Application:
    """A receiver from the docs: sha1 signature check, ZEGO's list rules and the naive ones."""
    state: dict[str, Any] = {"ruled": ZegoLists(), "naive": NaiveLists(), "refused": 0}

    async def callback(request: web.Request) -> web.Response:
        fields = json.loads(await request.read())
        parts = sorted([secret, str(fields["timestamp"]), str(fields["nonce"])])
        if hashlib.sha1("".join(parts).encode()).hexdigest() != fields["signature"]:
            return web.Response(status=401)
        if fields["event"] == refuse_first and not state["refused"]:
            state["refused"] = 1
            return web.Response(status=500)
        state["ruled"].handle(fields)
        state["naive"].handle(fields)
        return web.Response(text="success")

    app = web.Application()
    app.router.add_post("/zego/callback", callback)
    app[STATE] = state
    return app


async def test_a_session_delivered_in_zegos_order_keeps_the_rule_receiver_at_the_truth(
    zego: Zego,
) -> None:
    session = zego.session(users=2, streams_per_user=1, republish=1, order="zego-documented")
    app = lists_app(zego.secret)
    outcomes = await session.deliver(to=app)
    assert all(outcome.delivered for outcome in outcomes)
    assert len(outcomes) == len(session.callbacks) == 1 + 2 + 2 * 3
    state = app[STATE]
    assert canonical(state["ruled"].state()) == canonical(session.truth)
    assert state["naive"].streams == {}
    assert len(session.streams) == 2 and len(session.users) == 2
    assert zego.outcomes == outcomes


async def test_a_refused_stream_close_is_retried_after_the_republish(zego: Zego) -> None:
    session = zego.session(users=1, streams_per_user=1, republish=1)  # as they happened
    app = lists_app(zego.secret, refuse_first="stream_close")
    outcomes = await session.deliver(to=app)
    [close] = [o for o in outcomes if o.event == "stream_close"]
    assert [a.status for a in close.history] == [500, 200]
    assert app[STATE]["naive"].streams == {}  # the retry arrived after the re-publish
    assert canonical(app[STATE]["ruled"].state()) == canonical(session.truth)


async def test_several_entries_and_the_same_seed_give_the_same_session(zego: Zego) -> None:
    entries = [
        {"room_id": "a", "users": 1, "streams_per_user": 0, "end": "logout"},
        SessionEntry(room_id="a", users=2, streams_per_user=0),
    ]
    session = zego.session(entries, order="zego-documented")
    again = Zego(seed=0).session(entries, order="zego-documented")
    assert [c.fields for c in session.callbacks] != []
    assert session.truth["rooms"][0]["room_id"] == "a"
    assert [e.event for e in session.events] == [e.event for e in again.events]
    assert session.events[0].event == "room_create" and session.events[0].life != (
        session.events[3].life
    )


def test_a_bad_session_key_is_refused() -> None:
    with pytest.raises(ValueError, match="streams_per_usr"):
        Zego().session(users=1, streams_per_usr=1)


def test_the_readme_stream_list_example_passes_with_zegos_rule_and_fails_naively(
    pytester: pytest.Pytester,
) -> None:
    readme = (REPO / "README.md").read_text()
    block = re.search(r"<!-- sessions-example -->\n```python\n(.*?)```", readme, re.S)
    assert block is not None
    pytester.makepyfile(test_stream_list=block.group(1))
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-o", "asyncio_mode=strict")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*naive_rule*", "*assert {} == {*"])
