"""The mock API's media tasks: TranscodeMedia, MergeMedia, DescribeMediaTask (spec §5).

``TranscodeMedia`` (``Vendor=Tencent``, ``FileId``, ``Resolution``) and ``MergeMedia``
(``Vendor=Tencent``, ``InputFileId[]``..., ``OutputFileName``, ``Format``) start a task that
finishes ``processing_time`` emulated seconds later and then fires a ``procedure`` /
``compose`` callback with the same task id; ``DescribeMediaTask`` (``TaskId``, ``Vendor``)
reports it WAITING (the first fifth of the processing time), PROCESSING, then FINISH or
FAIL once its callback has gone out. Tasks whose source FileId is in ``fail_file_ids`` fail.

:class:`MediaTaskActions` is the part of :class:`~emulator.servers.mockapi.MockApi` that
serves them; :class:`CommonParams` are the common parameters every action is called with.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from emulator.callback.factory import CallbackFactory
from emulator.callback.model import Callback
from emulator.clock import Clock
from emulator.delivery.dispatch import Delivery, Dispatcher
from emulator.delivery.results import Outcome
from emulator.events.base import CallbackModel
from emulator.events.compose import ComposeCallback
from emulator.events.procedure import ProcedureCallback
from emulator.servers.api_params import (
    BAD_PARAMETERS,
    REQUEST_FAILED,
    VENDOR_MISMATCH,
    ApiRefusal,
    Query,
    is_uint32,
    param,
    quoted,
    required,
)
from emulator.wire import Encoding

DEFAULT_PROCESSING_TIME = 5.0  # emulated seconds from the API call to the callback
WAITING_SHARE = 0.2  # the part of the processing time a task reports WAITING
RESOLUTIONS = ("360p", "540p", "720p")
MERGE_FORMATS = ("mp4", "mp3", "m3u8")
FILE_ID = re.compile(r"[0-9A-Za-z_-]{1,64}")

TaskEvent = Literal["transcode", "compose"]
TaskStatus = Literal["WAITING", "PROCESSING", "FINISH", "FAIL"]


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
            f"request failed: {name} {quoted(value)} is not a file id "
            "(expected up to 64 letters, digits, '-' or '_')",
        )
    return value


def _vendor(query: Query, action: str) -> None:
    """``Vendor`` must be ``Tencent``: missing is code 2, another CDN is code 4."""
    vendor = required(query, "Vendor")
    if vendor != "Tencent":
        raise ApiRefusal(
            VENDOR_MISMATCH,
            f"CDN type mismatch: this mock serves {action} for Vendor=Tencent only, "
            f"not Vendor={quoted(vendor)}",
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
        action = required(query, "Action")
        app_id = required(query, "AppId")
        if not is_uint32(app_id):
            raise ApiRefusal(BAD_PARAMETERS, f"AppId {quoted(app_id)} is not a uint32 number")
        nonce = required(query, "SignatureNonce")
        if not nonce.isascii() or not nonce.isprintable() or len(nonce) > 64:
            raise ApiRefusal(BAD_PARAMETERS, "SignatureNonce must be up to 64 printable characters")
        timestamp = required(query, "Timestamp")
        if not timestamp.isascii() or not timestamp.isdigit() or len(timestamp) > 12:
            raise ApiRefusal(BAD_PARAMETERS, f"Timestamp {quoted(timestamp)} is not Unix seconds")
        signature = required(query, "Signature")
        if not signature.isascii() or len(signature) > 128:
            raise ApiRefusal(BAD_PARAMETERS, "Signature is not 32 hex characters")
        version = required(query, "SignatureVersion")
        if version != "2.0":
            raise ApiRefusal(BAD_PARAMETERS, f"SignatureVersion must be 2.0, not {quoted(version)}")
        is_test = param(query, "IsTest", required=False)
        if is_test is not None and is_test.lower() not in ("true", "false"):
            raise ApiRefusal(BAD_PARAMETERS, f"IsTest must be true or false, not {quoted(is_test)}")
        return cls(action, app_id, nonce, timestamp, signature)


class MediaTaskActions:
    """TranscodeMedia, MergeMedia and DescribeMediaTask, and the tasks they start (a part of
    :class:`~emulator.servers.mockapi.MockApi`, which sets these attributes)."""

    factory: CallbackFactory
    clock: Clock
    now: Callable[[], float]
    processing_time: float
    fail_file_ids: frozenset[str]
    callback_url: str | None
    callback_secret: str
    encoding: Encoding
    tasks: dict[str, MediaTask]
    _jobs: set[asyncio.Task[None]]
    _dispatcher: Dispatcher | None

    def _say(self, line: str) -> None:
        raise NotImplementedError

    def task(self, task_id: str) -> MediaTask | None:
        return self.tasks.get(task_id)

    def transcode_media(self, common: CommonParams, query: Query) -> dict[str, Any]:
        """Start a transcoding task; its ``procedure`` callback fires when it finishes."""
        _vendor(query, "TranscodeMedia")
        file_id = _file_id(required(query, "FileId"), "FileId")
        resolution = required(query, "Resolution")
        if resolution not in RESOLUTIONS:
            raise ApiRefusal(
                BAD_PARAMETERS,
                f"Resolution must be one of {', '.join(RESOLUTIONS)}, not {quoted(resolution)}",
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
        name = required(query, "OutputFileName")
        if len(name) > 200 or re.search(r"[/\\\x00-\x1f]", name):
            raise ApiRefusal(BAD_PARAMETERS, f"OutputFileName {quoted(name)} is not a file name")
        fmt = (param(query, "Format", required=False) or "mp4").lower()
        if fmt not in MERGE_FORMATS:
            raise ApiRefusal(
                BAD_PARAMETERS,
                f"Format must be one of {', '.join(MERGE_FORMATS)}, not {quoted(fmt)}",
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
        task_id = required(query, "TaskId")
        _vendor(query, "DescribeMediaTask")
        task = self.tasks.get(task_id)
        if task is None or task.app_id != common.app_id:
            raise ApiRefusal(
                REQUEST_FAILED,
                f"request failed: no task with TaskId {quoted(task_id)} (this mock knows only "
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
