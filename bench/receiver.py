"""The benchmarks' receiver: a minimal aiohttp app in its own process, on 127.0.0.1.

It reads each request body and answers at once with a fixed status (200, or 500 for the
always-failing benchmarks). The parent starts it with :class:`ReceiverProcess`:

    with ReceiverProcess(status=500) as receiver:
        ... post to receiver.url ...

``fast=True`` serves with a bare asyncio protocol and llhttp (``httptools``) instead of
aiohttp: ~3x less CPU per request, so that a benchmark of the *sender* times the sender
(the two processes share the machine's cores).

Run by hand: ``python -m bench.receiver --status 200 [--fast]`` prints ``READY <url>`` and
serves until its standard input closes.
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
from types import TracebackType

from bench import ROOT, child_env

CALLBACK_PATH = "/zego/callback"


class ReceiverProcess:
    """A receiver subprocess answering ``status`` to every POST; ``url`` is where it listens."""

    def __init__(self, status: int = 200, fast: bool = False) -> None:
        self.status = status
        self.fast = fast
        self.url = ""
        self._process: subprocess.Popen[str] | None = None

    def __enter__(self) -> ReceiverProcess:
        self._process = subprocess.Popen(
            [sys.executable, "-m", "bench.receiver", "--status", str(self.status)]
            + (["--fast"] if self.fast else []),
            cwd=ROOT,
            env=child_env(),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self._process.stdout is not None
        line = self._process.stdout.readline().strip()
        if not line.startswith("READY "):
            self.close()
            raise RuntimeError(f"the benchmark receiver did not start (said {line!r})")
        self.url = line.split(" ", 1)[1] + CALLBACK_PATH
        return self

    def close(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        if process.stdin is not None:
            process.stdin.close()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


async def serve(status: int) -> None:
    """Serve until standard input closes (the parent went away or is done)."""
    from aiohttp import web

    from emulator.servers.start import start_server

    answer = b"ok" if 200 <= status <= 299 else b"fail"

    async def callback(request: web.Request) -> web.Response:
        await request.read()
        return web.Response(status=status, body=answer)

    app = web.Application()
    app.router.add_post("/{path:.*}", callback)
    async with await start_server(app) as server:
        print(f"READY {server.url}", flush=True)
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, sys.stdin.read)


class _FastAnswerer(asyncio.Protocol):
    """One connection of the fast receiver: parse requests with llhttp, answer each at once."""

    def __init__(self, answer: bytes) -> None:
        import httptools

        self.answer = answer
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpRequestParser(self)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except Exception:
            if self.transport is not None:
                self.transport.close()

    def on_message_complete(self) -> None:
        if self.transport is not None:
            self.transport.write(self.answer)


async def serve_fast(status: int) -> None:
    """The fast receiver: the same answers, no web framework (see the module docstring)."""
    from http import HTTPStatus

    body = b"ok" if 200 <= status <= 299 else b"fail"
    reason = HTTPStatus(status).phrase.encode("ascii")
    answer = b"HTTP/1.1 %d %b\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n%b" % (
        status,
        reason,
        len(body),
        body,
    )
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: _FastAnswerer(answer), "127.0.0.1", 0, backlog=1024)
    async with server:
        port = server.sockets[0].getsockname()[1]
        print(f"READY http://127.0.0.1:{port}", flush=True)
        await loop.run_in_executor(None, sys.stdin.read)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.receiver")
    parser.add_argument("--status", type=int, default=200, help="HTTP status of every answer")
    parser.add_argument("--fast", action="store_true", help="bare asyncio + llhttp, no aiohttp")
    args = parser.parse_args()
    asyncio.run(serve_fast(args.status) if args.fast else serve(args.status))


if __name__ == "__main__":
    main()
