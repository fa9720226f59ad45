"""The servers we start (``receive``, ``api``) under hostile clients.

Each test runs against both servers, started in-process with their defaults, over raw
TCP sockets so the bytes on the wire are exactly what the test says: they bind
127.0.0.1 unless told otherwise, hold 1,000 connections open at once and answer every
one, refuse bodies over 1 MiB with 413 (without waiting to read them), and never
answer 500 to malformed input — garbage bytes, broken HTTP, wrong content types,
truncated bodies, undecodable text, a seeded fuzz of random bodies.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import re
import socket
import struct
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest

from emulator.callback.factory import CallbackFactory
from emulator.cli.main import build_parser
from emulator.clock import VirtualClock
from emulator.servers.api_client import ZegoApiClient
from emulator.servers.mockapi import MockApi
from emulator.servers.receiver import Receiver
from emulator.servers.start import RunningServer

SECRET = "hardening-callback-secret"
SERVER_SECRET = "hardening-server-secret"
APP_ID = "1234567890"
DEADLINE = 60.0  # seconds before a server that never answers fails the test
CONNECTIONS = 1000
MiB = 1024 * 1024


@dataclass
class Served:
    """A server under test: its kind, where it listens, and a valid request for it."""

    kind: str  # "receive" | "api"
    server: RunningServer
    valid_request: Callable[[int], bytes]  # n -> a distinct, well-formed request
    path: str  # the path malformed requests go to
    check: Callable[[], None]  # raises if the server hit a bug while handling

    @property
    def port(self) -> int:
        return self.server.port


def post(path: str, body: bytes, content_type: str | None, *extra: str) -> bytes:
    head = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", "Connection: close"]
    if content_type is not None:
        head.append(f"Content-Type: {content_type}")
    head += [f"Content-Length: {len(body)}", *extra]
    return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body


def get(target: str) -> bytes:
    return f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode()


async def start_receiver() -> tuple[Receiver, RunningServer]:
    receiver = Receiver(SECRET, max_age=None, replay_status=None)
    return receiver, await receiver.start()  # the default host


def callback_request(path: str) -> Callable[[int], bytes]:
    factory = CallbackFactory(seed=9, app_id=APP_ID)
    template = factory.procedure(status="SUCCESS")

    def request(n: int) -> bytes:
        model = template.model_copy(update={"nonce": str(100_000 + n)})
        content_type, body = factory.callback(model, SECRET).body()
        return post(path, body, content_type)

    return request


def api_request(n: int) -> bytes:
    client = ZegoApiClient("http://127.0.0.1/", APP_ID, SERVER_SECRET)
    url = urlsplit(client.url("DescribeMediaTask", TaskId=f"task-{n}", Vendor="Tencent"))
    return get(f"/?{url.query}")


@pytest.fixture(params=["receive", "api"])
async def served(request: pytest.FixtureRequest) -> AsyncIterator[Served]:
    if request.param == "receive":
        receiver, server = await start_receiver()

        def receiver_ok() -> None:
            assert receiver.errors == []

        try:
            yield Served("receive", server, callback_request("/zego/callback"), "/zego/callback",
                         receiver_ok)  # fmt: skip
        finally:
            await receiver.stop()
    else:
        api = MockApi(app_id=APP_ID, server_secret=SERVER_SECRET, clock=VirtualClock())
        server = await api.start()  # the default host
        try:
            yield Served("api", server, api_request, "/", lambda: None)
        finally:
            await server.stop()


async def exchange(port: int, request: bytes, *, truncated: bool = False) -> bytes:
    """Send ``request`` on a fresh connection and return the server's first answer.

    ``truncated``: the request is cut short, so the client closes its side after it (the
    server may then answer, or just close: both are fine, neither is a 500).
    """
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(request)
        await writer.drain()
        if truncated:
            writer.write_eof()
        return await asyncio.wait_for(read_answer(reader), DEADLINE)
    except ConnectionResetError:
        return b""  # the server dropped the connection: not a 500 either
    finally:
        writer.close()


async def read_answer(reader: asyncio.StreamReader) -> bytes:
    """One HTTP response: the head, then Content-Length bytes (or up to EOF)."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as exc:
        return exc.partial
    found = re.search(rb"(?i)\r\ncontent-length: *(\d+)", head)
    try:
        if found:
            return head + await reader.readexactly(int(found.group(1)))
        return head + await reader.read()
    except asyncio.IncompleteReadError as exc:
        return head + exc.partial


def status_of(answer: bytes) -> int | None:
    found = re.match(rb"HTTP/1\.[01] (\d{3}) ", answer)
    return int(found.group(1)) if found else None


def body_of(answer: bytes) -> bytes:
    return answer.partition(b"\r\n\r\n")[2]


def assert_not_500(served: Served, answer: bytes, what: str) -> None:
    status = status_of(answer)
    assert status is None or status < 500, f"{served.kind}: {what}: {answer[:300]!r}"
    # the mock API reports its own bugs inside a 200 envelope: that would be a 500 too
    assert b"internal error" not in answer, f"{served.kind}: {what}: {answer[:300]!r}"


# --- binding ------------------------------------------------------------------------------


async def test_servers_bind_loopback_by_default(served: Served) -> None:
    hosts = {address[0] for address in served.server.runner.addresses}
    assert hosts == {"127.0.0.1"}


def test_cli_servers_default_to_loopback() -> None:
    parser = build_parser()
    assert parser.parse_args(["receive"]).host == "127.0.0.1"
    assert parser.parse_args(["api"]).host == "127.0.0.1"


# --- 1,000 connections at once ------------------------------------------------------------


async def test_holds_1000_concurrent_connections(served: Served) -> None:
    connect = [asyncio.open_connection("127.0.0.1", served.port) for _ in range(CONNECTIONS)]
    connections = await asyncio.gather(*connect)  # all open before any request is sent
    try:
        for n, (_, writer) in enumerate(connections):
            writer.write(served.valid_request(n))
        answers = await asyncio.wait_for(
            asyncio.gather(*(reader.read() for reader, _ in connections)), DEADLINE
        )
    finally:
        for _, writer in connections:
            writer.close()
    statuses = [status_of(answer) for answer in answers]
    assert statuses == [200] * CONNECTIONS
    if served.kind == "api":  # ZEGO's envelope on every one (most are rate-limited: Code 6)
        codes = {json.loads(body_of(answer))["Code"] for answer in answers}
        assert codes <= {0, 6, 1000}
        assert all(b'"RequestId"' in answer for answer in answers)
    served.check()


# --- bodies over 1 MiB --------------------------------------------------------------------


async def test_body_over_one_mib_is_413(served: Served) -> None:
    answer = await exchange(
        served.port,
        post(served.path, b"a=" + b"x" * (MiB - 1), "application/x-www-form-urlencoded"),
    )
    assert status_of(answer) == 413, answer[:200]
    served.check()


async def test_huge_declared_body_is_413_before_it_is_sent(served: Served) -> None:
    """Content-Length: 10 GiB and no body: the answer comes without waiting for it."""
    head = (
        f"POST {served.path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
        f"Content-Type: application/json\r\nContent-Length: {10 * 1024 * MiB}\r\n\r\n"
    ).encode()
    reader, writer = await asyncio.open_connection("127.0.0.1", served.port)
    try:
        writer.write(head + b"{")
        answer = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), DEADLINE)
    finally:
        writer.close()
    assert status_of(answer) == 413, answer[:200]


async def test_chunked_body_over_one_mib_is_413(served: Served) -> None:
    chunk = b"y" * 65536
    chunks = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(MiB // len(chunk) + 2))
    request = (
        (
            f"POST {served.path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
            "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        ).encode()
        + chunks
        + b"0\r\n\r\n"
    )
    answer = await exchange(served.port, request)
    assert status_of(answer) == 413, answer[:200]


async def test_body_of_exactly_one_mib_is_not_refused_for_size(served: Served) -> None:
    answer = await exchange(
        served.port,
        post(served.path, b"a=" + b"x" * (MiB - 2), "application/x-www-form-urlencoded"),
    )
    assert status_of(answer) not in (413, None), answer[:200]
    assert_not_500(served, answer, "1 MiB body")


# --- malformed input ----------------------------------------------------------------------


def malformed_requests(path: str) -> list[tuple[str, bytes]]:
    """Hand-picked broken requests: HTTP-level, content-type level and body level."""
    form = "application/x-www-form-urlencoded"
    nested = b"[" * 100_000 + b"]" * 100_000
    return [
        ("garbage bytes", bytes(range(256)) * 4),
        ("truncated: empty lines only", b"\r\n\r\n"),
        ("no http version", f"POST {path}\r\n\r\n".encode()),
        ("unknown method", f"BREW {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode()),
        ("bad header line", f"POST {path} HTTP/1.1\r\nHost x\r\n\r\n".encode()),
        ("header with NUL", f"POST {path} HTTP/1.1\r\nX-A: a\x00b\r\n\r\n".encode()),
        ("negative length", f"POST {path} HTTP/1.1\r\nContent-Length: -5\r\n\r\n".encode()),
        (
            "two lengths",
            f"POST {path} HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab".encode(),
        ),
        (
            "bad chunk size",
            f"POST {path} HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n".encode(),
        ),
        ("huge request line", f"GET /?{'a' * 200_000} HTTP/1.1\r\n\r\n".encode()),
        ("huge header", f"POST {path} HTTP/1.1\r\nX-Big: {'b' * 200_000}\r\n\r\n".encode()),
        ("truncated body", post(path, b"a=1&b=2", form)[:-4]),
        (
            "truncated chunked",
            f"POST {path} HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n10\r\nabc".encode(),
        ),
        ("no content type", post(path, b"appid=1&event=procedure", None)),
        ("image content type", post(path, b"\x89PNG\r\n\x1a\n" + bytes(100), "image/png")),
        ("multipart without boundary", post(path, b"--x\r\n\r\n", "multipart/form-data")),
        ("bad charset", post(path, b"a=1", f"{form}; charset=no-such-charset")),
        ("utf-16 charset", post(path, "a=1".encode("utf-16"), f"{form}; charset=utf-16")),
        ("garbage content type", post(path, b"a=1", "\x01\x02;;;=;")),
        ("json not an object", post(path, b"[1, 2, 3]", "application/json")),
        ("json syntax error", post(path, b'{"event": ', "application/json")),
        ("json deeply nested", post(path, nested, "application/json")),
        (
            "json huge number",
            post(path, b'{"timestamp": 1' + b"0" * 5000 + b"}", "application/json"),
        ),
        ("json with NUL", post(path, b'{"event": "proc\\u0000edure"}', "application/json")),
        ("bad percent escapes", post(path, b"a=%zz&%=%%&event=%FF%FE", form)),
        ("not utf-8", post(path, b"event=\xff\xfe\xfd&appid=\xc3\x28", form)),
        ("many fields", post(path, b"&".join(b"f%d=%d" % (i, i) for i in range(20_000)), form)),
        ("empty body", post(path, b"", form)),
        ("signature only", post(path, b"signature=abc", form)),
        ("query garbage", get("/?Action=%FF%FE&AppId=-1&Timestamp=NaN&Signature=%00")),
        ("query repeated", get("/?Action=TranscodeMedia&Action=MergeMedia&AppId=1&AppId=2")),
        ("query bad escapes", get("/?Action=%zz&%%=%&=&&&")),
        ("query huge numbers", get(f"/?AppId={'9' * 5000}&Timestamp={'9' * 5000}")),
        ("query array garbage", get("/?InputFileId[]=&InputFileId[][]=x&Vendor[]=Tencent")),
        ("path traversal", get("/../../etc/passwd")),
        ("absolute form", get("http://evil.example/?Action=DescribeMediaTask")),
    ]


async def test_malformed_requests_never_get_500(
    served: Served, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    for what, request in malformed_requests(served.path):
        truncated = what.startswith("truncated")
        answer = await exchange(served.port, request, truncated=truncated)
        answered = truncated or what == "no http version" or status_of(answer) is not None
        assert answered, f"{served.kind}: {what}: no answer"
        assert_not_500(served, answer, what)
    served.check()
    # a client's broken HTTP is answered, not logged as our error with a traceback
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []


async def test_fuzzed_bodies_never_get_500(served: Served) -> None:
    rng = random.Random(20240501)
    content_types = [
        None, "application/x-www-form-urlencoded", "application/json", "text/plain",
        "application/json; charset=latin-1", "application/octet-stream", "",
    ]  # fmt: skip
    alphabet = b'=&%{}[]":,0123456789abcdefsignature\x00\xff\n '
    for case in range(150):
        size = rng.choice([0, 1, 7, 100, 3000])
        body = bytes(rng.choice(alphabet) for _ in range(size)) if case % 2 else rng.randbytes(size)
        content_type = rng.choice(content_types)
        answer = await exchange(served.port, post(served.path, body, content_type))
        assert status_of(answer) is not None, (case, body[:50], content_type)
        assert_not_500(served, answer, f"fuzz case {case} ({content_type!r})")
    served.check()


async def test_client_that_vanishes_mid_request_leaves_the_server_healthy(served: Served) -> None:
    for cut in (10, 100, len(served.valid_request(0)) - 1):
        _, writer = await asyncio.open_connection("127.0.0.1", served.port)
        writer.write(served.valid_request(cut)[:cut])
        await writer.drain()
        sock = writer.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        writer.transport.abort()  # RST, not FIN
    answer = await exchange(served.port, served.valid_request(999_999))
    assert status_of(answer) == 200
    served.check()
