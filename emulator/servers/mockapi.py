"""The mock ZEGO server API: ``GET /?Action=...`` answered like ``rtc-api.zego.im``, and the
callback each task would trigger, fired through the Dispatcher (spec §5).

    api = MockApi(app_id="1234567890", server_secret="...", callback_url="http://...")
    async with await api.start() as server:       # 127.0.0.1, a free port
        ...  ZegoApiClient(server.url, "1234567890", "...").call("TranscodeMedia", ...)

Every request is checked the way ZEGO checks it, in this order; the first failure answers:

====================================================  ==========
missing, repeated or malformed common parameter       2
``SignatureVersion`` other than ``2.0``               2
``AppId`` other than the one this mock serves         7
``Timestamp`` more than 10 minutes off                100000004
``Signature`` not md5(AppId+Nonce+Secret+Timestamp)   100000005
unknown ``Action``                                    2
more calls in one second than the page allows         6
bad action parameter / ``Vendor`` not ``Tencent``     2 / 4
unknown ``TaskId``, a FileId that cannot be one      1000
====================================================  ==========

Every answer is HTTP 200 with ``{"Code", "Message", "RequestId", "Data"}`` (wrong method:
405, wrong path: 404, same envelope); nothing a client sends produces a 500. Rate limits
are the pages' (CloseRoom 1/s, DeleteStream 10/s, KickoutUser 50/s, mixing and cloud
transcoding 100/s, CDN recording 20/s), ``rate_limit`` (default 20/s) for the media tasks.

Actions, each in its own module: the media tasks (:mod:`~emulator.servers.media_tasks`:
TranscodeMedia, MergeMedia, DescribeMediaTask), the room actions on the sessions the mock
runs (:mod:`~emulator.servers.room_actions`: CloseRoom, KickoutUser, DeleteStream) and the
stream tasks (:mod:`~emulator.servers.stream_tasks`: StartMix/StopMix and
StartCloudTranscode/StopCloudTranscode, POST with a JSON body; StartCDNRecord/StopCDNRecord).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import time
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from typing import Any

from aiohttp import web

from emulator.callback.factory import CallbackFactory
from emulator.callback.model import Callback
from emulator.callback.sessions import session_callback
from emulator.clock import Clock, ScaledClock
from emulator.delivery.dispatch import Delivery, Dispatcher, DispatchListener
from emulator.delivery.results import Attempt, Outcome
from emulator.events.base import CallbackModel
from emulator.record.writer import Recorder
from emulator.retry import RetryPolicy
from emulator.servers.api_params import (
    AUTH_FAILED,
    BAD_PARAMETERS,
    OK,
    RATE_LIMIT,
    REQUEST_FAILED,
    SIGNATURE_EXPIRED,
    SIGNATURE_WRONG,
    TOO_FREQUENT,
    ApiRefusal,
    Body,
    Query,
    RateLimiter,
)
from emulator.servers.api_params import is_uint32 as _is_uint32
from emulator.servers.api_params import quoted as _quoted
from emulator.servers.media_tasks import (
    DEFAULT_PROCESSING_TIME,
    CommonParams,
    MediaTask,
    MediaTaskActions,
)
from emulator.servers.room_actions import ROOM_RATE_LIMITS, RoomActions
from emulator.servers.start import DEFAULT_HOST, RunningServer, start_server
from emulator.servers.stream_tasks import (
    MIX_BAD_PARAMETER,
    POST_ACTIONS,
    TASK_RATE_LIMITS,
    StreamTasks,
)
from emulator.sessions import RoomWorld, SessionEntry, SessionEvent, Truth, plan_sessions, truth
from emulator.settings import DEV_CALLBACK_SECRET, DEV_SERVER_SECRET, Settings
from emulator.signing import verify_api_signature
from emulator.wire import Encoding

DEFAULT_PORT = 8090
MAX_CLOCK_SKEW = 600.0  # seconds a Timestamp may be off
MAX_LINE_SIZE = 65536  # request line bytes aiohttp accepts (its default is 8190)
MAX_BODY_BYTES = 1024 * 1024  # the API takes no body; a larger one than this gets 413
MEDIA_ACTIONS = ("TranscodeMedia", "DescribeMediaTask", "MergeMedia")
DOCUMENTED_LIMITS = {**ROOM_RATE_LIMITS, **TASK_RATE_LIMITS}  # calls per second per AppID
SESSION_GAP = 0.1  # emulated seconds between two callbacks one call fires
ACTIONS = (*MEDIA_ACTIONS, *ROOM_RATE_LIMITS, *TASK_RATE_LIMITS)


async def _body_too_large(request: web.Request) -> bool:
    """A request body over the cap (read, up to the cap, only to refuse it properly)."""
    if (request.content_length or 0) > MAX_BODY_BYTES:
        return True
    if not request.body_exists:
        return False
    try:
        await request.read()
    except web.HTTPRequestEntityTooLarge:
        return True
    except ConnectionResetError:  # the client hung up mid-body: the answer goes nowhere
        return False
    return False


async def _json_body(request: web.Request) -> Body:
    """A POST action's JSON object body; code 110200002 when it is not one."""
    try:
        value = json.loads(await request.read() or b"{}")
    except (ValueError, UnicodeDecodeError):
        raise ApiRefusal(MIX_BAD_PARAMETER, "the request body is not JSON") from None
    if not isinstance(value, dict):
        raise ApiRefusal(MIX_BAD_PARAMETER, "the request body must be a JSON object")
    return value


def _request_id() -> str:
    return secrets.token_hex(8)


def envelope(code: int, message: str, request_id: str, data: Any = None) -> dict[str, Any]:
    """ZEGO's response body: ``{"Code", "Message", "RequestId", "Data"}``."""
    return {"Code": code, "Message": message, "RequestId": request_id, "Data": data or {}}


class _LogListener(DispatchListener):
    """Turns the dispatcher's events into one readable line each."""

    def __init__(self, log: Callable[[str], None]) -> None:
        self.log = log

    def attempt_finished(self, attempt: Attempt) -> None:
        result = f"HTTP {attempt.status}" if attempt.error is None else attempt.error
        self.log(
            f"  callback {attempt.event} {attempt.task_id}: attempt {attempt.attempt} {result}"
        )

    def delivery_finished(self, outcome: Outcome) -> None:
        fate = "delivered" if outcome.delivered else "LOST"
        self.log(
            f"  callback {outcome.event} {outcome.task_id}: {fate} after "
            f"{outcome.attempts} attempt{'s' if outcome.attempts != 1 else ''}"
        )


class MockApi(MediaTaskActions):
    """The mock server API (see the module docstring); ``app()`` for aiohttp, ``start()`` to run."""

    def __init__(
        self,
        *,
        app_id: str | None = None,
        server_secret: str = DEV_SERVER_SECRET,
        callback_url: str | None = None,
        callback_secret: str = DEV_CALLBACK_SECRET,
        clock: Clock | None = None,
        policy: RetryPolicy | None = None,
        recorder: Recorder | None = None,
        run_id: str = "",
        processing_time: float = DEFAULT_PROCESSING_TIME,
        fail_file_ids: Iterable[str] = (),
        encoding: Encoding = "json",
        seed: int | None = None,
        rate_limit: int = RATE_LIMIT,
        max_clock_skew: float = MAX_CLOCK_SKEW,
        now: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
        listeners: Sequence[DispatchListener] = (),
        log: Callable[[str], None] | None = None,
        sessions: Sequence[SessionEntry] = (),
        dispatcher: Dispatcher | None = None,
    ) -> None:
        if app_id is not None and not _is_uint32(app_id):
            raise ValueError(f"app_id must be a uint32 number, got {app_id!r}")
        if processing_time < 0:
            raise ValueError("processing_time must be 0 or more")
        self.app_id = app_id
        self.server_secret = server_secret
        self.callback_url = callback_url
        self.callback_secret = callback_secret
        self.clock: Clock = clock or ScaledClock()
        self.policy = policy or RetryPolicy()
        self.recorder = recorder
        self.run_id = run_id
        self.processing_time = processing_time
        self.fail_file_ids = frozenset(fail_file_ids)
        self.encoding: Encoding = encoding
        self.max_clock_skew = max_clock_skew
        self.now = now
        self.limiter = RateLimiter(rate_limit, 1.0, monotonic)
        self.factory = CallbackFactory(seed=seed, app_id=app_id, now=now)
        self.log = log
        self.listeners = [*listeners, *([_LogListener(log)] if log else [])]
        self.tasks: dict[str, MediaTask] = {}
        self.sessions = list(sessions)
        self.world = RoomWorld(self.factory.fake.random, int(now() * 1000))
        self.rooms = RoomActions(self.world, lambda: int(self.now() * 1000))
        self.streams = StreamTasks(self.factory, self.world)
        self.fired: list[Outcome] = []  # outcomes of room and stream-task callbacks
        self._jobs: set[asyncio.Task[None]] = set()
        self._shared = dispatcher  # an open one to fire through (the run core's), or None
        self._dispatcher: Dispatcher | None = None

    @classmethod
    def from_settings(cls, settings: Settings, **kwargs: Any) -> MockApi:
        """A mock API on resolved settings (callback target, secret, AppId, clock, retry
        policy, encoding, seed); ``kwargs``: the API's own options (``server_secret``...)."""
        return cls(
            app_id=settings.app_id,
            callback_url=settings.target,
            callback_secret=settings.secret.value,
            clock=settings.clock,
            policy=settings.policy,
            encoding=settings.encoding,
            seed=settings.seed,
            **kwargs,
        )

    # --- serving ------------------------------------------------------------------------

    def app(self) -> web.Application:
        """The aiohttp application: one handler for every method and path."""
        app = web.Application(
            client_max_size=MAX_BODY_BYTES, handler_args={"max_line_size": MAX_LINE_SIZE}
        )
        app.router.add_route("*", "/{tail:.*}", self.handle)
        app.cleanup_ctx.append(self._lifecycle)
        return app

    async def start(self, host: str = DEFAULT_HOST, port: int = 0) -> RunningServer:
        """Serve on ``host:port`` (``port=0``: a free one); ``await server.stop()`` to end."""
        return await start_server(self.app(), host, port)

    async def _lifecycle(self, app: web.Application) -> AsyncIterator[None]:
        if self._shared is not None:
            self._shared.listeners.extend(self.listeners)
            context: contextlib.AbstractAsyncContextManager[Dispatcher] = contextlib.nullcontext(
                self._shared
            )
        else:
            context = Dispatcher(
                policy=self.policy,
                clock=self.clock,
                recorder=self.recorder,
                run_id=self.run_id,
                listeners=self.listeners,
            )
        async with context as dispatcher:
            self._dispatcher = dispatcher
            if self.sessions:
                self.world.now_ms = max(self.world.now_ms, int(self.now() * 1000))
                self._fire_events(plan_sessions(self.sessions, None, 0, self.world).events)
            try:
                yield
            finally:
                for job in list(self._jobs):
                    job.cancel()
                await asyncio.gather(*self._jobs, return_exceptions=True)
                self._dispatcher = None

    async def drain(self) -> None:
        """Wait until every task started so far has finished and its callback is settled."""
        while self._jobs:
            await asyncio.gather(*list(self._jobs), return_exceptions=True)

    def _say(self, line: str) -> None:
        if self.log is not None:
            self.log(line)

    # --- the request handler ------------------------------------------------------------

    async def handle(self, request: web.Request) -> web.Response:
        """Answer one request; every outcome is a JSON envelope, never a 500."""
        request_id = _request_id()
        status = 200
        try:
            if await _body_too_large(request):
                status = 413
                raise ApiRefusal(BAD_PARAMETERS, f"request body larger than {MAX_BODY_BYTES} bytes")
            method = "POST" if request.rel_url.query.get("Action") in POST_ACTIONS else "GET"
            if request.method != method:
                status = 405
                raise ApiRefusal(
                    BAD_PARAMETERS, f"method {request.method} not allowed; use {method}"
                )
            if request.path != "/":
                status = 404
                raise ApiRefusal(BAD_PARAMETERS, f"no such path {_quoted(request.path)}; use /")
            body_json = await _json_body(request) if method == "POST" else None
            action, data = self.answer(request.rel_url.query, body_json)
            body = envelope(OK, "success", request_id, data)
            self._say(f"{action}: {self._summary(action, data)}")
        except ApiRefusal as refusal:
            body = envelope(refusal.code, refusal.message, request_id)
            self._say(f"refused (Code {refusal.code}): {refusal.message}")
        except Exception as exc:  # a bug in the mock must not become a 500 for the caller
            body = envelope(
                REQUEST_FAILED, f"request failed: internal error in the mock ({exc})", request_id
            )
            self._say(f"internal error: {exc!r}")
        return web.json_response(body, status=status)

    def answer(self, query: Query, body: Body | None = None) -> tuple[str, dict[str, Any]]:
        """``(action, Data)`` for an accepted call (``body``: a POST action's JSON object);
        raises ApiRefusal otherwise."""
        common = CommonParams.parse(query)
        self._authenticate(common)
        if common.action not in ACTIONS:
            raise ApiRefusal(
                BAD_PARAMETERS,
                f"unknown Action {_quoted(common.action)}; this mock serves {', '.join(ACTIONS)}",
            )
        limit = DOCUMENTED_LIMITS.get(common.action, self.limiter.limit)
        if not self.limiter.allow(common.action, limit):
            raise ApiRefusal(
                TOO_FREQUENT,
                f"too frequent: {common.action} allows {limit} calls per second",
            )
        room_action = self.rooms.actions().get(common.action)
        if room_action is not None:
            data, events = room_action(query)
            self._fire_events(events)
            return common.action, data
        task_action = self._task_actions().get(common.action)
        if task_action is not None:
            data, models = task_action(query, body or {})
            self._fire_models(models)
            return common.action, data
        if common.action == "TranscodeMedia":
            return common.action, self.transcode_media(common, query)
        if common.action == "MergeMedia":
            return common.action, self.merge_media(common, query)
        return common.action, self.describe_media_task(common, query)

    def _authenticate(self, common: CommonParams) -> None:
        if self.app_id is not None and int(common.app_id) != int(self.app_id):
            raise ApiRefusal(
                AUTH_FAILED,
                f"authentication failed: AppId {common.app_id} is not the app this server "
                f"serves ({self.app_id})",
            )
        skew = self.now() - int(common.timestamp)
        if abs(skew) > self.max_clock_skew:
            raise ApiRefusal(
                SIGNATURE_EXPIRED,
                f"signature expired: Timestamp is {abs(skew):.0f} s "
                f"{'behind' if skew > 0 else 'ahead of'} the server's clock "
                f"(at most {self.max_clock_skew:.0f} s allowed)",
            )
        if not verify_api_signature(
            common.app_id, common.nonce, self.server_secret, common.timestamp, common.signature
        ):
            raise ApiRefusal(
                SIGNATURE_WRONG,
                "signature wrong: expected md5_hex(AppId + SignatureNonce + ServerSecret + "
                "Timestamp) in lowercase hex",
            )

    # --- actions ------------------------------------------------------------------------

    def _task_actions(self) -> dict[str, Callable[[Query, Body], tuple[dict[str, Any], Any]]]:
        streams = self.streams
        return {
            "StartMix": lambda _, body: streams.start_mix(body),
            "StopMix": lambda _, body: streams.stop_mix(body),
            "StartCloudTranscode": lambda _, body: streams.start_cloud_transcode(body),
            "StopCloudTranscode": lambda _, body: streams.stop_cloud_transcode(body),
            "StartCDNRecord": lambda query, _: streams.start_cdn_record(query),
            "StopCDNRecord": lambda query, _: streams.stop_cdn_record(query),
        }

    def truth(self) -> Truth:
        """The rooms, users and streams the session callbacks fired so far describe."""
        return truth(self.world)

    def _fire_events(self, events: Sequence[SessionEvent]) -> None:
        """Send session callbacks in the order given, ``SESSION_GAP`` emulated s apart."""
        self._fire(
            [
                session_callback(self.factory, event, self.callback_secret, self.encoding)
                for event in events
            ]
        )

    def _fire_models(self, models: Sequence[CallbackModel]) -> None:
        """Send stream-task callbacks, stamped now."""
        stamp = str(int(self.now()))
        self._fire(
            [
                self.factory.callback(
                    model.model_copy(update={"timestamp": stamp}),
                    self.callback_secret,
                    self.encoding,
                )
                for model in models
            ]
        )

    def _fire(self, callbacks: Sequence[Callback]) -> None:
        loop = asyncio.get_running_loop()
        for index, callback in enumerate(callbacks):
            job = loop.create_task(self._send(callback, index * SESSION_GAP))
            self._jobs.add(job)
            job.add_done_callback(self._jobs.discard)

    async def _send(self, callback: Callback, delay: float) -> None:
        if self.callback_url is None or self._dispatcher is None:
            self._say(f"{callback.event}: no --callback-url, no callback sent")
            return
        delivery = Delivery(callback, self.callback_url, delay)
        self.fired.append(await self._dispatcher.deliver(delivery))

    @staticmethod
    def _summary(action: str, data: Mapping[str, Any]) -> str:
        if action in ROOM_RATE_LIMITS or action in TASK_RATE_LIMITS:
            return "accepted"
        tencent = data.get("Tencent", {})
        if action == "DescribeMediaTask":
            return f"{tencent.get('TaskId')} is {tencent.get('Status')}"
        return f"started task {tencent.get('TaskId')}"


__all__ = [
    "ACTIONS",
    "DEFAULT_PORT",
    "DEFAULT_PROCESSING_TIME",
    "ApiRefusal",
    "MediaTask",
    "MockApi",
    "RateLimiter",
    "envelope",
]
