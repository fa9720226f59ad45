"""The callback client speaks HTTP/1.1 the way receivers expect, over real sockets.

Each test starts a raw ``asyncio`` TCP server on 127.0.0.1 that reads the exact request
bytes and answers with exact response bytes (or an aiohttp app where the framing is
aiohttp's own), then checks what :class:`CallbackClient` sent and what it made of the
answer. Misbehaving receivers and their recorded errors are in
``test_misbehaving_receivers.py``; this file is about framing and connection reuse.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Callable

import pytest
from aiohttp import web
from raw_server import RawHandler, RawServer

from emulator.delivery.transport import (
    Answer,
    CallbackClient,
    SendError,
    request_headers,
    route_for,
)
from emulator.servers.start import start_server

UA = "zego-callback-emulator/test"
TIMEOUT = 10.0  # seconds; far above anything a local answer takes
FORM = "application/x-www-form-urlencoded"


def answering(*responses: bytes, keep_open: bool = True) -> Callable[[RawServer], RawHandler]:
    """A handler that answers the n-th request on a connection with ``responses[n]``."""

    def make(server: RawServer) -> RawHandler:
        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            for response in responses:
                await server.read_request(reader)
                writer.write(response)
                await writer.drain()
            if keep_open:
                await reader.read()  # until the client hangs up

        return handle

    return make


async def post(client: CallbackClient, url: str, body: bytes = b"a=1") -> Answer:
    answer = Answer()
    await client.post(url, FORM, body, answer, TIMEOUT)
    return answer


def serving(make: Callable[[RawServer], RawHandler]) -> RawServer:
    """A RawServer whose handler ``make`` builds (it may record requests on the server)."""
    server = RawServer(lambda reader, writer: asyncio.sleep(0))
    server.handle = make(server)
    return server


# --- what goes on the wire ----------------------------------------------------------------


async def test_request_is_one_post_with_exact_head_and_body() -> None:
    ok = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
    async with serving(answering(ok)) as server, CallbackClient(user_agent=UA) as client:
        port = server.port
        answer = await post(client, server.url_at("/cb?x=1"), b"appid=1&event=procedure")
    assert (answer.status, answer.body, answer.reused) == (200, b"ok", False)
    head, _, body = server.requests[0].partition(b"\r\n\r\n")
    assert body == b"appid=1&event=procedure"
    assert head.decode().split("\r\n") == [
        "POST /cb?x=1 HTTP/1.1",
        f"Host: 127.0.0.1:{port}",
        f"User-Agent: {UA}",
        "Accept: */*",
        f"Content-Type: {FORM}",
        "Content-Length: 23",
    ]


def test_preview_headers_are_the_head_that_is_sent() -> None:
    lines = request_headers("https://example.com/a b/é?q=ü v", FORM, b"xyz", UA)
    assert lines == [
        "Host: example.com",
        f"User-Agent: {UA}",
        "Accept: */*",
        f"Content-Type: {FORM}",
        "Content-Length: 3",
    ]
    route = route_for("https://example.com/a b/é?q=ü v", UA)
    assert route.head.startswith(b"POST /a%20b/%C3%A9?q=%C3%BC%20v HTTP/1.1\r\n")
    assert route_for("http://[::1]:81/", UA).head.split(b"\r\n")[1] == b"Host: [::1]:81"
    assert route_for("http://h/%41%2F", UA).head.startswith(b"POST /%41%2F HTTP/1.1")


@pytest.mark.parametrize("target", ["ftp://example.com/", "http:///nohost", "http://h:99999/"])
async def test_target_that_is_not_an_http_url_is_a_protocol_error(target: str) -> None:
    async with CallbackClient(user_agent=UA) as client:
        with pytest.raises(SendError) as caught:
            await post(client, target)
    assert caught.value.kind == "protocol"


async def test_line_break_in_content_type_is_refused_not_sent() -> None:
    empty = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
    async with serving(answering(empty)) as server, CallbackClient(user_agent=UA) as client:
        with pytest.raises(SendError) as caught:
            await client.post(server.url, "text/plain\r\nX-Evil: 1", b"a", Answer(), TIMEOUT)
    assert caught.value.kind == "protocol"
    assert server.requests == []


async def test_credentials_in_the_url_go_as_basic_authorization() -> None:
    no_content = b"HTTP/1.1 204 No Content\r\n\r\n"
    async with serving(answering(no_content)) as server, CallbackClient(user_agent=UA) as client:
        answer = await post(client, server.url.replace("http://", "http://zego:p%40ss@"))
    assert answer.status == 204
    expected = base64.b64encode(b"zego:p@ss").decode()
    assert f"Authorization: Basic {expected}\r\n".encode() in server.requests[0]


# --- how answers are framed ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("response", "status", "body"),
    [
        (b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", 200, b"hello"),
        (b"HTTP/1.1 500 Oops\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n",
         500, b"abcde"),
        (b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 202 Accepted\r\nContent-Length: 2\r\n\r\nok",
         202, b"ok"),
        (b"HTTP/1.1 204 No Content\r\n\r\n", 204, b""),
        (b"HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n", 200, b""),
    ],
    ids=["content-length", "chunked", "100-continue-first", "no-content", "no-reason-phrase"],
)  # fmt: skip
async def test_framed_answers_are_read_whole_and_the_connection_kept(
    response: bytes, status: int, body: bytes
) -> None:
    async with (
        serving(answering(response, response)) as server,
        CallbackClient(user_agent=UA) as client,
    ):
        first = await post(client, server.url)
        second = await post(client, server.url)
    assert (first.status, first.body, first.reused) == (status, body, False)
    assert (second.status, second.body, second.reused) == (status, body, True)
    assert server.connections == 1


@pytest.mark.parametrize(
    "response",
    [
        b"HTTP/1.1 200 OK\nContent-Length: 2\n\nok",
        b"HTTP/1.1 200 OK\r\nContent-Length : 2\r\n\r\nok",
        b"HTTP/1.1 200 OK\r\nX-Folded: a\r\n b\r\nContent-Length: 2\r\n\r\nok",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2  \r\nok\r\n0\r\n\r\n",
    ],
    ids=["bare-lf", "space-before-colon", "folded-header", "space-after-chunk-size"],
)
async def test_sloppy_but_unambiguous_answers_are_read_as_aiohttp_reads_them(
    response: bytes,
) -> None:
    async with serving(answering(response)) as server, CallbackClient(user_agent=UA) as client:
        answer = await post(client, server.url)
    assert (answer.status, answer.body) == (200, b"ok")


@pytest.mark.parametrize(
    "response",
    [
        b"HTTP/1.1 200 OK\r\nX-A: a\x00b\r\nContent-Length: 2\r\n\r\nok",
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok",
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"2\r\nok\r\n0\r\n\r\n",
    ],
    ids=["nul-in-header", "two-content-lengths", "length-and-chunked"],
)
async def test_ambiguous_or_forbidden_answers_are_protocol_errors(response: bytes) -> None:
    async with serving(answering(response)) as server, CallbackClient(user_agent=UA) as client:
        with pytest.raises(SendError) as caught:
            await post(client, server.url)
    assert caught.value.kind == "protocol"


@pytest.mark.parametrize(
    "response",
    [
        b"HTTP/1.0 200 OK\r\n\r\nuntil the end",
        b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil the end",
    ],
    ids=["http-1.0", "connection-close"],
)
async def test_answer_without_length_ends_with_the_connection(response: bytes) -> None:
    async with (
        serving(answering(response, keep_open=False)) as server,
        CallbackClient(user_agent=UA) as client,
    ):
        answer = await post(client, server.url)
        again = await post(client, server.url)
    assert (answer.status, answer.body) == (200, b"until the end")
    assert (again.status, again.reused) == (200, False)
    assert server.connections == 2


async def test_connection_close_header_is_honoured_even_with_a_length() -> None:
    response = b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok"
    # the server itself would keep the socket open: only the header says close
    async with serving(answering(response)) as server, CallbackClient(user_agent=UA) as client:
        answers = [await post(client, server.url) for _ in range(3)]
    assert [(a.status, a.reused) for a in answers] == [(200, False)] * 3
    assert server.connections == 3


async def test_body_cut_short_of_its_length_is_a_reset_with_the_status_known() -> None:
    cut = b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly this"
    answer = Answer()
    async with (
        serving(answering(cut, keep_open=False)) as server,
        CallbackClient(user_agent=UA) as client,
    ):
        with pytest.raises(SendError) as caught:
            await client.post(server.url, FORM, b"a", answer, TIMEOUT)
    assert (caught.value.kind, caught.value.answered, answer.status) == (
        "connection_reset",
        True,
        200,
    )


async def test_hanging_up_after_only_100_continue_is_a_reset_with_no_status() -> None:
    only_continue = b"HTTP/1.1 100 Continue\r\n\r\n"
    answer = Answer()
    async with (
        serving(answering(only_continue, keep_open=False)) as server,
        CallbackClient(user_agent=UA) as client,
    ):
        with pytest.raises(SendError) as caught:
            await client.post(server.url, FORM, b"a", answer, TIMEOUT)
    assert (caught.value.kind, answer.status) == ("connection_reset", None)


async def test_bytes_after_the_answer_make_the_connection_untrusted() -> None:
    response = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 500 Stray\r\n"
    async with (
        serving(answering(response, response)) as server,
        CallbackClient(user_agent=UA) as client,
    ):
        first = await post(client, server.url)
        second = await post(client, server.url)
    assert (first.status, first.body) == (200, b"ok")
    assert (second.status, second.reused) == (200, False)
    assert server.connections == 2


async def test_body_at_the_cap_is_kept_whole_and_one_byte_over_is_cut() -> None:
    async def sized(request: web.Request) -> web.Response:
        return web.Response(body=b"x" * int(request.query["n"]))

    app = web.Application()
    app.router.add_post("/", sized)
    async with (
        await start_server(app) as server,
        CallbackClient(user_agent=UA, read_cap=1000) as client,
    ):
        exact = await post(client, f"{server.url}/?n=1000")
        exact_again = await post(client, f"{server.url}/?n=10")
        over = await post(client, f"{server.url}/?n=1001")
        after = await post(client, f"{server.url}/?n=10")
    assert (len(exact.body), len(exact_again.body), exact_again.reused) == (1000, 10, True)
    assert len(over.body) == 1000
    assert after.reused is False  # the over-long answer's connection was dropped


async def test_idle_connection_closed_by_the_receiver_is_not_reused() -> None:
    async def once_then_close(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await server.read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
        await writer.drain()

    server = RawServer(once_then_close)
    async with server, CallbackClient(user_agent=UA) as client:
        first = await post(client, server.url)
        await asyncio.sleep(0.05)  # the receiver's FIN arrives while the connection is idle
        second = await post(client, server.url)
    assert (first.status, second.status, second.reused) == (200, 200, False)
    assert server.connections == 2


async def test_exchange_past_its_timeout_fails_as_timeout_and_drops_the_connection() -> None:
    hung_up = asyncio.Event()

    async def head_then_nothing(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await server.read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc")
        await writer.drain()
        await reader.read()  # returns when the client hangs up
        hung_up.set()

    server = RawServer(head_then_nothing)
    answer = Answer()
    async with server, CallbackClient(user_agent=UA) as client:
        with pytest.raises(SendError) as caught:
            await client.post(server.url, FORM, b"a", answer, 0.2)
        await asyncio.wait_for(hung_up.wait(), 5)  # the client dropped the connection
    # how late past its timeout the sweep fails an exchange is a speed claim, not a test's
    assert (caught.value.kind, answer.status) == ("timeout", 200)


async def test_cancelled_post_drops_its_connection() -> None:
    hung = asyncio.Event()

    async def never_answers(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await server.read_request(reader)
        await reader.read()  # returns when the client hangs up
        hung.set()

    server = RawServer(never_answers)
    async with server, CallbackClient(user_agent=UA) as client:
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.2):
                await post(client, server.url)
        await asyncio.wait_for(hung.wait(), 5)
