"""The scripted receiver tests deliver to (see the ``scripted_receiver`` fixture).

    async with ScriptedReceiver(statuses=(500, 200)) as receiver:
        ... deliver to receiver.url ...

A real aiohttp server on 127.0.0.1 (a free port). It answers from a status script (the last
status repeats), counted over the whole run or per ``task_id``, or from an
``answer(task_id, n)`` function (``None`` = hang until the receiver stops); it logs every
request's arrival, body and content type. It never uses the emulator's own verifier (tests
that judge signatures do that the ZEGO way themselves).
"""

from __future__ import annotations

import asyncio
import ssl
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from aiohttp import web

from emulator.servers.start import RunningServer, start_server
from emulator.wire import decode

Answer = Callable[[str, int], "int | None"]
CALLBACK_PATH = "/zego/callback"


@dataclass
class ScriptedReceiver:
    """Answers from a status script or an ``answer`` function; logs every request."""

    statuses: Sequence[int] = (200,)
    per_task: bool = False  # count requests per task_id (else over the whole run)
    answer: Answer | None = None  # (task_id, n-th request of that task) -> status; None hangs
    answer_after: float = 0.0  # real seconds before answering
    hang: bool = False
    tls: ssl.SSLContext | None = None  # serve https with this context
    text: str = ""  # response body ("" = "ok" for 2xx, "no" otherwise)
    arrivals: list[float] = field(default_factory=list)  # time.monotonic() per request
    bodies: list[bytes] = field(default_factory=list)
    content_types: list[str] = field(default_factory=list)
    task_ids: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    in_flight: int = 0
    most_in_flight: int = 0
    url: str = ""
    release: asyncio.Event = field(default_factory=asyncio.Event)
    server: RunningServer | None = None

    def count(self, task_id: str) -> int:
        """Requests that arrived for one task id."""
        return self.counts.get(task_id, 0)

    def bodies_of(self, task_id: str) -> list[bytes]:
        """The bodies that arrived for one task id, in order."""
        return [
            body for body, task in zip(self.bodies, self.task_ids, strict=True) if task == task_id
        ]

    async def handle(self, request: web.Request) -> web.Response:
        self.arrivals.append(time.monotonic())
        body = await request.read()
        content_type = request.headers.get("Content-Type", "")
        try:
            task_id = str(decode(body, content_type).get("task_id", ""))
        except Exception:  # a deliberately broken body still gets an answer
            task_id = ""
        self.bodies.append(body)
        self.content_types.append(content_type)
        self.task_ids.append(task_id)
        number = self.counts[task_id] = self.counts.get(task_id, 0) + 1
        index = (number if self.per_task else len(self.arrivals)) - 1
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            if self.hang:
                await self.release.wait()
            if self.answer_after:
                await asyncio.sleep(self.answer_after)
            if self.answer is not None:
                status = self.answer(task_id, number)
                if status is None:
                    await self.release.wait()
                    status = 503
            else:
                status = self.statuses[min(index, len(self.statuses) - 1)]
        finally:
            self.in_flight -= 1
        return web.Response(status=status, text=self.text or ("ok" if status < 300 else "no"))

    async def start(self, path: str = CALLBACK_PATH) -> ScriptedReceiver:
        app = web.Application()
        app.router.add_post(path, self.handle)
        self.server = await start_server(app, ssl_context=self.tls)
        self.url = f"{self.server.url}{path}"
        return self

    async def stop(self) -> None:
        self.release.set()
        if self.server is not None:
            await self.server.stop()
            self.server = None

    async def __aenter__(self) -> ScriptedReceiver:
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()


class ThreadedReceiver:
    """A :class:`ScriptedReceiver` served from its own thread and event loop, for code
    under test that runs its own loop (the command line, ``asyncio.run``)."""

    def __init__(self, receiver: ScriptedReceiver) -> None:
        self.receiver = receiver
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    @property
    def url(self) -> str:
        return self.receiver.url

    @property
    def requests(self) -> list[tuple[bytes, str]]:
        """(body, content type) of every request so far."""
        return list(zip(self.receiver.bodies, self.receiver.content_types, strict=True))

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self.receiver.start())
        self._ready.set()
        self._loop.run_forever()

    def __enter__(self) -> ThreadedReceiver:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the threaded receiver did not start")
        return self

    def __exit__(self, *exc: object) -> None:
        future = asyncio.run_coroutine_threadsafe(self.receiver.stop(), self._loop)
        future.result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()
