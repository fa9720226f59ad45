"""One request of one callback over gevent: geventhttpclient's keep-alive pool, our errors.

    sender = Sender("http://10.0.0.5:8080/zego/callback", timeout=5, concurrency=100)
    answer = sender.post(callback)      # never raises for what the receiver does
    answer.status, answer.error, answer.latency_ms, answer.excerpt

The gevent side's counterpart of the asyncio transport: the same User-Agent, no redirects
followed, at most ``concurrency`` requests in flight (waiting for a free slot is not part
of a request's time), ``timeout`` real seconds for the whole exchange, a stale keep-alive
connection never reused (geventhttpclient checks each one before reuse), and failures
translated at this one boundary into the record's ``error`` values.
"""

from __future__ import annotations

import socket
import ssl
import time
from dataclasses import dataclass

import gevent
import gevent.lock
from geventhttpclient import HTTPClient
from geventhttpclient._parser import HTTPParseError
from geventhttpclient.response import HTTPConnectionClosed
from geventhttpclient.url import URL

from emulator._version import __version__
from emulator.callback.model import Callback
from emulator.delivery.results import AttemptError

RESPONSE_READ_CAP = 64 * 1024  # bytes of a response body read at most
RESPONSE_EXCERPT = 1024  # bytes of it kept in the record
USER_AGENT = f"zego-callback-emulator/{__version__}"


@dataclass
class Answer:
    """What one request got: a status (None when none came), an error, the time it took."""

    status: int | None
    error: AttemptError | None
    latency_ms: float
    excerpt: str = ""
    length: int = 0  # bytes of the answer's body read (at most RESPONSE_READ_CAP)

    @property
    def ok(self) -> bool:
        """Accepted: a 2xx and nothing went wrong reading it."""
        return self.error is None and self.status is not None and 200 <= self.status <= 299

    @property
    def reason(self) -> str:
        """``HTTP 500``, ``timeout``, ``HTTP 200 then connection_reset``."""
        if self.status is None:
            return self.error or "no answer"
        return f"HTTP {self.status} then {self.error}" if self.error else f"HTTP {self.status}"


def classify_error(exc: BaseException) -> AttemptError:
    """The record's ``error`` value for what geventhttpclient or the socket raised."""
    if isinstance(exc, gevent.Timeout | TimeoutError):  # socket.timeout is TimeoutError
        return "timeout"
    if isinstance(exc, socket.gaierror):
        return "dns"
    if isinstance(exc, ssl.SSLError | ssl.CertificateError):
        return "tls"
    if isinstance(exc, ConnectionRefusedError):
        return "connection_refused"
    if isinstance(exc, HTTPConnectionClosed | ConnectionError):  # reset, aborted, broken pipe
        return "connection_reset"
    if isinstance(exc, HTTPParseError):
        return "protocol"
    if isinstance(exc, RuntimeError) and "resolve" in str(exc):  # "Cannot resolve host:port"
        return "dns"
    if isinstance(exc, OSError):
        return "connection_refused" if exc.errno in (101, 113) else "connection_reset"
    return "protocol"


class Sender:
    """POSTs callbacks to one target over a pool of keep-alive connections."""

    def __init__(self, target: str, *, timeout: float, concurrency: int) -> None:
        url = URL(target)
        self.target = target
        self.timeout = timeout
        self.request_uri = url.request_uri or "/"
        self.slots = gevent.lock.BoundedSemaphore(concurrency)  # requests in flight
        self._client = HTTPClient.from_url(
            url,
            concurrency=concurrency,
            connection_timeout=timeout,
            network_timeout=timeout,
            headers={"User-Agent": USER_AGENT},
        )

    def post(self, callback: Callback) -> Answer:
        """One request once a slot is free (the wait is not part of it); never raises."""
        with self.slots:
            return self.send(callback)

    def send(self, callback: Callback) -> Answer:
        """One request within ``timeout``, for a caller holding one of :attr:`slots`."""
        content_type, body = callback.body()
        headers = {"Content-Type": content_type}
        status: int | None = None
        excerpt = b""
        started = time.perf_counter()
        try:
            with gevent.Timeout(self.timeout):
                response = self._client.request("POST", self.request_uri, body, headers)
                try:
                    status = response.status_code
                    excerpt = response.read(RESPONSE_READ_CAP)
                finally:
                    response.release()
            error: AttemptError | None = None
        except (gevent.Timeout, Exception) as exc:  # whatever the receiver does
            error = classify_error(exc)
        latency_ms = (time.perf_counter() - started) * 1000
        text = excerpt[:RESPONSE_EXCERPT].decode("utf-8", errors="replace")
        return Answer(status, error, latency_ms, text, len(excerpt))

    def close(self) -> None:
        self._client.close()
