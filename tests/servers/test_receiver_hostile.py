"""The receiver under a second round of hostile requests: never a 500, bounded output.

Raw TCP requests (the bytes on the wire are exactly the test's): lone surrogates in JSON
fields, a non-ASCII byte in Content-Type (with and without ``--record``), a correctly
signed callback whose timestamp is ``nan``, a 1 MiB undecodable body, a 1 MiB form body
that decodes into one giant field, and control characters in the request path.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from emulator.record.reader import read_record
from emulator.servers.receiver import Receiver
from emulator.term.receive import received_lines

SECRET = "receiver-hostile-secret"
MiB = 1024 * 1024
RECORD_LINE_LIMIT = 64 * 1024


def zego_signature(timestamp: str, nonce: str) -> str:
    """ZEGO's documented signature: sha1 of the sorted, concatenated strings."""
    return hashlib.sha1("".join(sorted([SECRET, timestamp, nonce])).encode()).hexdigest()


async def exchange(port: int, head: bytes, body: bytes) -> tuple[int, bytes]:
    """Send one raw request; the answer's status and body."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(head + f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
        await writer.drain()
        answer = await asyncio.wait_for(reader.read(), 60)
    finally:
        writer.close()
    status_line, _, rest = answer.partition(b"\r\n")
    return int(status_line.split()[1]), rest.partition(b"\r\n\r\n")[2]


def head(content_type: bytes, path: bytes = b"/zego/callback") -> bytes:
    return (
        b"POST " + path + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
        b"Content-Type: " + content_type + b"\r\n"
    )


SIGNED = {"event": "procedure", "timestamp": "1700000000", "nonce": "5"}
SIGNED["signature"] = zego_signature("1700000000", "5")

HOSTILE = {
    "surrogate-value": (b"application/json", b'{"event": "\\ud800", "task_id": "t"}'),
    "surrogate-key": (b"application/json", b'{"\\udc80": "x", "event": "procedure"}'),
    "surrogate-signed": (
        b"application/json",
        json.dumps({**SIGNED, "task_id": "\\ud800"}).replace("\\\\", "\\").encode(),
    ),
    "non-ascii-content-type": (b"application/json\xff", json.dumps(SIGNED).encode()),
    "latin1-content-type": (b"application/x-www-form-urlencoded; charset=\xe9", b"event=x"),
}


@pytest.mark.parametrize("recorded", [False, True], ids=["plain", "record"])
@pytest.mark.parametrize("case", sorted(HOSTILE))
async def test_hostile_request_gets_a_4xx_never_a_500(
    case: str, recorded: bool, tmp_path: Path
) -> None:
    content_type, body = HOSTILE[case]
    record = tmp_path / "got.jsonl" if recorded else None
    async with Receiver(SECRET, max_age=None, record=record) as receiver:
        status, _ = await exchange(receiver.server.port, head(content_type), body)
        assert receiver.errors == []
    assert 400 <= status <= 499, status
    if record is not None:
        [line] = read_record(record)
        assert line["status"] == status
        assert "\udc80" not in json.dumps(line) and "\ud800" not in json.dumps(line)


async def test_correctly_signed_callback_with_a_nan_timestamp_is_refused() -> None:
    fields = {"event": "procedure", "timestamp": "nan", "nonce": "77"}
    fields["signature"] = zego_signature("nan", "77")
    body = "&".join(f"{k}={v}" for k, v in fields.items()).encode()
    async with Receiver(SECRET) as receiver:  # freshness checked (300 s), as receive does
        port = receiver.server.port
        status, answer = await exchange(port, head(b"application/x-www-form-urlencoded"), body)
    assert status == 401, answer
    assert b"timestamp" in answer


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        (b"application/json", b"\xff" * (MiB - 64)),
        (b"application/x-www-form-urlencoded", b"a=%ZZ" * (MiB // 5 - 64)),
        (b"application/x-www-form-urlencoded", b"x" * (MiB - 64)),
    ],
    ids=["undecodable", "form-garbage", "one-giant-field"],
)
async def test_a_one_mebibyte_body_gets_a_short_answer_and_a_bounded_record_line(
    content_type: bytes, body: bytes, tmp_path: Path
) -> None:
    record = tmp_path / "got.jsonl"
    shown: list[str] = []
    async with Receiver(SECRET, record=record) as receiver:
        receiver.on_received = lambda item: shown.extend(received_lines(item))
        status, answer = await exchange(receiver.server.port, head(content_type), body)
    assert 400 <= status <= 499
    assert len(answer) < 2048, len(answer)
    [line] = record.read_text().splitlines()
    assert len(line) < RECORD_LINE_LIMIT, len(line)
    assert sum(len(text) for text in shown) < 16 * 1024


async def test_control_characters_in_the_path_never_reach_the_terminal_raw() -> None:
    shown: list[str] = []
    async with Receiver(SECRET) as receiver:
        receiver.on_received = lambda item: shown.extend(received_lines(item))
        path = b"/%1b%5b31mRED%07/%1b]0;title%07"  # decoded by the server, not by us
        await exchange(receiver.server.port, head(b"application/json", path), b"{}")
    text = "\n".join(shown)
    assert "POST /" in text
    assert all(ch.isprintable() for line in shown for ch in line), text


@pytest.mark.parametrize("status", [100, 101, 199])
def test_an_informational_status_is_not_a_scripted_answer(status: int) -> None:
    with pytest.raises(ValueError, match="not a final answer"):
        Receiver(SECRET).respond(200, status)


@pytest.mark.parametrize("flags", [["--respond", "500,100"], ["--replay-status", "101"]])
def test_receive_refuses_an_informational_status_with_exit_2(flags: list[str]) -> None:
    # a subprocess with a deadline: a receive that accepted the flag would serve for ever
    done = subprocess.run(
        [sys.executable, "-m", "emulator", "receive", "--port", "0", *flags],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert "200 to 599" in done.stderr and "Traceback" not in done.stderr
