"""A ZEGO callback receiver written from ZEGO's documentation only — with switchable bugs.

It knows nothing of ``emulator``. What the docs say a receiver does: read ``signature``,
``timestamp`` and ``nonce`` from the POSTed body (form, or JSON that "must be
UrlDecoded"), sort ``[callback_secret, timestamp, nonce]`` as strings, join, SHA-1,
compare; reject stale timestamps; answer 2xx. The careful extras of an at-least-once
consumer: a repeat of an accepted body is acknowledged again, a different body under a
seen (timestamp, nonce) is refused. Each ``Bugs`` flag turns one real mistake on.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import hmac
import json
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote_plus

from aiohttp import web

MAX_AGE = 300
_NUMERIC = re.compile(r"^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$")


@dataclass(frozen=True)
class Bugs:
    """Mistakes seen in real receivers (all off: a correct receiver)."""

    verify_nothing: bool = False  # answers 200 to anything
    numeric_sort: bool = False  # PHP sort() without SORT_STRING
    crash_on_empty_extra_params: bool = False  # json_decode/json.loads('') -> 500
    refuse_repeats: bool = False  # a seen nonce is always a replay (409)


def php_sort_regular(parts: list[str]) -> list[str]:
    """PHP 8's sort($parts) (SORT_REGULAR): two numeric strings compare as numbers."""

    def compare(left: str, right: str) -> int:
        if _NUMERIC.match(left) and _NUMERIC.match(right):  # PHP compares these as numbers
            x, y = float(left), float(right)
            return (x > y) - (x < y)
        return (left > right) - (left < right)

    return sorted(parts, key=functools.cmp_to_key(compare))


@dataclass
class DocReceiver:
    """POST /zego/callback: the documented check, then the business logic."""

    secret: str
    bugs: Bugs = Bugs()
    processed: list[dict[str, str]] = field(default_factory=list)
    seen: dict[tuple[str, str], str] = field(default_factory=dict)

    @staticmethod
    def common(fields: dict[str, str], name: str) -> str:
        """A signature field: lowercase, or PascalCase as transcode_start/stop spell them."""
        return fields.get(name, fields.get(name.capitalize(), ""))

    def signature_ok(self, fields: dict[str, str]) -> bool:
        signature = self.common(fields, "signature")
        parts = [self.secret, self.common(fields, "timestamp"), self.common(fields, "nonce")]
        ordered = php_sort_regular(parts) if self.bugs.numeric_sort else sorted(parts)
        expected = hashlib.sha1("".join(ordered).encode("utf-8")).hexdigest()
        return bool(signature) and hmac.compare_digest(expected, signature)

    async def fields_of(self, request: web.Request) -> dict[str, str]:
        raw = (await request.read()).decode("utf-8")
        if request.content_type == "application/x-www-form-urlencoded":
            post = await request.post()
            return {key: str(value) for key, value in post.items()}
        data: dict[str, Any] = json.loads(unquote_plus(raw) if raw.startswith("%") else raw)
        return {
            key: value if isinstance(value, str) else json.dumps(value)
            for key, value in data.items()
        }

    async def handle(self, request: web.Request) -> web.Response:
        fields = await self.fields_of(request)
        if not self.bugs.verify_nothing:
            if not self.signature_ok(fields):
                return web.Response(status=401, text="bad signature")
            timestamp = self.common(fields, "timestamp")
            try:
                age = time.time() - int(timestamp)
            except ValueError:
                return web.Response(status=401, text="bad timestamp")
            if abs(age) > MAX_AGE:
                return web.Response(status=401, text="stale")
            key = (timestamp, self.common(fields, "nonce"))
            body = json.dumps(fields, sort_keys=True)
            if key in self.seen:
                if self.bugs.refuse_repeats or self.seen[key] != body:
                    return web.Response(status=409, text="replay")
                return web.Response(text="duplicate")
            self.seen[key] = body
        if fields.get("event") == "procedure":
            if self.bugs.crash_on_empty_extra_params:
                json.loads(fields.get("extra_params", ""))  # raises on FAILED: aiohttp 500s
            elif fields.get("extra_params"):
                json.loads(fields["extra_params"])
            fields.get("file_id") or fields.get("fileId")
        self.processed.append(fields)
        return web.Response(text="success")

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/zego/callback", self.handle)
        return app


class ServedInThread:
    """A receiver's app served from its own thread and loop, for tests that call ``main()``
    (which runs its own event loop)."""

    def __init__(self, app: web.Application) -> None:
        self.app = app
        self.url = ""
        self._loop = asyncio.new_event_loop()
        self._runner: web.AppRunner | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._runner = web.AppRunner(self.app, access_log=None)
        self._loop.run_until_complete(self._runner.setup())
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        self._loop.run_until_complete(site.start())
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}/zego/callback"
        self._ready.set()
        self._loop.run_forever()

    def __enter__(self) -> ServedInThread:
        self._thread.start()
        assert self._ready.wait(10), "the receiver did not start"
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._runner is not None
        asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()
