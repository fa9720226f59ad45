"""Load mode makes each callback from its entry's template: a fresh identity, the rest shared.

Each copy must carry what a fresh generation gives a receiver to key on — a new task id of
the event's shape, a nonce not repeated at its timestamp, the current timestamp, and a
signature over them (checked here as ZEGO's docs define it: sha1 of the sorted secret,
timestamp and nonce) — while the fields left to the seed are the template's. A real
receiver on 127.0.0.1 checks the same over HTTP in load mode.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from emulator.callback.factory import CallbackFactory
from emulator.callback.model import Callback
from emulator.events import EVENTS
from emulator.record.reader import read_record
from emulator.run.templates import TemplateMaker
from emulator.servers.start import start_server
from emulator.settings import RunOptions, Secret
from emulator.term.commands import load_command
from emulator.wire import ENCODINGS, Encoding, encode

SECRET = "template-secret"
PROCEDURE_TASK = re.compile(r"^1500\d{6}-procedurev2-[0-9a-f]{32}tt0$")


def zego_signature(timestamp: object, nonce: object) -> str:
    """ZEGO's callback signature, from its docs: sha1 hex of the sorted three strings."""
    return hashlib.sha1("".join(sorted([SECRET, str(timestamp), str(nonce)])).encode()).hexdigest()


def body_of(callback: Callback) -> dict[str, Any]:
    decoded: dict[str, Any] = json.loads(callback.body()[1])
    return decoded


def copies(maker: TemplateMaker, count: int) -> list[dict[str, Any]]:
    return [body_of(maker()) for _ in range(count)]


def test_copies_of_a_procedure_differ_in_identity_only_and_are_signed() -> None:
    now = iter(range(1_700_000_000, 1_700_001_000))
    factory = CallbackFactory(seed=3, app_id="1234567890", now=lambda: float(next(now)))
    bodies = copies(TemplateMaker(factory, "procedure", None, SECRET), 5)
    task_ids = [body["task_id"] for body in bodies]
    assert len(set(task_ids)) == 5 and all(PROCEDURE_TASK.match(task) for task in task_ids)
    first = int(bodies[0]["timestamp"])  # each copy stamped with the time it is made
    assert [body["timestamp"] for body in bodies] == [str(first + i) for i in range(5)]
    for body in bodies:
        assert body["signature"] == zego_signature(body["timestamp"], body["nonce"])
        assert re.fullmatch(r"\d{6}", body["nonce"])
    file_ids = [body["file_id"] for body in bodies]  # an id a receiver keys on: fresh too
    assert len(set(file_ids)) == 5 and all(re.fullmatch(r"\d{19}", f) for f in file_ids)
    for body in bodies:  # each copy's media URLs carry its own file id, no other copy's
        urls = re.findall(r"https://[^\"]+", body["extra_params"])
        assert urls and all(body["file_id"] in url for url in urls)
        assert not any(
            other in body["extra_params"] for other in file_ids if other != body["file_id"]
        )
    identity = {"task_id", "timestamp", "nonce", "signature", "file_id"}
    rest = [
        {k: str(v).replace(body["file_id"], "<file>") for k, v in body.items() if k not in identity}
        for body in bodies
    ]
    assert all(other == rest[0] for other in rest)  # sizes, durations, URL shape: the template's


def test_copies_of_a_record_callback_carry_fresh_vendor_ids() -> None:
    factory = CallbackFactory(seed=5, app_id="1234567890")
    extras = [
        json.loads(body["extra_params"])
        for body in copies(TemplateMaker(factory, "record", None, SECRET), 4)
    ]
    assert len({extra["TaskId"] for extra in extras}) == 4
    assert len({extra["FileID"] for extra in extras}) == 4
    assert all(re.fullmatch(r"[0-9a-f]{32}", e["TaskId"]) for e in extras)
    assert all(re.fullmatch(r"\d{19}", e["FileID"]) for e in extras)
    assert len({extra["Duration"] for extra in extras}) == 1  # the rest: the template's


def test_an_entrys_fixed_file_id_stays_fixed() -> None:
    factory = CallbackFactory(seed=6, app_id="1234567890")
    given = "3270835010897125368"
    bodies = copies(TemplateMaker(factory, "procedure", {"file_id": given}, SECRET), 3)
    assert [body["file_id"] for body in bodies] == [given] * 3
    assert len({body["task_id"] for body in bodies}) == 3


def test_nonces_never_repeat_within_one_timestamp() -> None:
    factory = CallbackFactory(seed=1, now=lambda: 1_700_000_000.0)
    bodies = copies(TemplateMaker(factory, "procedure", None, SECRET), 2_000)
    assert len({body["nonce"] for body in bodies}) == 2_000
    assert len({body["task_id"] for body in bodies}) == 2_000


def test_the_same_seed_makes_the_same_copies() -> None:
    def run() -> list[dict[str, Any]]:
        factory = CallbackFactory(seed=9, now=lambda: 1_700_000_000.0, nonce_seed=4)
        return copies(TemplateMaker(factory, "compose", None, SECRET), 4)

    first = run()
    assert first == run()
    assert len({body["task_id"] for body in first}) == 4


def test_an_entrys_fixed_task_id_timestamp_and_nonce_stay_fixed() -> None:
    factory = CallbackFactory(seed=2)
    maker = TemplateMaker(
        factory,
        "procedure",
        {"task_id": "my-task", "status": "FAILED"},
        SECRET,
        timestamp=1_600_000_000,
        nonce="424242",
    )
    for body in copies(maker, 3):
        assert (body["task_id"], body["timestamp"], body["nonce"]) == (
            "my-task",
            "1600000000",
            "424242",
        )
        assert body["status"] == "FAILED"
        assert body["signature"] == zego_signature("1600000000", "424242")


def test_tamper_rename_and_extra_fields_apply_to_every_copy() -> None:
    factory = CallbackFactory(seed=4)
    maker = TemplateMaker(
        factory,
        "procedure",
        None,
        SECRET,
        tamper="bad_signature",
        rename={"file_id": "fileId"},
        extra_fields={"custom": "x"},
    )
    made = [maker() for _ in range(3)]
    for callback in made:
        body = body_of(callback)
        assert body["signature"] != zego_signature(body["timestamp"], body["nonce"])
        assert "fileId" in body and "file_id" not in body and body["custom"] == "x"
        assert callback.tamper == "bad_signature"
    assert len({callback.callback_id for callback in made}) == 3


def test_a_numeric_timestamp_stays_a_number() -> None:
    factory = CallbackFactory(seed=6, now=lambda: 1_700_000_123.0)
    for body in copies(TemplateMaker(factory, "room_create", None, SECRET), 3):
        assert body["timestamp"] == 1_700_000_123
        assert body["signature"] == zego_signature(body["timestamp"], body["nonce"])


def test_an_event_whose_task_id_has_no_random_run_is_generated_afresh_each_time() -> None:
    # cloud_recording's task id is 16 characters of a wide alphabet: no hex run to redraw,
    # so every copy is a whole generation (its other fields differ too)
    factory = CallbackFactory(seed=8)
    maker = TemplateMaker(factory, "cloud_recording", None, SECRET)
    callbacks = [maker() for _ in range(4)]
    assert len({callback.task_id for callback in callbacks}) == 4
    assert all(len(callback.task_id) == 16 for callback in callbacks)


def test_load_mode_sends_distinct_signed_callbacks_from_a_scenario(tmp_path: Path) -> None:
    bodies: list[dict[str, Any]] = []
    bad: list[bytes] = []

    async def handle(request: web.Request) -> web.Response:
        raw = await request.read()
        body = json.loads(raw)
        if body.get("signature") != zego_signature(body.get("timestamp"), body.get("nonce")):
            bad.append(raw)
        bodies.append(body)
        return web.Response(text="ok")

    async def serve_and_load() -> int:
        app = web.Application()
        app.router.add_post("/cb", handle)
        async with await start_server(app) as server:
            scenario = tmp_path / "load.yaml"
            scenario.write_text(
                f"name: templated\ntarget: {server.url}/cb\nseed: 5\n"
                "callbacks:\n  - event: procedure\n  - event: compose\n    task_id: fixed-one\n"
            )
            options = RunOptions(
                secret=Secret(SECRET, "test"), virtual=True, record=tmp_path / "r.jsonl"
            )
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(
                None,
                lambda: load_command(options, rate=10, duration=1, scenario_paths=[str(scenario)]),
            )

    assert asyncio.run(serve_and_load()) == 0
    assert len(bodies) == 10 and not bad
    procedures = [body for body in bodies if body["event"] == "procedure"]
    composes = [body for body in bodies if body["event"] == "compose"]
    assert len({body["task_id"] for body in procedures}) == 5
    assert {body["task_id"] for body in composes} == {"fixed-one"}
    assert len({(body["timestamp"], body["nonce"]) for body in bodies}) == 10
    record = read_record(tmp_path / "r.jsonl")
    recorded = {line["task_id"] for line in record if line["type"] == "callback"}
    assert recorded == {body["task_id"] for body in bodies}


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_every_events_copies_carry_the_bytes_their_fields_encode_to(encoding: Encoding) -> None:
    """A copy's body comes from its template's pre-encoded text: for every catalogue event
    it must be what encoding the copy's own fields writes, and the record's text of it
    that body as a JSON string."""
    factory = CallbackFactory(seed=11, app_id="1234567890")
    templated = 0
    for event in sorted(EVENTS):
        maker = TemplateMaker(factory, event, None, SECRET, encoding=encoding)
        templated += maker.body_templated
        for _ in range(3):
            callback = maker()
            content_type, body = callback.body()
            assert (content_type, body) == encode(callback.fields, encoding), event
            literal = json.dumps(body.decode(), ensure_ascii=False)
            assert callback.body_literal() == literal
            assert callback.body_literal() == literal  # made again from the body, the same
    assert templated >= len(EVENTS) // 2  # most events' copies take the fast path
