"""Replay: the recorded callbacks go out again byte for byte (or re-signed when asked).

An original run goes over 127.0.0.1 to one receiver, the replay to another; both hash
every body they receive, so "byte-identical" is checked on what crossed the wire.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from emulator.callback.factory import CallbackFactory
from emulator.callback.model import Tamper
from emulator.clock import VirtualClock
from emulator.delivery.dispatch import Delivery, Dispatcher
from emulator.errors import UsageError
from emulator.record.reader import read_record
from emulator.record.writer import Recorder
from emulator.run.replay import recorded_callbacks, replay
from emulator.servers.start import RunningServer, start_server
from emulator.settings import RunOptions, Secret
from emulator.signing import verify_fields
from emulator.term.commands import replay_command
from emulator.wire import Encoding, decode

SECRET = "replay-test-secret"


@dataclass
class HashingReceiver:
    """Answers from a script (per task id; the last answer repeats) and hashes every body."""

    script: dict[str, list[int]] = field(default_factory=dict)
    received: list[tuple[str, str, bytes]] = field(default_factory=list)  # sha256, type, body

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        content_type = request.headers.get("Content-Type", "")
        self.received.append((hashlib.sha256(body).hexdigest(), content_type, body))
        task_id = decode(body, content_type).get("task_id", "")
        answers = self.script.get(task_id, [200])
        status = answers.pop(0) if len(answers) > 1 else answers[0]
        return web.Response(status=status, text="ok" if status < 300 else "try again")

    async def start(self) -> RunningServer:
        app = web.Application()
        app.router.add_post("/cb", self.handle)
        return await start_server(app)

    def hashes(self) -> Counter[tuple[str, str]]:
        return Counter((digest, content_type) for digest, content_type, _ in self.received)


CASES: list[tuple[Encoding, Tamper, list[int]]] = [
    ("form", "none", [200]),
    ("json", "none", [500, 500, 200]),
    ("json-urlencoded", "none", [503]),
    ("form", "bad_signature", [401]),
]


async def record_original(path: Path, receiver: HashingReceiver) -> list[str]:
    """Deliver :data:`CASES` to ``receiver`` and record it; the task ids in order."""
    factory = CallbackFactory(seed=11, app_id="1234567890")
    callbacks = [
        factory.callback(
            factory.procedure(status="SUCCESS", file_id="文件-ünïcode"),
            SECRET,
            encoding=encoding,
            tamper=tamper,
        )
        for encoding, tamper, _ in CASES
    ]
    for callback, (_, _, answers) in zip(callbacks, CASES, strict=True):
        receiver.script[callback.task_id] = list(answers)
    async with await receiver.start() as server:
        target = f"{server.url}/cb"
        with Recorder(path) as recorder:
            recorder.write(
                {
                    "type": "run",
                    "run_id": "original",
                    "scenario": "original",
                    "target": target,
                    "intervals": [2, 4, 8, 16, 32],
                    "timeout": 5,
                }
            )
            async with Dispatcher(
                clock=VirtualClock(), recorder=recorder, run_id="original"
            ) as dispatcher:
                await dispatcher.deliver_all([Delivery(cb, target) for cb in callbacks])
    return [callback.task_id for callback in callbacks]


async def test_replay_sends_byte_identical_bodies_with_the_same_schedule(tmp_path: Path) -> None:
    original, again = HashingReceiver(), HashingReceiver()
    record = tmp_path / "original.jsonl"
    task_ids = await record_original(record, original)
    for task_id, (_, _, answers) in zip(task_ids, CASES, strict=True):
        again.script[task_id] = list(answers)
    new_record = tmp_path / "replayed.jsonl"
    async with await again.start() as server:
        outcomes = await replay(
            [record], f"{server.url}/cb", record_path=new_record, clock=VirtualClock()
        )
    assert len(original.received) == len(again.received) == 1 + 3 + 6 + 6
    assert again.hashes() == original.hashes()
    first_bodies = {body for _, _, body in original.received}
    assert {body for _, _, body in again.received} == first_bodies
    assert any("文件".encode() in body for body in first_bodies)  # UTF-8 JSON went through
    assert [(o.delivered, o.attempts) for o in outcomes] == [
        (True, 1),
        (True, 3),
        (False, 6),
        (False, 6),
    ]
    lines = read_record(new_record)
    [run] = [line for line in lines if line["type"] == "run"]
    assert run["run_id"].startswith("replay-") and run["replay_of"] == [str(record)]
    assert run["resigned"] is False and run["intervals"] == [2, 4, 8, 16, 32]
    offsets = [
        line["offset_s"]
        for line in lines
        if line["type"] == "attempt" and line["callback_id"] == outcomes[1].callback_id
    ]
    assert offsets == [0, 2, 6]
    old = {
        line["callback_id"]: line["body"]
        for line in read_record(record)
        if line["type"] == "callback"
    }
    new = {line["callback_id"]: line["body"] for line in lines if line["type"] == "callback"}
    assert new == old
    [summary] = [line for line in lines if line["type"] == "summary"]
    assert (summary["callbacks"], summary["delivered"], summary["lost"]) == (4, 2, 2)


async def test_resign_changes_only_timestamp_nonce_and_signature(tmp_path: Path) -> None:
    original, again = HashingReceiver(), HashingReceiver()
    record = tmp_path / "original.jsonl"
    await record_original(record, original)
    async with await again.start() as server:
        await replay(
            [record],
            f"{server.url}/cb",
            record_path=tmp_path / "resigned.jsonl",
            resign_secret="a-new-secret",
            clock=VirtualClock(),
        )
    firsts = {}
    for _, content_type, body in original.received:
        fields = decode(body, content_type)
        firsts.setdefault(fields["task_id"], (fields, content_type))
    replayed = {}
    for _, content_type, body in again.received:
        fields = decode(body, content_type)
        replayed.setdefault(fields["task_id"], (fields, content_type))
    assert replayed.keys() == firsts.keys()
    for task_id, (fields, content_type) in replayed.items():
        before, before_type = firsts[task_id]
        assert content_type == before_type
        assert list(fields) == list(before)  # same fields, same order
        changed = {key for key in fields if fields[key] != before[key]}
        assert changed <= {"timestamp", "nonce", "signature"} and "signature" in changed
        tampered = before.get("signature") is not None and not verify_fields(before, SECRET)
        assert verify_fields(fields, "a-new-secret") is not tampered  # tamper re-applied
    lines = read_record(tmp_path / "resigned.jsonl")
    assert "a-new-secret" not in json.dumps(lines)


def test_resumed_copies_are_sent_once_but_duplicates_within_a_run_are_kept() -> None:
    def callback(run_id: str, callback_id: str, body: str) -> dict[str, Any]:
        return {
            "type": "callback",
            "run_id": run_id,
            "callback_id": callback_id,
            "event": "procedure",
            "task_id": "t",
            "encoding": "form",
            "content_type": "application/x-www-form-urlencoded",
            "body": body,
        }

    lines = [
        callback("a", "cb-1", "x=1"),
        callback("a", "cb-2", "x=2"),
        callback("a", "cb-2", "x=2"),  # the same delivery twice within run a
        callback("b", "cb-1", "x=1"),  # run b re-sent cb-1 (resume): not again
        callback("b", "cb-3", "x=3"),
        {"type": "callback", "run_id": "b", "callback_id": "cb-4"},  # no body: skipped
    ]
    found = recorded_callbacks(lines)
    assert [(item.callback_id, item.body) for item in found] == [
        ("cb-1", b"x=1"),
        ("cb-2", b"x=2"),
        ("cb-2", b"x=2"),
        ("cb-3", b"x=3"),
    ]
    assert [item.callback_id for item in recorded_callbacks(lines, run_ids=["b"])] == [
        "cb-1",
        "cb-3",
    ]


async def test_replay_command_prints_the_new_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    original, again = HashingReceiver(), HashingReceiver()
    record = tmp_path / "original.jsonl"
    await record_original(record, original)
    capsys.readouterr()
    server = await again.start()
    try:
        new_record = tmp_path / "cmd.jsonl"
        # replay_command runs its own event loop: run it in a worker thread
        code = await asyncio.to_thread(
            replay_command,
            [str(record)],
            RunOptions(target=f"{server.url}/cb", virtual=True, record=str(new_record), json=True),
            resign=False,
        )
    finally:
        await server.stop()
    assert code == 0
    data = json.loads(capsys.readouterr().out)
    assert data["record"] == str(new_record)
    assert data["total"]["callbacks"] == 4 and data["total"]["delivered"] == 4  # all 200 now
    assert set(again.hashes()) == set(original.hashes())


@pytest.mark.parametrize(
    ("target", "records", "message"),
    [
        ("ftp://example.com/cb", None, "expected an http:// or https:// URL"),
        (None, None, "needs --target"),
        ("http://127.0.0.1:9/cb", "missing.jsonl", "does not exist"),
        ("http://127.0.0.1:9/cb", "empty.jsonl", "no callback lines to replay"),
    ],
)
def test_replay_command_rejects_bad_input(
    tmp_path: Path, target: str | None, records: str | None, message: str
) -> None:
    good = tmp_path / "empty.jsonl"
    good.write_text('{"type": "run", "run_id": "x"}\n', encoding="utf-8")
    paths: Sequence[str] = [str(tmp_path / (records or "empty.jsonl"))]
    with pytest.raises(UsageError, match=message):
        options = RunOptions(target=target, virtual=True, record=str(tmp_path / "out.jsonl"))
        replay_command(paths, options, resign=False)


def test_secret_without_resign_is_refused(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="only with --resign"):
        options = RunOptions(
            target="http://127.0.0.1:9/cb", secret=Secret("s", "--secret"), virtual=True
        )
        replay_command(["r.jsonl"], options, resign=False)
