"""The HTTP/1.1 client the Dispatcher sends callbacks with: keep-alive pool, capped reads.

    async with CallbackClient(user_agent="zego-callback-emulator/1.0") as client:
        answer = Answer()
        await client.post("http://127.0.0.1:8080/cb", "application/json", b"{}", answer, 5.0)
        answer.status, answer.body, answer.reused

It does one thing: POST a body and read the answer, the way ZEGO's servers do — no
redirects followed, no cookies, no compression asked for, a response body read up to
``read_cap`` bytes (a longer one is cut off and its connection dropped). Responses are
parsed by llhttp (through ``httptools``, the parser uvicorn uses); the request is one
``write`` of bytes built here. Per request it costs about a third of the CPU of an
aiohttp ``ClientSession.post`` (~20 against ~60 µs here), which is what lets a run keep
ZEGO's schedule with tens of thousands of callbacks pending (``python -m bench``).

Errors translate at this one boundary into :class:`SendError`, whose ``kind`` is the
record's ``error`` value::

    SendError   kind: dns | connection_refused | tls        (while connecting)
                      connection_reset | protocol | too_large (while exchanging)
                      timeout       (no complete answer within the post's ``timeout``)

Timeouts cost no timer per request: one sweep a ``timeout / 5`` (at most every 50 ms)
fails the exchanges past their deadline, so a timeout fires up to that much late (a
timer per request was ~5% of a request's CPU). Cancelling a post closes its connection.
"""

from __future__ import annotations

import asyncio
import base64
import socket
import ssl
import time
from dataclasses import dataclass
from types import TracebackType
from typing import cast
from urllib.parse import quote, unquote, urlsplit

import httptools

from emulator.delivery.results import AttemptError

READ_CAP = 64 * 1024  # bytes of a response body kept at most
MAX_LINE = 8190  # bytes of the status line or of one header, as aiohttp allows
MAX_HEADERS = 128  # response headers, as aiohttp allows
MAX_HEAD = 64 * 1024  # bytes of a whole answer head
READ_BUFFER = 16 * 1024  # bytes read from the socket at a time
SWEEP_MAX = 0.05  # seconds between two sweeps for timed-out exchanges, at most
SWEEP_MIN = 0.001  # ... and at least (a zero timeout must not spin the loop)
MAX_HEADS = 1024  # (target, content type) request heads kept made
KEEPALIVE_IDLE = 15.0  # seconds an idle pooled connection is trusted (aiohttp's default)
# characters a request target keeps as they are (RFC 3986 pchar, "/" and "?", and "%" so
# that escapes already in the URL stay); anything else is percent-encoded as UTF-8
_PATH_SAFE = "/%:@!$&'()*+,;=-._~"
_QUERY_SAFE = _PATH_SAFE + "?"


def tls_reason(exc: ssl.SSLError | ssl.CertificateError) -> str:
    """Why a TLS handshake failed, in words: ``certificate verify failed: self-signed
    certificate``, ``... Hostname mismatch ...``, ``wrong version number`` (plain HTTP)."""
    if isinstance(exc, ssl.SSLCertVerificationError) and exc.verify_message:
        return f"certificate verify failed: {exc.verify_message}"
    reason = getattr(exc, "reason", None)
    if isinstance(reason, str) and reason:
        return reason.replace("_", " ").lower()
    return str(exc) or type(exc).__name__


class SendError(Exception):
    """A request failed before a complete answer; ``kind`` is the record's ``error`` value."""

    def __init__(self, kind: AttemptError, message: str, *, answered: bool = False) -> None:
        super().__init__(message)
        self.kind: AttemptError = kind
        self.answered = answered  # a status line had arrived


@dataclass
class Answer:
    """What came back, filled in as it arrives: the status (as soon as the head is in, so
    a timeout while the body drips still knows it), the body (at most ``read_cap``
    bytes), and whether the request went out on a pooled keep-alive connection."""

    status: int | None = None
    body: bytes = b""
    reused: bool = False


@dataclass(frozen=True)
class Route:
    """Where a target URL's requests go and the fixed part of their head."""

    key: tuple[str, str, int]  # (scheme, host, port): connections are pooled by it
    host: str
    port: int
    tls: bool
    head: bytes  # request line and fixed headers, up to Content-Type


def route_for(target: str, user_agent: str) -> Route:
    """The Route of an ``http://`` or ``https://`` URL; ValueError for anything else."""
    parts = urlsplit(target)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise ValueError(f"not an http:// or https:// URL: {target!r}")
    host = parts.hostname
    if not host:
        raise ValueError(f"no host in URL {target!r}")
    default_port = 443 if scheme == "https" else 80
    port = parts.port or default_port  # ValueError for a port that is not a number
    host_header = f"[{host}]" if ":" in host else host
    if port != default_port:
        host_header += f":{port}"
    path = quote(parts.path or "/", safe=_PATH_SAFE)
    if parts.query:
        path += "?" + quote(parts.query, safe=_QUERY_SAFE)
    lines = [
        f"POST {path} HTTP/1.1",
        f"Host: {host_header.encode('idna').decode('ascii')}",
        f"User-Agent: {user_agent}",
        "Accept: */*",
    ]
    if parts.username is not None:  # http://user:password@host/ sends Basic credentials
        userinfo = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
        lines.append(f"Authorization: Basic {base64.b64encode(userinfo.encode()).decode()}")
    head = ("\r\n".join(lines) + "\r\n").encode("ascii")
    return Route((scheme, host, port), host, port, scheme == "https", head)


def request_headers(target: str, content_type: str, body: bytes, user_agent: str) -> list[str]:
    """The header lines a POST of ``body`` to ``target`` carries (for previews)."""
    head = route_for(target, user_agent).head.decode("ascii").split("\r\n")[1:-1]
    return [*head, f"Content-Type: {content_type}", f"Content-Length: {len(body)}"]


class CallbackClient:
    """POSTs callbacks over pooled keep-alive connections (see the module docstring)."""

    def __init__(
        self,
        *,
        user_agent: str,
        tls: ssl.SSLContext | bool = True,
        read_cap: int = READ_CAP,
        max_idle: int = 100,
    ) -> None:
        self.user_agent = user_agent
        self.read_cap = read_cap
        self.max_idle = max_idle
        self._tls = tls  # a context, True (verify), or False (do not verify)
        self._ssl_context: ssl.SSLContext | None = None
        self._routes: dict[str, Route] = {}
        self._heads: dict[tuple[str, str], tuple[Route, bytes]] = {}  # see _head
        self._idle: dict[tuple[str, str, int], list[_Connection]] = {}
        self._open: set[_Connection] = set()
        self._waiting: set[_Connection] = set()  # exchanges in progress, with deadlines
        self._sweep: asyncio.TimerHandle | None = None
        self._sweep_every = SWEEP_MAX
        self._watched = -1.0  # the last post's timeout, and the sweep period it asks for
        self._watched_every = SWEEP_MAX
        self._closed = False

    async def __aenter__(self) -> CallbackClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close every connection, idle or busy."""
        self._closed = True
        if self._sweep is not None:
            self._sweep.cancel()
            self._sweep = None
        for connection in list(self._open):
            connection.close()
        self._open.clear()
        self._idle.clear()

    async def post(
        self, target: str, content_type: str, body: bytes, answer: Answer, timeout: float
    ) -> None:
        """POST ``body`` to ``target`` and read the answer into ``answer`` within
        ``timeout`` seconds (connecting included).

        Raises :class:`SendError` when there is no complete answer (``answer`` keeps what
        did arrive).

        A pooled connection the receiver had already closed (HTTP lets it, any time the
        connection is idle) gets one more try on a fresh connection, so the record shows
        what the receiver did rather than a race on a stale socket.
        """
        if self._closed:
            raise RuntimeError("the client is closed")
        known = self._heads.get((target, content_type))
        if known is None:
            known = self._head(target, content_type)
        route, head = known
        request = b"%b%d\r\n\r\n%b" % (head, len(body), body)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        for fresh in (False, True):
            connection = None if fresh else self._pooled(route.key)
            answer.reused = connection is not None
            if connection is None:
                try:
                    async with asyncio.timeout_at(deadline):
                        connection = await self._connect(route)
                except TimeoutError as exc:
                    raise SendError("timeout", f"no connection within {timeout:g} s") from exc
            self._watch(connection, deadline, timeout)
            try:
                await connection.exchange(request, answer)
            except SendError as exc:
                connection.close()
                if answer.reused and exc.kind == "connection_reset" and not exc.answered:
                    continue  # stale keep-alive connection: once more on a fresh one
                raise
            except BaseException:  # cancelled mid-exchange
                connection.close()
                raise
            finally:
                self._waiting.discard(connection)
            self._release(route.key, connection)
            return
        raise AssertionError("unreachable: a fresh connection is never retried")

    def _head(self, target: str, content_type: str) -> tuple[Route, bytes]:
        """The route of ``target`` and a request head up to its Content-Length value
        (worked out once per target and content type)."""
        route = self._routes.get(target)
        if route is None:
            try:
                route = route_for(target, self.user_agent)
            except ValueError as exc:
                raise SendError("protocol", str(exc)) from exc
            self._routes[target] = route
        if "\r" in content_type or "\n" in content_type:
            raise SendError("protocol", "a line break in the Content-Type header")
        head = b"%bContent-Type: %b\r\nContent-Length: " % (
            route.head,
            content_type.encode("latin-1"),
        )
        if len(self._heads) < MAX_HEADS:
            self._heads[(target, content_type)] = (route, head)
        return route, head

    def _watch(self, connection: _Connection, deadline: float, timeout: float) -> None:
        """Have the sweep fail ``connection``'s exchange if it is not done by ``deadline``."""
        connection.deadline = deadline
        self._waiting.add(connection)
        if timeout != self._watched:  # worked out once per timeout: most posts share one
            self._watched = timeout
            self._watched_every = max(SWEEP_MIN, min(SWEEP_MAX, timeout / 5))
        every = self._watched_every
        if self._sweep is None or every < self._sweep_every:
            if self._sweep is not None:
                self._sweep.cancel()
            self._sweep_every = every
            self._sweep = asyncio.get_running_loop().call_later(every, self._sweep_deadlines)

    def _sweep_deadlines(self) -> None:
        """Fail every exchange past its deadline; sweep again while any is waiting."""
        self._sweep = None
        now = asyncio.get_running_loop().time()
        for connection in [c for c in self._waiting if c.deadline <= now]:
            self._waiting.discard(connection)
            connection.time_out()
        if self._waiting and not self._closed:
            loop = asyncio.get_running_loop()
            self._sweep = loop.call_later(self._sweep_every, self._sweep_deadlines)
        else:
            self._sweep_every = SWEEP_MAX

    def _pooled(self, key: tuple[str, str, int]) -> _Connection | None:
        """The most recently used idle connection to ``key`` that is still good."""
        idle = self._idle.get(key)
        now = time.monotonic()
        while idle:
            connection = idle.pop()
            if connection.usable and now - connection.idle_since < KEEPALIVE_IDLE:
                return connection
            connection.close()
        return None

    def _release(self, key: tuple[str, str, int], connection: _Connection) -> None:
        if not connection.usable or self._closed:
            connection.close()
            return
        idle = self._idle.setdefault(key, [])
        if len(idle) >= self.max_idle:
            connection.close()
            return
        connection.idle_since = time.monotonic()
        idle.append(connection)

    async def _connect(self, route: Route) -> _Connection:
        loop = asyncio.get_running_loop()
        context = self._context() if route.tls else None
        try:
            _, connection = await loop.create_connection(
                lambda: _Connection(self.read_cap, self._open),
                route.host,
                route.port,
                ssl=context,
                server_hostname=route.host if context is not None else None,
            )
        except socket.gaierror as exc:
            raise SendError("dns", f"cannot resolve {route.host}: {exc}") from exc
        except (ssl.SSLError, ssl.CertificateError) as exc:
            raise SendError("tls", f"TLS with {route.host}: {tls_reason(exc)}") from exc
        except OSError as exc:
            cause = getattr(exc, "__cause__", None)
            if isinstance(cause, ssl.SSLError):
                raise SendError("tls", f"TLS with {route.host}: {tls_reason(cause)}") from exc
            raise SendError("connection_refused", f"cannot connect: {exc}") from exc
        return connection

    def _context(self) -> ssl.SSLContext:
        """The TLS context: verifying by default (made on first use: it reads the CA store)."""
        if self._ssl_context is None:
            setting = self._tls
            if isinstance(setting, ssl.SSLContext):
                self._ssl_context = setting
            elif setting:
                self._ssl_context = ssl.create_default_context()
            else:
                context = ssl.create_default_context()
                context.check_hostname = False
                context.verify_mode = ssl.CERT_NONE
                self._ssl_context = context
        return self._ssl_context


class _HeadTooLarge(Exception):
    """Raised inside a parser callback: the response head is over our limits."""


class _Malformed(Exception):
    """Raised inside a parser callback: a header value no receiver should send."""


class _Stray(Exception):
    """Raised inside a parser callback: an answer began that no request is waiting for."""


class _Connection(asyncio.BufferedProtocol):
    """One keep-alive connection: one request at a time, its answer parsed by llhttp.

    A buffered protocol: the loop reads into one buffer per connection (``recv_into``),
    where a plain protocol gets a fresh 256 KiB bytes object per read (~10 µs of a
    request's CPU on this machine).
    """

    def __init__(self, read_cap: int, registry: set[_Connection]) -> None:
        self.read_cap = read_cap
        self.registry = registry
        self.transport: asyncio.Transport | None = None
        self.usable = False  # open, and its last answer said keep-alive: may be pooled
        self.idle_since = 0.0
        self.deadline = 0.0  # loop time by which the exchange must be complete
        self._parser = httptools.HttpResponseParser(self)
        # what aiohttp's client forgives too: bare LF line ends, loose header syntax,
        # spaces after a chunk size (receivers in the wild send them; none is ambiguous)
        self._parser.set_dangerous_leniencies(
            lenient_headers=True,
            lenient_optional_cr_before_lf=True,
            lenient_spaces_after_chunk_size=True,
        )
        self._buffer = memoryview(bytearray(READ_BUFFER))
        self._waiter: asyncio.Future[None] | None = None
        self._answer = Answer()
        self._status = 0
        self._in_head = False  # the answer's head is still arriving
        self._head_bytes = 0
        self._reason_bytes = 0
        self._headers = 0
        self._until_close = True  # no Content-Length, not chunked: the body ends with the stream
        self._chunks: list[bytes] = []
        self._size = 0

    # --- one request at a time ----------------------------------------------------------

    def exchange(self, request: bytes, answer: Answer) -> asyncio.Future[None]:
        """Send ``request``; fill ``answer``; the future is done when it is complete (or
        has a :class:`SendError`)."""
        waiter = self._waiter = asyncio.get_running_loop().create_future()
        self._answer = answer
        self.usable = False  # until this answer is complete and says keep-alive
        self._status = 0
        self._in_head = True
        self._head_bytes = 0
        if self.transport is None or self.transport.is_closing():
            self._fail("connection_reset", "the receiver had closed the connection")
        else:
            self.transport.write(request)
        return waiter

    def time_out(self) -> None:
        """The exchange ran out of time: fail it and drop the connection."""
        if self._waiter is not None and not self._waiter.done():
            self._fail("timeout", "no complete answer in time")

    def close(self) -> None:
        """Drop the connection at once (an abort: nothing more is read or sent)."""
        self.usable = False
        self.registry.discard(self)
        if self.transport is not None and not self.transport.is_closing():
            self.transport.abort()

    def _finish(self, keep_alive: bool) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            self._answer.body = b"".join(self._chunks)
            waiter.set_result(None)
            transport = self.transport
            self.usable = keep_alive and transport is not None and not transport.is_closing()

    def _fail(self, kind: AttemptError, message: str) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            answered = self._answer.status is not None
            waiter.set_exception(SendError(kind, message, answered=answered))
        self.close()

    # --- asyncio.Protocol ---------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # a stream transport of whichever loop runs us: uvloop's is no asyncio.Transport
        # subclass, but has every method used here
        self.transport = cast(asyncio.Transport, transport)
        self.usable = True
        self.registry.add(self)

    def get_buffer(self, sizehint: int) -> memoryview:
        return self._buffer

    def buffer_updated(self, nbytes: int) -> None:
        if self._waiter is None or self._waiter.done():
            self.close()  # bytes nobody asked for: this connection cannot be trusted again
            return
        data = self._buffer[:nbytes]
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserCallbackError as exc:
            if isinstance(exc.__context__, _HeadTooLarge):
                self._fail("too_large", "answer head over 8190 bytes a line or 128 headers")
            elif isinstance(exc.__context__, _Malformed):
                self._fail("protocol", "a NUL byte in an answer header")
            else:
                self._fail("protocol", f"unreadable answer: {exc}")
            return
        except httptools.HttpParserUpgrade:
            self._fail("protocol", "the receiver switched protocols")
            return
        except httptools.HttpParserError as exc:
            self._fail("protocol", f"unreadable answer: {exc}")
            return
        if self._in_head:  # all of data was head, and it is not over: bound it
            self._head_bytes += len(data)
            if self._head_bytes > MAX_HEAD:
                self._fail("too_large", f"answer head over {MAX_HEAD} bytes")

    def eof_received(self) -> bool | None:
        return None  # close the transport; connection_lost settles a pending answer

    def connection_lost(self, exc: Exception | None) -> None:
        self.usable = False
        self.registry.discard(self)
        if self._waiter is None or self._waiter.done():
            return
        if self._answer.status is not None and not self._in_head and self._until_close:
            self._finish(keep_alive=False)  # its body ended with the stream, as it said
        elif isinstance(exc, ssl.SSLError):
            self._fail("tls", f"TLS failed: {exc}")
        elif self._answer.status is not None:
            self._fail("connection_reset", "the receiver hung up in the middle of its answer")
        else:
            self._fail("connection_reset", "the receiver hung up before answering")

    # --- llhttp callbacks ---------------------------------------------------------------

    def on_message_begin(self) -> None:
        if self._waiter is None or self._waiter.done():
            raise _Stray
        self._status = 0
        self._in_head = True
        self._reason_bytes = 0
        self._headers = 0
        self._until_close = True
        self._chunks = []
        self._size = 0

    def on_status(self, reason: bytes) -> None:  # maybe in pieces, as it arrives
        self._reason_bytes += len(reason)
        if self._reason_bytes > MAX_LINE:
            raise _HeadTooLarge

    def on_header(self, name: bytes, value: bytes) -> None:
        self._headers += 1
        if self._headers > MAX_HEADERS or len(name) + len(value) > MAX_LINE:
            raise _HeadTooLarge
        if b"\x00" in value:  # lenient parsing lets it through; aiohttp refuses it too
            raise _Malformed
        if len(name) < 14:  # not Content-Length (14 bytes) nor Transfer-Encoding (17)
            return
        lowered = name.strip().lower()
        if lowered == b"content-length" or (
            lowered == b"transfer-encoding" and b"chunked" in value.lower()
        ):
            self._until_close = False

    def on_headers_complete(self) -> None:
        self._status = self._parser.get_status_code()
        if not 100 <= self._status < 200:
            self._answer.status = self._status
        self._in_head = False
        self._head_bytes = 0
        if self._status in (204, 304):
            self._until_close = False

    def on_body(self, body: bytes) -> None:
        room = self.read_cap - self._size
        if room > 0:
            self._chunks.append(body[:room] if len(body) > room else body)
        self._size += len(body)
        if self._size > self.read_cap:  # read no more of it: keep what we have, hang up
            self._finish(keep_alive=False)
            self.close()

    def on_message_complete(self) -> None:
        if 100 <= self._status < 200:
            return  # "100 Continue" and the like: the real answer follows
        self._finish(keep_alive=self._parser.should_keep_alive())
