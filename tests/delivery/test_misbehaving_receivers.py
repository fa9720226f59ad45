"""Receivers that misbehave never break a run: each failure is a recorded attempt.

Every test starts a real server on 127.0.0.1 (aiohttp where it can express the
misbehaviour, a raw ``asyncio`` TCP server where the bytes themselves are wrong), delivers
one callback through the Dispatcher on a VirtualClock with a Recorder, and checks the
attempt's ``status``/``error``, the retry schedule (virtual offsets 0, 2, 6, 14, 30, 62),
that the run completed, and that the record holds every attempt.

Timeouts: tests that *must* time out use a short per-request timeout (``HANG_TIMEOUT``);
every other test uses a generous one so a loaded machine cannot change the verdict.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import struct
import tracemalloc
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
import trustme
from aiohttp import web
from raw_server import RawServer, read_request

from emulator.callback.factory import CallbackFactory
from emulator.callback.model import Callback
from emulator.clock import VirtualClock
from emulator.delivery.dispatch import Delivery, Dispatcher
from emulator.delivery.results import Outcome
from emulator.record.lines import attempt_record, outcome_record
from emulator.record.reader import read_record
from emulator.record.writer import Recorder
from emulator.retry import RetryPolicy
from emulator.servers.start import RunningServer, start_server
from emulator.settings import tls_context as ssl_context

ZEGO_OFFSETS = [0.0, 2.0, 6.0, 14.0, 30.0, 62.0]
HANG_TIMEOUT = 0.25  # real seconds; only for receivers that never answer in time
SAFE_TIMEOUT = 10.0  # real seconds; far above anything a healthy local answer takes
SECRET = "misbehaving-receivers-secret"


# --- helpers ------------------------------------------------------------------------------


def make_callback() -> Callback:
    factory = CallbackFactory(seed=7, app_id="1234567890", timestamp=1_700_000_000, nonce_seed=7)
    return factory.callback(factory.procedure(status="SUCCESS"), callback_secret=SECRET)


async def deliver(
    tmp_path: Path,
    target: str,
    *,
    timeout: float = SAFE_TIMEOUT,
    tls: ssl.SSLContext | bool = True,
) -> Outcome:
    """One callback through a Dispatcher on virtual time; checks the record matches."""
    path = tmp_path / "run.jsonl"
    with Recorder(path) as recorder:
        async with Dispatcher(
            policy=RetryPolicy(timeout=timeout),
            clock=VirtualClock(),
            recorder=recorder,
            run_id="hardening",
            ssl=tls,
        ) as dispatcher:
            outcome = await dispatcher.deliver(Delivery(make_callback(), target))
    assert_record_holds(read_record(path), outcome)
    return outcome


def assert_record_holds(lines: list[dict[str, Any]], outcome: Outcome) -> None:
    """The record has the callback line, every attempt in order, and the outcome."""
    assert [line["type"] for line in lines] == (
        ["callback"] + ["attempt"] * outcome.attempts + ["outcome"]
    )
    attempts = lines[1:-1]
    assert [line["attempt"] for line in attempts] == list(range(1, outcome.attempts + 1))
    assert attempts == [attempt_record(attempt) for attempt in outcome.history]
    assert lines[-1] == outcome_record(outcome)
    assert lines[0]["body"] == make_callback().body()[1].decode()
    assert all(SECRET not in str(line) for line in lines)


def assert_lost_after_schedule(outcome: Outcome, *, status: int | None, error: str | None) -> None:
    """Six requests at ZEGO's offsets, every one failing the same way, then lost."""
    assert outcome.lost
    assert outcome.attempts == 6
    assert [attempt.offset_s for attempt in outcome.history] == ZEGO_OFFSETS
    assert [(a.status, a.error) for a in outcome.history] == [(status, error)] * 6


def assert_delivered_first_time(outcome: Outcome, status: int) -> None:
    assert outcome.delivered
    assert outcome.attempts == 1
    assert (outcome.history[0].status, outcome.history[0].error) == (status, None)


def reset(writer: asyncio.StreamWriter) -> None:
    """Close with an RST instead of a FIN (SO_LINGER 0)."""
    sock = writer.get_extra_info("socket")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


class Counting:
    """An aiohttp app answering every request with ``answer``; counts the requests."""

    def __init__(self, answer: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> None:
        self.requests = 0
        self.answer = answer
        self.app = web.Application()
        self.app.router.add_route("*", "/{tail:.*}", self._handle)

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        self.requests += 1
        await request.read()
        return await self.answer(request)


# --- no answer in time --------------------------------------------------------------------


async def test_receiver_that_hangs_times_out_on_every_attempt(tmp_path: Path) -> None:
    release = asyncio.Event()

    async def hang(request: web.Request) -> web.Response:
        await release.wait()
        return web.Response(status=200)

    counting = Counting(hang)
    async with await start_server(counting.app) as server:
        outcome = await deliver(tmp_path, server.url + "/cb", timeout=HANG_TIMEOUT)
        release.set()
    assert_lost_after_schedule(outcome, status=None, error="timeout")
    assert counting.requests == 6


async def test_body_that_drips_slower_than_the_timeout_times_out(tmp_path: Path) -> None:
    async def drip_body(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n")
        for _ in range(1000):
            writer.write(b"x")
            await writer.drain()
            await asyncio.sleep(0.05)

    async with RawServer(drip_body) as server:
        outcome = await deliver(tmp_path, server.url, timeout=HANG_TIMEOUT)
    # the status line arrived, the body never finished: the request failed by timeout
    assert_lost_after_schedule(outcome, status=200, error="timeout")
    assert server.connections == 6


async def test_headers_that_drip_slower_than_the_timeout_time_out(tmp_path: Path) -> None:
    async def drip_head(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        for byte in b"HTTP/1.1 200 OK\r\nX-Slow: " + b"y" * 1000:
            writer.write(bytes([byte]))
            await writer.drain()
            await asyncio.sleep(0.05)

    async with RawServer(drip_head) as server:
        outcome = await deliver(tmp_path, server.url, timeout=HANG_TIMEOUT)
    assert_lost_after_schedule(outcome, status=None, error="timeout")
    assert server.connections == 6


# --- broken connections and broken HTTP ---------------------------------------------------


async def test_receiver_that_resets_after_reading_the_request(tmp_path: Path) -> None:
    async def read_then_reset(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        reset(writer)

    async with RawServer(read_then_reset) as server:
        outcome = await deliver(tmp_path, server.url)
    assert_lost_after_schedule(outcome, status=None, error="connection_reset")
    assert server.connections == 6


async def test_receiver_that_resets_on_accept(tmp_path: Path) -> None:
    async def reset_at_once(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        reset(writer)

    async with RawServer(reset_at_once) as server:
        outcome = await deliver(tmp_path, server.url)
    assert_lost_after_schedule(outcome, status=None, error="connection_reset")
    assert server.connections == 6


async def test_receiver_that_closes_before_the_status_line(tmp_path: Path) -> None:
    async def close_quietly(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.close()

    async with RawServer(close_quietly) as server:
        outcome = await deliver(tmp_path, server.url)
    assert_lost_after_schedule(outcome, status=None, error="connection_reset")
    assert server.connections == 6


@pytest.mark.parametrize(
    "answer",
    [
        b"SPAM SPAM SPAM\r\n\r\n",
        b"HTTP/1.1 OK 200\r\n\r\n",
        b"HTTP/1.1 2000 OK\r\nContent-Length: 0\r\n\r\n",
        b"\x00\xff\xfe binary \x01\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: nope\r\n\r\n",
    ],
    ids=["words", "swapped", "four-digit-status", "binary", "bad-content-length"],
)
async def test_garbage_status_line_is_a_protocol_error(tmp_path: Path, answer: bytes) -> None:
    async def garbage(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(answer)
        await writer.drain()

    async with RawServer(garbage) as server:
        outcome = await deliver(tmp_path, server.url)
    assert_lost_after_schedule(outcome, status=None, error="protocol")
    assert server.connections == 6


@pytest.mark.parametrize(
    "head",
    [
        b"HTTP/1.1 200 OK\r\nX-Big: " + b"a" * 100_000 + b"\r\nContent-Length: 0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\n" + b"X-Many: b\r\n" * 1000 + b"Content-Length: 0\r\n\r\n",
        b"HTTP/1.1 200 " + b"c" * 100_000 + b"\r\nContent-Length: 0\r\n\r\n",
    ],
    ids=["one-huge-header", "thousand-headers", "huge-status-line"],
)
async def test_huge_response_headers_are_too_large(tmp_path: Path, head: bytes) -> None:
    """Decision: headers we refuse to parse make the attempt fail with ``too_large``."""

    async def huge(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(head)
        await writer.drain()

    async with RawServer(huge) as server:
        outcome = await deliver(tmp_path, server.url)
    assert_lost_after_schedule(outcome, status=None, error="too_large")
    assert server.connections == 6


async def test_connection_refused(tmp_path: Path) -> None:
    with socket.socket() as bound_not_listening:  # holds the port so nobody else takes it
        bound_not_listening.bind(("127.0.0.1", 0))
        port = bound_not_listening.getsockname()[1]
        outcome = await deliver(tmp_path, f"http://127.0.0.1:{port}/cb")
    assert_lost_after_schedule(outcome, status=None, error="connection_refused")


async def test_unresolvable_host_is_a_dns_error(tmp_path: Path) -> None:
    outcome = await deliver(tmp_path, "http://zego-receiver.invalid/cb")
    assert_lost_after_schedule(outcome, status=None, error="dns")


# --- answers that are not failures, and redirects that are --------------------------------


@pytest.mark.parametrize("code", [301, 302, 307, 308])
async def test_redirect_is_not_followed_and_counts_as_failure(tmp_path: Path, code: int) -> None:
    async def landing_answer(request: web.Request) -> web.Response:
        return web.Response(status=200)

    landing = Counting(landing_answer)
    async with await start_server(landing.app) as landing_server:

        async def redirect(request: web.Request) -> web.Response:
            return web.Response(status=code, headers={"Location": landing_server.url + "/x"})

        redirecting = Counting(redirect)
        async with await start_server(redirecting.app) as server:
            outcome = await deliver(tmp_path, server.url + "/cb")
    assert_lost_after_schedule(outcome, status=code, error=None)
    assert redirecting.requests == 6
    assert landing.requests == 0


@pytest.mark.parametrize("code", [200, 201, 202, 204, 299])
async def test_any_2xx_is_success(tmp_path: Path, code: int) -> None:
    async def answer(request: web.Request) -> web.Response:
        return web.Response(status=code, reason="Fine")

    counting = Counting(answer)
    async with await start_server(counting.app) as server:
        outcome = await deliver(tmp_path, server.url + "/cb")
    assert_delivered_first_time(outcome, code)
    assert counting.requests == 1


@pytest.mark.parametrize("code", [100, 199, 300, 304, 400, 404, 413, 500, 503, 599])
async def test_non_2xx_status_is_failure_and_retried(tmp_path: Path, code: int) -> None:
    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        if 100 <= code < 200:  # an informational answer the receiver never follows up
            writer.write(f"HTTP/1.1 {code} Info\r\n\r\n".encode())
            await writer.drain()
            writer.write(b"HTTP/1.1 503 Nope\r\nContent-Length: 0\r\n\r\n")
        else:
            writer.write(f"HTTP/1.1 {code} Nope\r\nContent-Length: 0\r\n\r\n".encode())
        await writer.drain()

    async with RawServer(answer) as server:
        outcome = await deliver(tmp_path, server.url)
    assert outcome.lost
    assert outcome.attempts == 6
    assert all(not attempt.ok for attempt in outcome.history)
    assert [a.error for a in outcome.history] == [None] * 6
    assert server.connections == 6


# --- bodies that are too big --------------------------------------------------------------

CHUNK = b"z" * 65536


async def test_ten_megabyte_body_is_read_capped_and_200_still_succeeds(tmp_path: Path) -> None:
    async def big(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(status=200)
        response.content_length = 160 * len(CHUNK)  # 10 MiB
        await response.prepare(request)
        for _ in range(160):
            await response.write(CHUNK)
        return response

    counting = Counting(big)
    async with await start_server(counting.app) as server:
        tracemalloc.start()
        try:
            outcome = await deliver(tmp_path, server.url + "/cb")
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert_delivered_first_time(outcome, 200)
    assert outcome.history[0].response_excerpt == "z" * 1024
    assert peak < 8 * 1024 * 1024


async def test_endless_body_is_read_capped_and_the_connection_dropped(tmp_path: Path) -> None:
    hung_up = asyncio.Event()
    written = 0

    async def endless(request: web.Request) -> web.StreamResponse:
        nonlocal written
        response = web.StreamResponse(status=200)
        response.enable_chunked_encoding()
        await response.prepare(request)
        try:
            while True:
                await response.write(CHUNK)
                written += len(CHUNK)
        except (ConnectionError, OSError):
            hung_up.set()
            raise

    counting = Counting(endless)
    async with await start_server(counting.app) as server:
        tracemalloc.start()
        try:
            # a body that never ends would time out unless the read is capped
            outcome = await deliver(tmp_path, server.url + "/cb")
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        await asyncio.wait_for(hung_up.wait(), 30)  # the client closed the connection
    assert_delivered_first_time(outcome, 200)
    assert len(outcome.history[0].response_excerpt) == 1024
    assert peak < 8 * 1024 * 1024


# --- TLS ----------------------------------------------------------------------------------


@pytest.fixture
def ca() -> trustme.CA:
    return trustme.CA()


async def https_server(ca: trustme.CA) -> tuple[RunningServer, Counting]:
    async def ok(request: web.Request) -> web.Response:
        return web.Response(status=200, text="ok")

    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(server_context)
    counting = Counting(ok)
    server = await start_server(counting.app, ssl_context=server_context)
    return server, counting


async def test_https_with_untrusted_certificate_fails_cleanly_as_tls(
    tmp_path: Path, ca: trustme.CA
) -> None:
    server, counting = await https_server(ca)
    async with server:
        assert server.url.startswith("https://127.0.0.1:")
        outcome = await deliver(tmp_path, server.url + "/cb", tls=ssl_context())
    assert_lost_after_schedule(outcome, status=None, error="tls")
    assert counting.requests == 0
    reason = outcome.history[0].error_detail or ""
    assert "certificate verify failed: unable to get local issuer certificate" in reason


async def test_https_with_a_certificate_for_another_host_names_the_mismatch(
    tmp_path: Path, ca: trustme.CA
) -> None:
    async def ok(request: web.Request) -> web.Response:
        return web.Response(status=200)

    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("other.example").configure_cert(server_context)
    client_context = ssl.create_default_context()
    ca.configure_trust(client_context)
    async with await start_server(Counting(ok).app, ssl_context=server_context) as server:
        outcome = await deliver(tmp_path, server.url + "/cb", tls=client_context)
    assert_lost_after_schedule(outcome, status=None, error="tls")
    reason = outcome.history[0].error_detail or ""
    assert "certificate verify failed: IP address mismatch" in reason


async def test_https_to_plain_http_server_is_a_tls_error(tmp_path: Path) -> None:
    async def ok(request: web.Request) -> web.Response:
        return web.Response(status=200)

    counting = Counting(ok)
    async with await start_server(counting.app) as server:
        target = server.url.replace("http://", "https://") + "/cb"
        outcome = await deliver(tmp_path, target)
    assert_lost_after_schedule(outcome, status=None, error="tls")
    assert "wrong version number" in (outcome.history[0].error_detail or "")


async def test_https_with_ca_bundle_delivers(tmp_path: Path, ca: trustme.CA) -> None:
    bundle = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    server, counting = await https_server(ca)
    async with server:
        outcome = await deliver(
            tmp_path, server.url + "/cb", tls=ssl_context(ca_bundle=str(bundle))
        )
    assert_delivered_first_time(outcome, 200)
    assert counting.requests == 1


async def test_https_insecure_delivers_without_verifying(tmp_path: Path, ca: trustme.CA) -> None:
    server, counting = await https_server(ca)
    async with server:
        outcome = await deliver(tmp_path, server.url + "/cb", tls=ssl_context(insecure=True))
    assert_delivered_first_time(outcome, 200)
    assert counting.requests == 1


async def test_receiver_closing_after_each_answer_costs_no_spurious_attempts(
    tmp_path: Path,
) -> None:
    """A server that closes every connection after answering, without saying so."""

    async def answer_then_close(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        await writer.drain()
        await asyncio.sleep(0.05)  # the next request is on its way on this connection

    factory = CallbackFactory(seed=1, app_id="1234567890")
    callbacks = [factory.callback(factory.procedure(), callback_secret=SECRET) for _ in range(10)]
    async with (
        RawServer(answer_then_close) as server,
        Dispatcher(
            policy=RetryPolicy(timeout=SAFE_TIMEOUT), clock=VirtualClock(), concurrency=4
        ) as dispatcher,
    ):
        outcomes = []
        for callback in callbacks:
            outcomes.append(await dispatcher.deliver(Delivery(callback, server.url)))
    assert [(o.delivered, o.attempts) for o in outcomes] == [(True, 1)] * 10
    assert server.connections == 10
