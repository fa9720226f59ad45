"""A raw TCP server for tests whose receiver must send exact bytes (or none at all).

    async with RawServer(handle) as server:   # handle(reader, writer) per connection
        ... post to server.url (or server.url_at("/cb?x=1")) ...
        server.connections, server.requests

Handlers read requests with :meth:`RawServer.read_request` (kept in ``requests``) and
write whatever bytes the test needs; aiohttp cannot express a broken answer.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

RawHandler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


async def read_request(reader: asyncio.StreamReader) -> bytes:
    """The head and body of one HTTP/1.1 request (Content-Length bodies only)."""
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    return head + await reader.readexactly(length)


class RawServer:
    """A TCP server on 127.0.0.1 that answers each connection with ``handle``."""

    def __init__(self, handle: RawHandler) -> None:
        self.handle = handle
        self.connections = 0
        self.requests: list[bytes] = []  # every request read_request read, whole
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.sockets[0].getsockname()[1])

    @property
    def url(self) -> str:
        return self.url_at("/zego/callback")

    def url_at(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    async def read_request(self, reader: asyncio.StreamReader) -> bytes:
        """:func:`read_request`, keeping the request in ``requests``."""
        request = await read_request(reader)
        self.requests.append(request)
        return request

    async def __aenter__(self) -> RawServer:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        assert self._server is not None
        self._server.close()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            await self.handle(reader, writer)
        except (ConnectionError, OSError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()
