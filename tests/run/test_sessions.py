"""Session scenarios over real sockets: ZEGO's documented reorderings, retries, ``--truth``.

The receiver here is written from ZEGO's docs (digest §1.2: sha1 of the sorted secret,
timestamp and nonce; JSON bodies), and its lists from the solution pages (§8) — see
``tests/zego_lists.py`` — never from the emulator's own verifier or planner.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import pytest
from aiohttp import web
from zego_lists import NaiveLists, ZegoLists, canonical

from emulator.run.runner import RunOptions, execute
from emulator.scenario.model import Scenario
from emulator.scenario.reader import load_scenario
from emulator.settings import Secret

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ROOT / "scenarios"
SECRET = "sessions-test-secret"


class DocReceiver:
    """A receiver as ZEGO's docs describe one: verify, decode, keep both kinds of list."""

    def __init__(self, refuse: dict[str, int] | None = None) -> None:
        self.refuse = dict(refuse or {})  # event -> how many of its first requests get 500
        self.arrivals: list[tuple[str, int]] = []  # (event, status) per request
        self.naive = NaiveLists()
        self.ruled = ZegoLists()
        self.bad_signatures = 0
        self.url = ""
        self._runner: web.AppRunner | None = None

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        if request.content_type == "application/json":
            fields: dict[str, Any] = json.loads(body)
        else:
            fields = dict(parse_qsl(body.decode()))
        parts = sorted([SECRET, str(fields["timestamp"]), str(fields["nonce"])])
        expected = hashlib.sha1("".join(parts).encode()).hexdigest()
        if not hmac.compare_digest(expected, str(fields.get("signature", ""))):
            self.bad_signatures += 1
            return web.Response(status=401)
        event = str(fields.get("event", "cloud_recording"))  # its status callback has none
        if self.refuse.get(event, 0) > 0:
            self.refuse[event] -= 1
            self.arrivals.append((event, 500))
            return web.Response(status=500)
        self.arrivals.append((event, 200))
        self.naive.handle(fields)
        self.ruled.handle(fields)
        return web.Response(text="ok")

    async def __aenter__(self) -> DocReceiver:
        app = web.Application()
        app.router.add_post("/zego/callback", self.handle)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}/zego/callback"
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._runner is not None
        await self._runner.cleanup()


@pytest.fixture
async def receiver() -> AsyncIterator[DocReceiver]:
    async with DocReceiver() as started:
        yield started


def options(url: str, tmp_path: Path, **extra: Any) -> RunOptions:
    return RunOptions(
        target=url,
        secret=Secret(SECRET, "test"),
        virtual=True,
        live=False,
        record=tmp_path / "record.jsonl",
        **extra,
    )


async def run(scenario: Scenario, receiver: DocReceiver, tmp_path: Path) -> dict[str, Any]:
    result = await execute(scenario, options(receiver.url, tmp_path))
    assert result.exit_code == 0, [failed.describe() for failed in result.failed]
    assert receiver.bad_signatures == 0
    assert result.truth is not None
    return result.truth


async def test_stream_list_in_zegos_order_empties_a_naive_list_and_the_seq_rule_keeps_it(
    receiver: DocReceiver, tmp_path: Path
) -> None:
    truth = await run(load_scenario(SCENARIOS / "sessions-stream-list.yaml"), receiver, tmp_path)
    streams = [e for e, _ in receiver.arrivals if e.startswith("stream_")]
    assert streams == ["stream_create", "stream_create", "stream_close"]  # sc1, sc3, sc2
    assert receiver.naive.streams == {}
    [room] = truth["rooms"]
    assert len(room["streams"]) == 1
    assert canonical(receiver.ruled.state()) == canonical(truth)


async def test_room_list_in_zegos_order_empties_a_naive_list_and_the_rule_keeps_the_room(
    receiver: DocReceiver, tmp_path: Path
) -> None:
    truth = await run(load_scenario(SCENARIOS / "sessions-room-list.yaml"), receiver, tmp_path)
    rooms = [e for e, _ in receiver.arrivals if e in ("room_create", "room_close")]
    assert rooms == ["room_create", "room_create", "room_close"]  # c3, c1, c2
    assert receiver.naive.rooms == {}
    [room] = truth["rooms"]
    assert room["room_id"] == "room-1" and len(room["users"]) == 1
    assert canonical(receiver.ruled.state()) == canonical(truth)


async def test_user_list_in_zegos_order_empties_a_naive_list_and_the_rule_keeps_both_users(
    receiver: DocReceiver, tmp_path: Path
) -> None:
    truth = await run(load_scenario(SCENARIOS / "sessions-user-list.yaml"), receiver, tmp_path)
    users = [e for e, _ in receiver.arrivals if e in ("room_login", "room_logout")]
    assert users == ["room_login"] * 4 + ["room_logout"] * 2  # c1, c4, c2, c4', c3, c3'
    assert receiver.naive.users == {}
    assert len(truth["rooms"][0]["users"]) == 2
    assert canonical(receiver.ruled.state()) == canonical(truth)


async def test_a_stream_close_refused_once_arrives_after_the_republish(tmp_path: Path) -> None:
    scenario = Scenario.model_validate(
        {
            "seed": 3,
            "encoding": "form",
            "sessions": [{"users": 1, "streams_per_user": 1, "republish": 1}],
            "order": "as_listed",
        }
    )
    async with DocReceiver(refuse={"stream_close": 1}) as receiver:
        truth = await run(scenario, receiver, tmp_path)
    assert [e for e in receiver.arrivals if e[0].startswith("stream_")] == [
        ("stream_create", 200),
        ("stream_close", 500),
        ("stream_create", 200),  # the re-publish
        ("stream_close", 200),  # the retry, 2 s later
    ]
    assert receiver.naive.streams == {}
    assert canonical(receiver.ruled.state()) == canonical(truth)


async def test_in_the_order_they_happened_every_list_matches_the_truth(
    receiver: DocReceiver, tmp_path: Path
) -> None:
    scenario = Scenario.model_validate(
        {
            "seed": 4,
            "sessions": [
                {"room_id": "a", "users": 2, "republish": 2, "end": "kickout"},
                {"room_id": "a", "users": 3, "streams_per_user": 2, "end": "relogin"},
                {"room_id": "b", "users": 2, "end": "close_room"},
            ],
        }
    )
    truth = await run(scenario, receiver, tmp_path)
    assert canonical(receiver.ruled.state()) == canonical(truth)
    assert set(receiver.naive.streams) == {
        (room["room_id"], s["stream_id"]) for room in truth["rooms"] for s in room["streams"]
    }


async def test_run_truth_flag_writes_the_state_the_rule_receiver_ends_with(
    receiver: DocReceiver, tmp_path: Path
) -> None:
    truth_path = tmp_path / "truth.json"
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "emulator",
        "run",
        str(SCENARIOS / "sessions-stream-list.yaml"),
        "--target",
        receiver.url,
        "--secret",
        SECRET,
        "--virtual",
        "--no-live",
        "--record",
        str(tmp_path / "record.jsonl"),
        "--truth",
        str(truth_path),
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode == 0, err.decode()
    written = json.loads(truth_path.read_text())
    assert canonical(written) == canonical(receiver.ruled.state())
    [room] = written["rooms"]
    assert isinstance(room["room_session_id"], int) and room["room_session_id"] > 2**53
    assert receiver.naive.streams == {}
    assert SECRET not in out.decode() + err.decode() + truth_path.read_text()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("sessions:\n  - users: 2\n    end: logot\n", ":3: sessions[0].end: expected 'open'"),
        (
            "sessions:\n  - strems_per_user: 1\n",
            ":2: sessions[0].strems_per_user: unknown key 'strems_per_user'; did you mean",
        ),
        (
            "sessions:\n  - {users: 1000, streams_per_user: 100, republish: 1000}\n",
            ":1: sessions: the sessions may make up to",
        ),
        ("sessions: []\n", ":1: callbacks: required key is missing"),
    ],
)
def test_a_bad_sessions_entry_is_one_line_naming_file_line_and_field(
    tmp_path: Path, text: str, expected: str
) -> None:
    import subprocess

    path = tmp_path / "bad.yaml"
    path.write_text(text)
    completed = subprocess.run(
        [sys.executable, "-m", "emulator", "run", str(path), "--builtin-receiver"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert completed.returncode == 2
    lines = [line for line in completed.stderr.splitlines() if line.startswith("zego-emulator")]
    assert len(lines) == 1 and f"{path}{expected}" in lines[0], completed.stderr
    assert "Traceback" not in completed.stderr


async def test_session_callbacks_keep_the_rtc_retry_profile_beside_another_family(
    tmp_path: Path,
) -> None:
    scenario = Scenario.model_validate(
        {
            "encoding": "json",
            "callbacks": [{"event": "cloud_recording"}],  # its profile: retries on no answer only
            "sessions": [{"users": 1, "streams_per_user": 1, "end": "logout"}],
        }
    )
    async with DocReceiver(refuse={"stream_close": 99, "cloud_recording": 99}) as receiver:
        result = await execute(scenario, options(receiver.url, tmp_path))
    attempts = {outcome.event: outcome.attempts for outcome in result.outcomes}
    assert attempts["stream_close"] == 6  # ZEGO's RTC schedule: 5 retries
    assert attempts["cloud_recording"] == 1  # a 500 is final for Cloud Recording


def test_an_unseeded_sessions_plan_comes_out_the_same_from_its_recorded_seeds() -> None:
    from emulator.run.planner import PlanSeeds, plan_run
    from emulator.settings import resolve

    scenario = Scenario.model_validate(
        {"sessions": [{"users": 2, "republish": 1, "end": "kickout"}], "order": "shuffled"}
    )
    settings = resolve(RunOptions(target="http://127.0.0.1:9/cb"), scenario, quiet=True)
    seeds = PlanSeeds.fresh(settings, 1_800_000_000)
    again = PlanSeeds.from_record(
        {"seed": seeds.seed, "nonce_seed": seeds.nonce_seed, "app_id": None, "epoch": seeds.epoch}
    )
    first, truth = plan_run(scenario, seeds.apply(settings), seeds.factory(), epoch=seeds.epoch)
    second, same = plan_run(scenario, again.apply(settings), again.factory(), epoch=again.epoch)
    assert [p.delivery.callback.body() for p in first] == [
        p.delivery.callback.body() for p in second
    ]
    assert truth == same and truth is not None
