"""pytest fixtures for testing your own ZEGO callback receiver (registered via ``pytest11``).

    async def test_my_receiver_retries(zego):
        outcome = await zego.deliver(zego.procedure(status="SUCCESS"), to=my_url)
        assert outcome.delivered and outcome.attempts == 1

``zego`` (one per test) builds seeded, correctly signed callbacks and delivers them with
ZEGO's retry schedule (2, 4, 8, 16, 32 s) on *virtual time*: a whole 62 s schedule runs in
milliseconds; every request still goes over a real socket. The target (``to=``) is a URL,
a :class:`~emulator.servers.receiver.Receiver`, or an app living in the test process — an
``aiohttp.web.Application``, an ASGI app (FastAPI, Starlette, ...) or a WSGI app (Flask,
Django, ...) — which is served on 127.0.0.1 (a free port) for the test.

Settings are fixtures a test module or ``conftest.py`` can override:
``zego_secret`` (the callback secret), ``zego_seed`` (fake data), ``zego_speed`` (None =
virtual time; a number = real time divided by it), ``zego_timeout`` (per request, real s).

Needs pytest-asyncio (auto mode, or ``@pytest.mark.asyncio`` on each test in strict mode).
This module is imported by every pytest run where the package is installed, so it imports
nothing heavy until a fixture is used.
"""

from __future__ import annotations

import asyncio
import inspect
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from io import BytesIO
from typing import TYPE_CHECKING, Any, Literal, TypeVar, cast

import pytest

if TYPE_CHECKING:
    from aiohttp import web

    from emulator.callback.factory import CallbackFactory
    from emulator.callback.model import Callback, Tamper
    from emulator.check import CheckResult
    from emulator.clock import Clock
    from emulator.delivery.dispatch import Delivery
    from emulator.delivery.results import Outcome
    from emulator.events.base import CallbackModel
    from emulator.retry import RetryPolicy
    from emulator.servers.receiver import Receiver
    from emulator.servers.start import RunningServer
    from emulator.sessions import Order, SessionEntry
    from emulator.testing.sessions import ZegoSession
    from emulator.wire import Encoding

try:
    import pytest_asyncio

    _fixture_decorator: Any = pytest_asyncio.fixture
except ImportError:  # pragma: no cover - without pytest-asyncio async tests do not run anyway
    _fixture_decorator = pytest.fixture

_F = TypeVar("_F", bound=Callable[..., Any])


def _async_fixture(function: _F) -> _F:
    """An async fixture that works in pytest-asyncio's strict and auto modes alike."""
    return cast(_F, _fixture_decorator(function))


AppKind = Literal["aiohttp", "asgi", "wsgi"]
DEFAULT_TEST_SECRET = "zego-emulator-dev-callback-secret"  # = config.DEV_CALLBACK_SECRET
DEFAULT_SEED = 0
DEFAULT_PATH = "/zego/callback"  # = receiver.DEFAULT_PATH: where an in-process app is POSTed
HOP_BY_HOP = frozenset({"connection", "content-length", "keep-alive", "transfer-encoding"})


class Zego:
    """What the ``zego`` fixture gives a test: build callbacks, deliver them, serve receivers.

    Every delivery's :class:`~emulator.delivery.results.Outcome` is also kept in :attr:`outcomes`.
    Servers it started stop when the test ends (:meth:`aclose`).
    """

    def __init__(
        self,
        secret: str = DEFAULT_TEST_SECRET,
        seed: int | None = DEFAULT_SEED,
        speed: float | None = None,
        timeout: float = 5.0,
        app_id: str | None = None,
    ) -> None:
        from emulator.callback.factory import CallbackFactory
        from emulator.clock import ScaledClock, VirtualClock

        self.secret = secret
        self.timeout = timeout
        self.factory: CallbackFactory = CallbackFactory(seed=seed, app_id=app_id)
        self.clock: Clock = VirtualClock() if speed is None else ScaledClock(speed)
        self.outcomes: list[Outcome] = []
        self._servers: list[RunningServer] = []
        self._served: dict[int, tuple[object, str]] = {}
        self._receivers: list[Receiver] = []

    # --- callbacks ------------------------------------------------------------------

    def procedure(self, **params: Any) -> CallbackModel:
        """A ``procedure`` callback (transcoding finished); keys as in a scenario entry."""
        return self.factory.procedure(**params)

    def compose(self, **params: Any) -> CallbackModel:
        """A ``compose`` callback (media merge finished)."""
        return self.factory.compose(**params)

    def snapshot(self, **params: Any) -> CallbackModel:
        """A ``snapshot`` callback (screenshots finished)."""
        return self.factory.snapshot(**params)

    def event(self, name: str, **params: Any) -> CallbackModel:
        """Any catalogue event by name (``zim.before_send_msg``, ``room_create``...); keys
        as in a scenario entry."""
        return self.factory.build(name, params)

    def session(
        self,
        entries: Iterable[SessionEntry | Mapping[str, Any]] | None = None,
        *,
        order: Order = "as_listed",
        encoding: Encoding = "json",
        **keys: Any,
    ) -> ZegoSession:
        """Room/user/stream lifecycles (a ``sessions:`` entry's keys, or ``entries``) signed
        with this fixture's secret; ``session.truth`` is the state they describe, and
        ``await session.deliver(to=...)`` sends them in ``order``."""
        from emulator.testing.sessions import ZegoSession

        return ZegoSession(self, entries if entries is not None else [keys], order, encoding)

    def callback(
        self,
        model: CallbackModel | None = None,
        *,
        encoding: Encoding = "json",
        tamper: Tamper = "none",
        secret: str | None = None,
        rename: Mapping[str, str] | None = None,
        extra_fields: Mapping[str, str] | None = None,
    ) -> Callback:
        """``model`` (default: a new procedure callback) signed and shaped for the wire."""
        return self.factory.callback(
            model if model is not None else self.procedure(),
            self.secret if secret is None else secret,
            encoding=encoding,
            tamper=tamper,
            rename=rename,
            extra_fields=extra_fields,
        )

    # --- delivery ---------------------------------------------------------------------

    async def deliver(
        self,
        callback: Callback | CallbackModel | None = None,
        *,
        to: object,
        encoding: Encoding | None = None,
        tamper: Tamper | None = None,
        secret: str | None = None,
        path: str = DEFAULT_PATH,
        delay: float = 0.0,
        intervals: Iterable[float] | None = None,
        timeout: float | None = None,
        profile: str | None = None,
    ) -> Outcome:
        """Deliver one callback to ``to`` with ZEGO's retry schedule; every attempt is in
        ``outcome.history``.

        ``callback`` is a model from :meth:`procedure` & co. (signed here with ``secret``,
        default the ``zego_secret`` fixture), a ready :class:`~emulator.callback.model.Callback`,
        or None for a fresh procedure callback. ``to`` is a URL, a Receiver, or an
        aiohttp/ASGI/WSGI app (POSTed at ``path``). ``profile`` names a retry profile
        (``rtc`` by default, ``legacy-2``, ``cloud-recording``, ``zim-before-send``);
        ``intervals``/``timeout`` override its retry gaps (emulated s) and the per-request
        timeout (real s).
        """
        outcomes = await self.deliver_all(
            [self._as_callback(callback, encoding, tamper, secret)],
            to=to,
            path=path,
            delay=delay,
            intervals=intervals,
            timeout=timeout,
            profile=profile,
        )
        return outcomes[0]

    async def deliver_all(
        self,
        callbacks: Iterable[Callback | CallbackModel],
        *,
        to: object,
        path: str = DEFAULT_PATH,
        delay: float = 0.0,
        intervals: Iterable[float] | None = None,
        timeout: float | None = None,
        profile: str | None = None,
    ) -> list[Outcome]:
        """Deliver several callbacks concurrently (each on its own schedule), outcomes in order."""
        from emulator.delivery.dispatch import Delivery
        from emulator.retry import profile_policy

        target = await self.target_url(to, path)
        policy = profile_policy(
            profile or "rtc",
            intervals=None if intervals is None else tuple(intervals),
            timeout=timeout if timeout is not None else (None if profile else self.timeout),
        )
        from emulator.events import answer_reader

        signed = [self._as_callback(item, None, None, None) for item in callbacks]
        deliveries = [
            Delivery(callback, target, delay, read_answer=answer_reader(callback.event))
            for callback in signed
        ]
        return await self.deliver_planned(deliveries, policy)

    async def deliver_planned(
        self, deliveries: Sequence[Delivery], policy: RetryPolicy
    ) -> list[Outcome]:
        """Deliver ready :class:`~emulator.delivery.dispatch.Delivery` objects with
        ``policy`` on a record-less run core (what :meth:`deliver_all` and sessions use)."""
        from emulator.run.core import RunCore
        from emulator.settings import Layer, RunOptions, Secret, resolve

        target = deliveries[0].target if deliveries else None
        options = RunOptions(
            target=target,
            secret=Secret(self.secret, "zego_secret fixture"),
            app_id=self.factory.app_id,
            encoding="json",
            clock=self.clock,
        )
        layer = Layer(source="pytest", policy=policy)
        settings = resolve(options, layer=layer, name="pytest", need_target=False, quiet=True)
        outcomes: list[Outcome] = []
        # the run core without a record file; the process's GC is left alone
        async with RunCore(settings, planned=len(deliveries), record=False) as core:

            async def send() -> None:
                outcomes.extend(await core.dispatcher.deliver_all(deliveries))

            await core.run(send())
        self.outcomes.extend(outcomes)
        return outcomes

    def _as_callback(
        self,
        item: Callback | CallbackModel | None,
        encoding: Encoding | None,
        tamper: Tamper | None,
        secret: str | None,
    ) -> Callback:
        from dataclasses import replace

        from emulator.callback.model import Callback
        from emulator.callback.tamper import apply_tamper

        if not isinstance(item, Callback):
            return self.callback(
                item, encoding=encoding or "json", tamper=tamper or "none", secret=secret
            )
        if tamper not in (None, "none"):
            fields = apply_tamper(item.fields, tamper, self.secret if secret is None else secret)
            item = replace(item, fields=fields, tamper=tamper, _body=None)
        if encoding is not None and encoding != item.encoding:
            item = replace(item, encoding=encoding, _body=None)
        return item

    # --- conformance ------------------------------------------------------------------

    async def check(
        self,
        *,
        to: object,
        path: str = DEFAULT_PATH,
        encodings: Iterable[Encoding] = ("json",),
        cases: Iterable[str] = (),
        skip: Iterable[str] = (),
        secret: str | None = None,
        server_secret: str | None = None,
        timeout: float | None = None,
    ) -> CheckResult:
        """Run the conformance suite (``zego-emulator check``) against ``to``.

            result = await zego.check(to=app)
            assert result.passed, result.describe_failures()

        ``to`` is a URL, a Receiver or an app (served as for :meth:`deliver`);
        ``encodings`` those your receiver is configured for; ``cases``/``skip`` select by
        case id (an unknown id raises UsageError). Signed with ``secret`` (default the
        ``zego_secret`` fixture); ``server_secret`` for the case signature.server-secret.
        """
        from emulator.check import CheckOptions, run_check

        target = await self.target_url(to, path)
        return await run_check(
            CheckOptions(
                target=target,
                callback_secret=self.secret if secret is None else secret,
                server_secret=server_secret,
                encodings=tuple(encodings),
                only=tuple(cases),
                skip=tuple(skip),
                timeout=self.timeout if timeout is None else timeout,
                seed=self.factory.fake.seed,
                app_id=self.factory.app_id,
            )
        )

    # --- servers ----------------------------------------------------------------------

    async def receiver(self, *responses: int, **options: Any) -> Receiver:
        """Start an emulator :class:`~emulator.servers.receiver.Receiver` (stopped after the test).

        ``await zego.receiver(500, 500, 200)`` answers 500, 500, then 200; other options as
        the Receiver takes them (``delay``, ``hang``, ``reset``, ``max_age``, ...). It
        checks signatures with this fixture's secret unless given ``callback_secret``.
        """
        from emulator.servers.receiver import Receiver

        options.setdefault("callback_secret", self.secret)
        if responses:
            options["responses"] = responses
        receiver = Receiver(**options)
        await receiver.start()
        self._receivers.append(receiver)
        return receiver

    async def serve(self, app: object, kind: AppKind | None = None) -> str:
        """Serve an aiohttp, ASGI or WSGI app on 127.0.0.1 (a free port); its base URL.

        The same app object is served once per test. ``kind`` overrides the guess (an
        ``async def __call__`` is ASGI, any other callable WSGI).
        """
        from emulator.servers.start import start_server

        known = self._served.get(id(app))
        if known is not None and known[0] is app:
            return known[1]
        server = await start_server(as_aiohttp_app(app, kind))
        self._servers.append(server)
        self._served[id(app)] = (app, server.url)
        return server.url

    async def target_url(self, to: object, path: str = DEFAULT_PATH) -> str:
        """The URL a delivery to ``to`` goes to (serving ``to`` first when it is an app)."""
        from emulator.servers.receiver import Receiver

        if isinstance(to, str):
            return to
        if isinstance(to, Receiver):
            if to.server is None:
                await to.start()
                self._receivers.append(to)
            return to.url
        base = await self.serve(to)
        return base + (path if path.startswith("/") else f"/{path}")

    async def aclose(self) -> None:
        """Stop every server and receiver this fixture started."""
        receivers, self._receivers = self._receivers, []
        servers, self._servers = self._servers, []
        self._served.clear()
        for receiver in receivers:
            await receiver.stop()
        for server in servers:
            await server.stop()


# --- serving apps that live in the test process ----------------------------------------


def app_kind(app: object) -> AppKind:
    """``aiohttp``, ``asgi`` or ``wsgi``: what kind of app ``app`` is (best guess)."""
    from aiohttp import web

    if isinstance(app, web.Application):
        return "aiohttp"
    if inspect.iscoroutinefunction(app) or inspect.iscoroutinefunction(type(app).__call__):
        return "asgi"
    if callable(app):
        return "wsgi"
    raise TypeError(
        f"cannot deliver to {type(app).__name__}: expected a URL, a Receiver, an "
        "aiohttp.web.Application, an ASGI app or a WSGI app"
    )


def as_aiohttp_app(app: object, kind: AppKind | None = None) -> web.Application:
    """An aiohttp application serving ``app`` (itself when it already is one)."""
    from aiohttp import web

    kind = kind or app_kind(app)
    if kind == "aiohttp":
        if not isinstance(app, web.Application):
            raise TypeError(f"kind='aiohttp' needs an aiohttp.web.Application, got {app!r}")
        return app
    handler = asgi_handler(app) if kind == "asgi" else wsgi_handler(app)
    wrapper = web.Application(client_max_size=1024 * 1024 * 16)
    wrapper.router.add_route("*", "/{tail:.*}", handler)
    return wrapper


Handler = Callable[["web.Request"], Awaitable["web.StreamResponse"]]


def wsgi_handler(wsgi_app: Any) -> Handler:
    """An aiohttp handler that runs a WSGI app in a worker thread, one request at a time."""
    from aiohttp import web

    async def handle(request: web.Request) -> web.StreamResponse:
        body = await request.read()
        environ = _wsgi_environ(request, body)
        status, headers, content = await asyncio.to_thread(_call_wsgi, wsgi_app, environ)
        return web.Response(status=status, headers=_response_headers(headers), body=content)

    return handle


def _wsgi_environ(request: web.Request, body: bytes) -> dict[str, Any]:
    host, port = _server_address(request)
    environ: dict[str, Any] = {
        "REQUEST_METHOD": request.method,
        "SCRIPT_NAME": "",
        "PATH_INFO": request.path,
        "QUERY_STRING": request.query_string,
        "SERVER_NAME": host,
        "SERVER_PORT": str(port),
        "SERVER_PROTOCOL": f"HTTP/{request.version.major}.{request.version.minor}",
        "REMOTE_ADDR": request.remote or "",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": request.scheme,
        "wsgi.input": BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    for name, value in request.headers.items():
        key = name.upper().replace("-", "_")
        if key == "CONTENT_TYPE":
            environ["CONTENT_TYPE"] = value
        elif key == "CONTENT_LENGTH":
            environ["CONTENT_LENGTH"] = value
        else:
            key = f"HTTP_{key}"
            environ[key] = f"{environ[key]},{value}" if key in environ else value
    environ.setdefault("CONTENT_LENGTH", str(len(body)))
    return environ


def _call_wsgi(wsgi_app: Any, environ: dict[str, Any]) -> tuple[int, list[tuple[str, str]], bytes]:
    """Run one WSGI request to completion: ``(status, headers, body)``."""
    started: list[tuple[str, list[tuple[str, str]]]] = []
    chunks: list[bytes] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        if exc_info is not None and started:
            raise exc_info[1].with_traceback(exc_info[2])
        started[:] = [(status, headers)]
        return chunks.append

    result = wsgi_app(environ, start_response)
    try:
        for chunk in result:
            chunks.append(chunk)
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()
    if not started:
        raise RuntimeError("the WSGI app returned without calling start_response")
    status_line, headers = started[0]
    return int(status_line.split(" ", 1)[0]), list(headers), b"".join(chunks)


def asgi_handler(asgi_app: Any) -> Handler:
    """An aiohttp handler that runs an ASGI app's ``http`` request (no lifespan events)."""
    from aiohttp import web

    async def handle(request: web.Request) -> web.StreamResponse:
        body = await request.read()
        host, port = _server_address(request)
        scope: dict[str, Any] = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": f"{request.version.major}.{request.version.minor}",
            "method": request.method,
            "scheme": request.scheme,
            "path": request.path,
            "raw_path": request.raw_path.split("?", 1)[0].encode("latin-1"),
            "query_string": request.query_string.encode("latin-1"),
            "root_path": "",
            "headers": [
                (name.lower().encode("latin-1"), value.encode("latin-1"))
                for name, value in request.headers.items()
            ],
            "client": (request.remote or "", 0),
            "server": (host, port),
        }
        request_sent = False
        finished = asyncio.Event()
        status = 500
        headers: list[tuple[str, str]] = []
        chunks: list[bytes] = []

        async def receive() -> dict[str, Any]:
            nonlocal request_sent
            if not request_sent:
                request_sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            await finished.wait()
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                headers[:] = [
                    (bytes(name).decode("latin-1"), bytes(value).decode("latin-1"))
                    for name, value in message.get("headers", [])
                ]
            elif message["type"] == "http.response.body":
                chunks.append(bytes(message.get("body", b"")))
                if not message.get("more_body", False):
                    finished.set()

        try:
            await asgi_app(scope, receive, send)
        finally:
            finished.set()
        return web.Response(
            status=status, headers=_response_headers(headers), body=b"".join(chunks)
        )

    return handle


def _server_address(request: web.Request) -> tuple[str, int]:
    sockname = request.transport.get_extra_info("sockname") if request.transport else None
    if isinstance(sockname, tuple) and len(sockname) >= 2:
        return str(sockname[0]), int(sockname[1])
    return "127.0.0.1", 0


def _response_headers(headers: Iterable[tuple[str, str]]) -> Any:
    from multidict import CIMultiDict

    return CIMultiDict((k, v) for k, v in headers if k.lower() not in HOP_BY_HOP)


# --- fixtures -------------------------------------------------------------------------


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    """Our fixtures are async and function-scoped: in a project that has not chosen
    pytest-asyncio's ``asyncio_default_fixture_loop_scope``, choose ``function`` (the
    default pytest-asyncio announces) so that using the plugin brings no deprecation
    warning. A project's own setting always wins."""
    name = "asyncio_default_fixture_loop_scope"
    try:
        chosen = config.getini(name)
    except ValueError:  # pytest-asyncio is not installed: nothing to choose
        return
    cache = getattr(config, "_inicache", None)  # where getini keeps values (pytest 8, 9)
    if not chosen and isinstance(cache, dict):
        cache[name] = "function"


@pytest.fixture
def zego_secret() -> str:
    """The callback secret ``zego`` signs with (override it with your receiver's secret)."""
    return DEFAULT_TEST_SECRET


@pytest.fixture
def zego_seed() -> int | None:
    """Seed of the fake data (same seed, same callbacks); None for a random seed."""
    return DEFAULT_SEED


@pytest.fixture
def zego_speed() -> float | None:
    """None: virtual time (the 62 s schedule in milliseconds); a number: real time / it."""
    return None


@pytest.fixture
def zego_timeout() -> float:
    """Per-request timeout in real seconds (ZEGO's is undocumented; 5 s by default)."""
    return 5.0


@_async_fixture
async def zego(
    zego_secret: str, zego_seed: int | None, zego_speed: float | None, zego_timeout: float
) -> AsyncIterator[Zego]:
    """Build, sign and deliver ZEGO callbacks to your receiver (see :class:`Zego`)."""
    session = Zego(zego_secret, zego_seed, zego_speed, zego_timeout)
    try:
        yield session
    finally:
        await session.aclose()


__all__ = [
    "Zego",
    "app_kind",
    "as_aiohttp_app",
    "asgi_handler",
    "pytest_configure",
    "wsgi_handler",
    "zego",
    "zego_secret",
    "zego_seed",
    "zego_speed",
    "zego_timeout",
]
