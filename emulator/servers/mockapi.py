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
more than 20 calls in one second for this Action      6
bad action parameter / ``Vendor`` not ``Tencent``     2 / 4
unknown ``TaskId``, a FileId that cannot be one      1000
====================================================  ==========

Every answer is HTTP 200 with ``{"Code", "Message", "RequestId", "Data"}`` (wrong method:
405, wrong path: 404, same envelope); nothing a client sends produces a 500.

Actions: ``TranscodeMedia`` (``Vendor=Tencent``, ``FileId``, ``Resolution``) and
``MergeMedia`` (``Vendor=Tencent``, ``InputFileId[]``..., ``OutputFileName``, ``Format``)
start a task that finishes ``processing_time`` emulated seconds later and then fires a
``procedure`` / ``compose`` callback with the same task id; ``DescribeMediaTask``
(``TaskId``, ``Vendor``) reports it WAITING (the first fifth of the processing time),
PROCESSING, then FINISH or FAIL once its callback has gone out, with the callback's
replay URL. Tasks whose source FileId is in ``fail_file_ids`` fail.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import secrets
import signal
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from aiohttp import web

from emulator.callback.factory import CallbackFactory
from emulator.callback.model import Callback
from emulator.callback.sessions import session_callback
from emulator.clock import Clock, ScaledClock
from emulator.delivery.dispatch import Delivery, Dispatcher, DispatchListener
from emulator.delivery.results import Attempt, Outcome
from emulator.events.base import CallbackModel
from emulator.events.compose import ComposeCallback
from emulator.events.procedure import ProcedureCallback
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
    VENDOR_MISMATCH,
    ApiRefusal,
    Body,
    Query,
    RateLimiter,
)
from emulator.servers.api_params import is_uint32 as _is_uint32
from emulator.servers.api_params import param as _param
from emulator.servers.api_params import quoted as _quoted
from emulator.servers.api_params import required as _required
from emulator.servers.room_actions import ROOM_RATE_LIMITS, RoomActions
from emulator.servers.start import DEFAULT_HOST, RunningServer, start_server
from emulator.servers.stream_tasks import (
    MIX_BAD_PARAMETER,
    POST_ACTIONS,
    TASK_RATE_LIMITS,
    StreamTasks,
)
from emulator.sessions import RoomWorld, SessionEntry, SessionEvent, Truth, plan_sessions, truth
from emulator.settings import DEV_CALLBACK_SECRET, DEV_SERVER_SECRET
from emulator.signing import verify_api_signature
from emulator.wire import Encoding

DEFAULT_PORT = 8090
DEFAULT_PROCESSING_TIME = 5.0  # emulated seconds from the API call to the callback
MAX_CLOCK_SKEW = 600.0  # seconds a Timestamp may be off
WAITING_SHARE = 0.2  # the part of the processing time a task reports WAITING
MAX_LINE_SIZE = 65536  # request line bytes aiohttp accepts (its default is 8190)
MAX_BODY_BYTES = 1024 * 1024  # the API takes no body; a larger one than this gets 413
RESOLUTIONS = ("360p", "540p", "720p")
MERGE_FORMATS = ("mp4", "mp3", "m3u8")
MEDIA_ACTIONS = ("TranscodeMedia", "DescribeMediaTask", "MergeMedia")
DOCUMENTED_LIMITS = {**ROOM_RATE_LIMITS, **TASK_RATE_LIMITS}  # calls per second per AppID
SESSION_GAP = 0.1  # emulated seconds between two callbacks one call fires
ACTIONS = (*MEDIA_ACTIONS, *ROOM_RATE_LIMITS, *TASK_RATE_LIMITS)
FILE_ID = re.compile(r"[0-9A-Za-z_-]{1,64}")

TaskEvent = Literal["transcode", "compose"]
TaskStatus = Literal["WAITING", "PROCESSING", "FINISH", "FAIL"]


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


@dataclass
class MediaTask:
    """One task the mock started, and the callback that reports (or will report) its end."""

    task_id: str
    event: TaskEvent
    app_id: str
    file_id: str  # the source file (transcode) or the merged output file (compose)
    created_at: float  # emulated seconds
    finishes_at: float  # emulated seconds
    failed: bool
    model: CallbackModel  # the callback to send; timestamp and nonce are set when it fires
    replay_url: str
    message: str
    fired: bool = False
    callback_id: str | None = None  # set when its callback starts going out
    outcome: Outcome | None = None
    done: asyncio.Event = field(default_factory=asyncio.Event)

    def status(self, now: float) -> TaskStatus:
        """What DescribeMediaTask reports at emulated time ``now``."""
        if self.fired:
            return "FAIL" if self.failed else "FINISH"
        waiting_until = self.created_at + (self.finishes_at - self.created_at) * WAITING_SHARE
        return "WAITING" if now < waiting_until else "PROCESSING"


def _file_id(value: str, name: str) -> str:
    """A FileId that could name a VOD file; code 1000 (ZEGO's "wrong FileId") otherwise."""
    if not FILE_ID.fullmatch(value):
        raise ApiRefusal(
            REQUEST_FAILED,
            f"request failed: {name} {_quoted(value)} is not a file id "
            "(expected up to 64 letters, digits, '-' or '_')",
        )
    return value


def _vendor(query: Query, action: str) -> None:
    """``Vendor`` must be ``Tencent``: missing is code 2, another CDN is code 4."""
    vendor = _required(query, "Vendor")
    if vendor != "Tencent":
        raise ApiRefusal(
            VENDOR_MISMATCH,
            f"CDN type mismatch: this mock serves {action} for Vendor=Tencent only, "
            f"not Vendor={_quoted(vendor)}",
        )


@dataclass(frozen=True)
class CommonParams:
    """The common query parameters of a call, checked for form (not yet for authenticity)."""

    action: str
    app_id: str
    nonce: str
    timestamp: str
    signature: str

    @classmethod
    def parse(cls, query: Query) -> CommonParams:
        action = _required(query, "Action")
        app_id = _required(query, "AppId")
        if not _is_uint32(app_id):
            raise ApiRefusal(BAD_PARAMETERS, f"AppId {_quoted(app_id)} is not a uint32 number")
        nonce = _required(query, "SignatureNonce")
        if not nonce.isascii() or not nonce.isprintable() or len(nonce) > 64:
            raise ApiRefusal(BAD_PARAMETERS, "SignatureNonce must be up to 64 printable characters")
        timestamp = _required(query, "Timestamp")
        if not timestamp.isascii() or not timestamp.isdigit() or len(timestamp) > 12:
            raise ApiRefusal(BAD_PARAMETERS, f"Timestamp {_quoted(timestamp)} is not Unix seconds")
        signature = _required(query, "Signature")
        if not signature.isascii() or len(signature) > 128:
            raise ApiRefusal(BAD_PARAMETERS, "Signature is not 32 hex characters")
        version = _required(query, "SignatureVersion")
        if version != "2.0":
            raise ApiRefusal(
                BAD_PARAMETERS, f"SignatureVersion must be 2.0, not {_quoted(version)}"
            )
        is_test = _param(query, "IsTest", required=False)
        if is_test is not None and is_test.lower() not in ("true", "false"):
            raise ApiRefusal(
                BAD_PARAMETERS, f"IsTest must be true or false, not {_quoted(is_test)}"
            )
        return cls(action, app_id, nonce, timestamp, signature)


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


class MockApi:
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

    def task(self, task_id: str) -> MediaTask | None:
        return self.tasks.get(task_id)

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

    def transcode_media(self, common: CommonParams, query: Query) -> dict[str, Any]:
        """Start a transcoding task; its ``procedure`` callback fires when it finishes."""
        _vendor(query, "TranscodeMedia")
        file_id = _file_id(_required(query, "FileId"), "FileId")
        resolution = _required(query, "Resolution")
        if resolution not in RESOLUTIONS:
            raise ApiRefusal(
                BAD_PARAMETERS,
                f"Resolution must be one of {', '.join(RESOLUTIONS)}, not {_quoted(resolution)}",
            )
        failed = file_id in self.fail_file_ids
        model = self.factory.build(
            "procedure",
            {
                "status": "FAILED" if failed else "SUCCESS",
                "file_id": file_id,
                "transcode": [{"resolution": resolution}],
            },
        )
        assert isinstance(model, ProcedureCallback)
        replay_url = model.transcode[0].replay_url if model.transcode else ""
        task = self._start(
            "transcode",
            common.app_id,
            file_id,
            failed,
            model,
            replay_url,
            "transcode failed" if failed else "SUCCESS",
        )
        return {"Tencent": {"TaskId": task.task_id, "RequestId": str(uuid.uuid4())}}

    def merge_media(self, common: CommonParams, query: Query) -> dict[str, Any]:
        """Start a merge task; its ``compose`` callback fires when it finishes."""
        _vendor(query, "MergeMedia")
        inputs = [*query.getall("InputFileId[]", []), *query.getall("InputFileId", [])]
        if not inputs or any(not value for value in inputs):
            raise ApiRefusal(
                BAD_PARAMETERS, "missing parameter InputFileId[] (one per source file)"
            )
        if len(inputs) > 100:
            raise ApiRefusal(BAD_PARAMETERS, "InputFileId[] takes at most 100 file ids")
        for value in inputs:
            _file_id(value, "InputFileId[]")
        name = _required(query, "OutputFileName")
        if len(name) > 200 or re.search(r"[/\\\x00-\x1f]", name):
            raise ApiRefusal(BAD_PARAMETERS, f"OutputFileName {_quoted(name)} is not a file name")
        fmt = (_param(query, "Format", required=False) or "mp4").lower()
        if fmt not in MERGE_FORMATS:
            raise ApiRefusal(
                BAD_PARAMETERS,
                f"Format must be one of {', '.join(MERGE_FORMATS)}, not {_quoted(fmt)}",
            )
        failed = any(value in self.fail_file_ids for value in inputs)
        params: dict[str, Any] = {"format": fmt, "output_file_name": name}
        if failed:
            params["code"] = "60000"
        model = self.factory.build("compose", params)
        assert isinstance(model, ComposeCallback)
        task = self._start(
            "compose", common.app_id, model.file_id, failed, model, model.replay_url, model.message
        )
        return {"Tencent": {"TaskId": task.task_id, "RequestId": str(uuid.uuid4())}}

    def describe_media_task(self, common: CommonParams, query: Query) -> dict[str, Any]:
        """The state of a task this mock started, consistent with its callback."""
        task_id = _required(query, "TaskId")
        _vendor(query, "DescribeMediaTask")
        task = self.tasks.get(task_id)
        if task is None or task.app_id != common.app_id:
            raise ApiRefusal(
                REQUEST_FAILED,
                f"request failed: no task with TaskId {_quoted(task_id)} (this mock knows only "
                "the tasks it started since it was started)",
            )
        status = task.status(self.clock.now())
        finished = status in ("FINISH", "FAIL")
        return {
            "Tencent": {
                "TaskId": task.task_id,
                "Event": task.event,
                "Status": status,
                "FileId": task.file_id,
                "ReplayUrl": task.replay_url if status == "FINISH" else "",
                "RequestId": str(uuid.uuid4()),
                "Message": task.message if finished else "",
                "ThumbnailsUrl": [],
            }
        }

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

    # --- tasks and their callbacks ------------------------------------------------------

    def _start(
        self,
        event: TaskEvent,
        app_id: str,
        file_id: str,
        failed: bool,
        model: CallbackModel,
        replay_url: str,
        message: str,
    ) -> MediaTask:
        created = self.clock.now()
        task = MediaTask(
            task_id=model.task_id,
            event=event,
            app_id=app_id,
            file_id=file_id,
            created_at=created,
            finishes_at=created + self.processing_time,
            failed=failed,
            model=model,
            replay_url=replay_url,
            message=message,
        )
        self.tasks[task.task_id] = task
        job = asyncio.get_running_loop().create_task(self._complete(task))
        self._jobs.add(job)
        job.add_done_callback(self._jobs.discard)
        return task

    def _callback(self, task: MediaTask) -> Callback:
        """The task's callback as it goes out now: fresh timestamp and nonce, signed."""
        model = task.model.model_copy(
            update={
                "appid": task.app_id,
                "timestamp": str(int(self.now())),
                "nonce": self.factory.fake.digits(6),
            }
        )
        return self.factory.callback(model, self.callback_secret, self.encoding)

    async def _complete(self, task: MediaTask) -> None:
        """Wait out the processing time, then report the task done and fire its callback."""
        try:
            async with self.clock.participant():
                await self.clock.sleep_until(task.finishes_at)
            task.fired = True
            if self.callback_url is None or self._dispatcher is None:
                self._say(f"task {task.task_id} finished; no --callback-url, no callback sent")
                return
            delivery = Delivery(self._callback(task), self.callback_url)
            task.callback_id = delivery.callback.callback_id
            task.outcome = await self._dispatcher.deliver(delivery)
        finally:
            task.done.set()


async def serve(
    api: MockApi,
    host: str,
    port: int,
    on_ready: Callable[[str], None],
    stop: asyncio.Event | None = None,
) -> None:
    """Run ``api`` on ``host:port`` until ``stop`` is set, SIGTERM arrives or the task is
    cancelled (Ctrl-C); ``on_ready(url)`` once listening."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    try:
        loop.add_signal_handler(signal.SIGTERM, stop.set)
        on_sigterm = True
    except (NotImplementedError, RuntimeError, ValueError):  # not the main thread, Windows
        on_sigterm = False
    server = await api.start(host, port)
    try:
        on_ready(server.url)
        await stop.wait()
    finally:
        if on_sigterm:
            loop.remove_signal_handler(signal.SIGTERM)
        await server.stop()


__all__ = [
    "ACTIONS",
    "DEFAULT_PORT",
    "ApiRefusal",
    "MediaTask",
    "MockApi",
    "RateLimiter",
    "envelope",
    "serve",
]
