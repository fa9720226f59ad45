"""Starting and stopping the aiohttp servers we run (receiver, mock API) — in tests too.

    server = await start_server(app)          # 127.0.0.1, a free port
    ...  server.url  ...
    await server.stop()

Binds 127.0.0.1 unless told otherwise; port 0 means "any free port", read back after bind.
"""

from __future__ import annotations

import logging
import ssl
from dataclasses import dataclass
from types import TracebackType

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

DEFAULT_HOST = "127.0.0.1"


class _ClientMistakes(logging.Filter):
    """Drops aiohttp's traceback for a malformed request: it answered 400, nothing broke."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not isinstance(exc, HttpProcessingError)


SERVER_LOG = logging.getLogger("emulator.servers.start")
SERVER_LOG.addFilter(_ClientMistakes())


@dataclass
class RunningServer:
    """A started aiohttp application: where it listens and how to stop it."""

    runner: web.AppRunner
    host: str
    port: int
    scheme: str = "http"

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}"

    async def stop(self) -> None:
        await self.runner.cleanup()

    async def __aenter__(self) -> RunningServer:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()


async def start_server(
    app: web.Application,
    host: str = DEFAULT_HOST,
    port: int = 0,
    *,
    shutdown_timeout: float = 0.5,
    ssl_context: ssl.SSLContext | None = None,
) -> RunningServer:
    """Start ``app`` on ``host:port`` (``port=0``: a free one) and return where it listens."""
    runner = web.AppRunner(
        app, access_log=None, shutdown_timeout=shutdown_timeout, logger=SERVER_LOG
    )
    await runner.setup()
    site = web.TCPSite(runner, host, port, backlog=2048, ssl_context=ssl_context)
    try:
        await site.start()
    except BaseException:
        await runner.cleanup()
        raise
    bound_port = port
    for address in runner.addresses:
        if isinstance(address, tuple) and len(address) >= 2:
            bound_port = int(address[1])
            break
    return RunningServer(runner, host, bound_port, "https" if ssl_context else "http")
