"""The local receiver: verifies, decodes and records callbacks, and answers from a script.

    receiver = Receiver(callback_secret).respond(500, 500, 200)
    async with receiver:                       # 127.0.0.1, a free port
        ...  POST callbacks to receiver.url  ...
    receiver.check()                           # AssertionError if anything was rejected

It doubles as the reference for how a receiver should check a ZEGO callback. Each request
goes through these steps; the first that fails decides the answer:

1. body larger than 1 MiB                               -> 413
   (a body cut short by the client                       -> 400)
2. body not a callback in any of the three encodings    -> 400 (never 500)
3. signature wrong or missing, timestamp older than
   ``max_age`` (see :func:`emulator.verify.verify_callback`) -> 401
4. replay: the ``timestamp`` and ``nonce`` of a callback already *accepted* (answered
   2xx) with a different body (a forgery: the signature never covers the body) -> 409;
   the same body again (a duplicate delivery)  -> ``replay_status`` (200: acknowledged)
5. otherwise the script answers: the next status of the callback's per-task script (by
   ``task_id``) or of the receiver's script (the last status repeats), after ``delay``
   seconds; or it never answers (``hang``) or drops the connection (``reset``). A 2xx
   carries ``ok`` or the body :meth:`Receiver.answer_with` scripts (a hook's decision, e.g.
   ``{"result": 3, "reason": "spam"}`` for ZIM's ``before_send_msg``).

On replays: ZEGO's retries re-send the identical body (same timestamp, nonce and
signature) whenever it did not see a 2xx in time, and it may deliver an accepted
callback again. So an exact re-delivery of a callback already accepted is acknowledged
by default (``replay_status=200``): answered at once without reaching the script,
counted as ``duplicate``, never processed twice. Refusing it (``replay_status=409``)
makes the sender retry it until it is lost — also when the sender merely timed out
waiting for the first 2xx. The same timestamp and nonce with a *different* body is
always refused (409). Nonces are forgotten once their timestamp is older than
``max_age`` (such a callback is rejected as stale anyway). ``replay_status=None`` turns
the replay check off (every request goes to the script).

Rejections (steps 1-4) answer at once and do not use up the script. Nothing is raised
inside the request handler (the pytest-httpserver habit): what went wrong is recorded
and :meth:`Receiver.check` raises it as one readable AssertionError.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

from emulator.errors import DecodeError, UsageError
from emulator.events import spec_for_fields
from emulator.events.base import compact_json, event_of, text
from emulator.record.writer import Recorder, RecordWriteError
from emulator.servers.start import DEFAULT_HOST, RunningServer, start_server
from emulator.signing import signature_keys
from emulator.verify import MS_TIMESTAMP_FROM, Verdict, verify_callback
from emulator.wire import WireFields, WireValue, field_text

DEFAULT_PATH = "/zego/callback"
DEFAULT_MAX_AGE = 300.0
MAX_BODY_BYTES = 1024 * 1024  # 1 MiB; larger bodies get 413
RECORD_FIELDS_LIMIT = 16 * 1024  # characters of fields' JSON a record line holds
FIELD_EXCERPT = 1024  # characters of one value kept when the fields are cut
BODY_EXCERPT = 200  # characters of an undecodable body kept in ``Received.problem``

Answer = Literal["answered", "hung", "reset"]
Rejection = Literal["too_large", "incomplete", "undecodable", "unauthorized", "replay"]


@dataclass
class Received:
    """One request the receiver got: what it said, what the check found, how it was answered."""

    time: float  # Unix time the request arrived
    path: str
    content_type: str
    fields: WireFields  # decoded top-level fields ({} when undecodable)
    encoding: str | None  # form | json | json-urlencoded; None when undecodable
    verdict: Verdict | None  # None when the body could not be decoded
    status: int | None  # the status answered; None when it hung or reset the connection
    answer: Answer = "answered"
    rejection: Rejection | None = None  # why it was refused before the script answered
    duplicate: bool = False  # an accepted callback delivered again, acknowledged (2xx)
    problem: str = ""  # one sentence when something went wrong ("" when fine)

    @property
    def event(self) -> str:
        return event_of(self.fields)

    @property
    def task_id(self) -> str:
        """The callback's task (its ``task_id``, or the id its event names its task by)."""
        spec = spec_for_fields(self.fields)
        return text(self.fields, spec.task_field if spec is not None else "task_id")

    @property
    def accepted(self) -> bool:
        """True when the receiver answered 2xx (the callback counts as delivered)."""
        return self.status is not None and 200 <= self.status <= 299

    def to_record(self) -> dict[str, Any]:
        """The ``received`` line of a ``--record`` file / ``--json`` output (no secret);
        fields beyond 16 KiB of JSON are cut to excerpts (``fields_truncated``)."""
        fields, truncated = _bounded_fields(self.fields)
        return {
            "type": "received",
            "time": round(self.time, 6),
            "path": self.path,
            "content_type": self.content_type,
            "encoding": self.encoding,
            "event": self.event,
            "task_id": self.task_id,
            "signature_ok": None if self.verdict is None else self.verdict.signature_ok,
            "fresh": None if self.verdict is None else self.verdict.fresh,
            "status": self.status,
            "answer": self.answer,
            "rejection": self.rejection,
            "duplicate": self.duplicate,
            "problem": self.problem,
            "fields": fields,
            **({"fields_truncated": True} if truncated else {}),
        }


class StatusScript:
    """Status codes answered in order; the last one repeats once the script runs out."""

    def __init__(self, statuses: Iterable[int]) -> None:
        self.statuses = [_check_status(status) for status in statuses]
        if not self.statuses:
            raise ValueError("a response script needs at least one status code")
        self.used = 0

    def next(self) -> int:
        status = self.statuses[min(self.used, len(self.statuses) - 1)]
        self.used += 1
        return status


def _check_status(status: int) -> int:
    if not isinstance(status, int) or not 100 <= status <= 599:
        raise ValueError(f"a response status must be a number from 200 to 599, got {status!r}")
    if status <= 199:
        raise ValueError(
            f"{status} is an informational (1xx) status, not a final answer; "
            "expected a status from 200 to 599"
        )
    return status


AnswerContent = str | bytes | Mapping[str, Any]


@dataclass(frozen=True)
class AnswerBody:
    """A scripted response body (and how long to wait before sending it)."""

    body: bytes
    content_type: str
    after: float | None = None  # real seconds; None: the receiver's delay

    @classmethod
    def of(cls, content: AnswerContent, after: float | None = None) -> AnswerBody:
        """A mapping as JSON, text as UTF-8 text."""
        if after is not None and after < 0:
            raise ValueError("an answer's delay must be 0 or more seconds")
        if isinstance(content, Mapping):
            text = json.dumps(dict(content), ensure_ascii=False, separators=(",", ":"))
            return cls(text.encode("utf-8"), "application/json", after)
        raw = content.encode("utf-8") if isinstance(content, str) else bytes(content)
        return cls(raw, "text/plain", after)


class Receiver:
    """A ZEGO callback receiver on aiohttp.web (see the module docstring for the rules).

    ``per_task_responses`` maps a callback's ``task_id`` to its own status script; other
    callbacks use ``responses``. ``max_age=None`` turns the freshness check off;
    ``replay_status`` answers an exact re-delivery of an accepted callback (default 200:
    acknowledged, not processed again; 409 refuses it); ``None`` turns the check off.
    ``on_received`` is called with every :class:`Received` as it is answered (or hangs).
    """

    def __init__(
        self,
        callback_secret: str,
        responses: Sequence[int] = (200,),
        delay: float = 0.0,
        hang: bool = False,
        reset: bool = False,
        max_age: float | None = DEFAULT_MAX_AGE,
        path: str = DEFAULT_PATH,
        per_task_responses: Mapping[str, Sequence[int]] | None = None,
        *,
        replay_status: int | None = 200,
        record: str | Path | None = None,
        on_received: Callable[[Received], None] | None = None,
    ) -> None:
        if delay < 0:
            raise ValueError("delay must be 0 or more seconds")
        self.callback_secret = callback_secret
        self.delay = delay
        self.hang = hang
        self.reset = reset
        self.max_age = max_age if max_age else None
        self.path = path if path.startswith("/") else f"/{path}"
        self.replay_status = None if replay_status is None else _check_status(replay_status)
        self.on_received = on_received
        self.received: list[Received] = []
        self.errors: list[str] = []  # bugs caught inside the handler (reported by check())
        self._script = StatusScript(responses)
        self._task_scripts: dict[str, StatusScript] = {}
        self._answer_body: AnswerBody | None = None  # the body of every 2xx (default "ok")
        self._task_answers: dict[str, AnswerBody] = {}
        self._each_task: tuple[int, ...] | None = None  # respond_per_task's script
        for task_id, statuses in (per_task_responses or {}).items():
            self.respond_for(task_id, *statuses)
        self._accepted_nonces: dict[tuple[str, str], tuple[float, str]] = {}
        self._next_forget = 0.0  # time.time() of the next sweep of old nonces
        self._record_path = Path(record) if record is not None else None
        self._recorder: Recorder | None = None
        self.record_error: OSError | None = None  # a write of --record failed (disk full)
        self.on_record_error: Callable[[OSError], None] | None = None  # e.g. stop serving
        self._closing: asyncio.Event | None = None
        self.server: RunningServer | None = None

    # --- scripting ------------------------------------------------------------------

    def respond(self, *statuses: int) -> Receiver:
        """Answer the next callbacks with these statuses in order, then repeat the last."""
        self._script = StatusScript(statuses)
        return self

    def respond_per_task(self, *statuses: int) -> Receiver:
        """Give every task id this script from its start: with ``500, 500, 200`` each
        callback is refused twice and accepted on its third request, whatever the others
        do (``respond`` is one script shared by all callbacks)."""
        StatusScript(statuses)  # the same checks as any script
        self._each_task = statuses
        return self

    def respond_for(self, task_id: str, *statuses: int) -> Receiver:
        """Answer callbacks of ``task_id`` with their own script (the last status repeats)."""
        self._task_scripts[task_id] = StatusScript(statuses)
        return self

    def answer_with(
        self, body: AnswerContent | None, task_id: str | None = None, after: float | None = None
    ) -> Receiver:
        """Answer with this body (a mapping as JSON: a hook's decision; None: the receiver's
        usual body) — callbacks of ``task_id``, or every callback — ``after`` real seconds
        (default: ``delay``)."""
        if body is None:
            usual = self._answer_body or AnswerBody(b"ok\n", "text/plain")
            answer = replace(usual, after=AnswerBody.of(b"", after).after)
        else:
            answer = AnswerBody.of(body, after)
        if task_id is None:
            self._answer_body = answer
        else:
            self._task_answers[task_id] = answer
        return self

    # --- what happened ----------------------------------------------------------------

    @property
    def accepted(self) -> list[Received]:
        """The requests answered 2xx."""
        return [item for item in self.received if item.accepted]

    @property
    def rejected(self) -> list[Received]:
        """The requests refused before the script answered (413, 400, 401, 409)."""
        return [item for item in self.received if item.rejection is not None]

    def check(self) -> None:
        """Raise AssertionError listing every rejected request and handler error, if any."""
        problems = [
            f"  {item.status} {item.path} task_id={item.task_id or '-'}: {item.problem}"
            for item in self.received
            if item.problem
        ]
        problems += [f"  receiver error: {error}" for error in self.errors]
        if problems:
            count = len(problems)
            raise AssertionError(
                f"the receiver saw {count} unexpected request{'s' if count != 1 else ''} "
                f"(of {len(self.received)} received):\n" + "\n".join(problems)
            )

    def clear(self) -> None:
        """Forget what was received (scripts and accepted nonces stay)."""
        self.received.clear()
        self.errors.clear()

    # --- serving --------------------------------------------------------------------

    def app(self) -> web.Application:
        """The aiohttp application: POST on :attr:`path` (and on any other path)."""
        app = web.Application(client_max_size=MAX_BODY_BYTES)
        app.router.add_post(self.path, self._handle)
        app.router.add_post("/{tail:.*}", self._handle)
        app.on_startup.append(self._on_startup)
        app.on_shutdown.append(self._on_shutdown)
        return app

    async def start(self, host: str = DEFAULT_HOST, port: int = 0) -> RunningServer:
        """Serve :meth:`app` on ``host:port`` (0 = a free port); stop with :meth:`stop`."""
        if self.server is not None:
            raise RuntimeError("this receiver is already running")
        self._open_record()
        self.server = await start_server(self.app(), host, port)
        return self.server

    async def stop(self) -> None:
        """Stop serving (requests left hanging get their connection closed)."""
        server, self.server = self.server, None
        if server is not None:
            await server.stop()
        if self._recorder is not None:
            self._recorder.close()
            self._recorder = None

    @property
    def url(self) -> str:
        """The callback URL (base URL plus :attr:`path`) of the running receiver."""
        if self.server is None:
            raise RuntimeError("the receiver is not running: await receiver.start() first")
        return self.server.url + self.path

    async def __aenter__(self) -> Receiver:
        if self.server is None:
            await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    async def _on_startup(self, app: web.Application) -> None:
        self._closing = asyncio.Event()
        self._open_record()

    def _open_record(self) -> None:
        if self._record_path is None or self._recorder is not None:
            return
        try:
            self._recorder = Recorder(self._record_path)
        except OSError as exc:
            reason = exc.strerror or str(exc)
            raise UsageError(f"cannot write the record {self._record_path}: {reason}") from None
        self._recorder.on_error = self._record_failed

    def _record_failed(self, exc: OSError) -> None:
        self.record_error = exc
        if self.on_record_error is not None:
            self.on_record_error(exc)

    def check_record(self) -> None:
        """Raise RecordWriteError when a write of the ``record`` file failed."""
        if self.record_error is not None:
            reason = self.record_error.strerror or str(self.record_error)
            raise RecordWriteError(f"record {self._record_path}: cannot write: {reason}")

    async def _on_shutdown(self, app: web.Application) -> None:
        if self._closing is not None:
            self._closing.set()

    # --- the request handler ------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        """Check and answer one request; never raises (errors are recorded for check())."""
        item = Received(
            time=time.time(),
            path=_as_text(request.path),
            content_type=_as_text(request.headers.get("Content-Type", "")),
            fields={},
            encoding=None,
            verdict=None,
            status=None,
        )
        try:
            return await self._answer(request, item)
        except asyncio.CancelledError:
            raise
        except ConnectionResetError:  # the sender hung up mid-body: no one to answer
            return web.Response(status=400, text="incomplete body\n")
        except Exception as exc:  # a bug here must not become an unexplained 500
            self.errors.append(f"{type(exc).__name__}: {exc}")
            item.status = 500
            item.problem = f"receiver error: {type(exc).__name__}"
            self._finish(item)
            return web.Response(status=500, text="receiver error\n")

    async def _answer(self, request: web.Request, item: Received) -> web.StreamResponse:
        if not request.headers.get("Content-Type", "").isascii():
            return self._reject(item, 400, "undecodable", "Content-Type is not ASCII text")
        try:
            body = await self._read_body(request)
        except (ConnectionError, asyncio.IncompleteReadError, HttpProcessingError) as exc:
            # the client went away (or broke the body) mid-request: its doing, not our bug
            reason = str(exc) or type(exc).__name__
            return self._reject(item, 400, "incomplete", f"body not received in full ({reason})")
        if body is None:
            return self._reject(item, 413, "too_large", f"body larger than {MAX_BODY_BYTES} bytes")
        try:
            verdict = verify_callback(
                body, item.content_type or None, self.callback_secret, self.max_age
            )
        except DecodeError as exc:
            excerpt = body[:BODY_EXCERPT].decode("utf-8", errors="replace")
            return self._reject(item, 400, "undecodable", f"undecodable body ({exc}): {excerpt!r}")
        item.fields, item.encoding, item.verdict = verdict.fields, verdict.encoding, verdict
        if not verdict.ok:
            return self._reject(item, 401, "unauthorized", verdict.reason)
        timestamp_key, nonce_key, _ = signature_keys(item.fields)
        key = (text(item.fields, timestamp_key), text(item.fields, nonce_key))
        self._forget_old_nonces()
        accepted = self._accepted_nonces.get(key)
        if self.replay_status is not None and accepted is not None:
            return self._replayed(item, same_body=accepted[1] == _fingerprint(item.fields))
        return await self._scripted(request, item, key)

    def _replayed(self, item: Received, same_body: bool) -> web.Response:
        """A callback whose timestamp and nonce were already accepted."""
        status = self.replay_status or 409
        if not same_body:
            return self._reject(
                item,
                409,
                "replay",
                "replayed timestamp and nonce with a different body (the signature does not "
                "cover the body)",
            )
        if 200 <= status <= 299:
            item.status, item.duplicate = status, True
            self._finish(item)
            return web.Response(status=status, text="duplicate: already processed\n")
        return self._reject(
            item,
            status,
            "replay",
            "replayed callback: this timestamp and nonce were already accepted",
        )

    async def _read_body(self, request: web.Request) -> bytes | None:
        """The request body, or None when it is larger than the cap."""
        if (request.content_length or 0) > MAX_BODY_BYTES:
            return None
        try:
            return await request.read()
        except web.HTTPRequestEntityTooLarge:
            return None

    def _reject(
        self, item: Received, status: int, rejection: Rejection, problem: str
    ) -> web.Response:
        item.status, item.rejection, item.problem = status, rejection, problem
        self._finish(item)
        return web.Response(status=status, text=f"{problem}\n")

    async def _scripted(
        self, request: web.Request, item: Received, key: tuple[str, str]
    ) -> web.StreamResponse:
        script = self._task_scripts.get(item.task_id)
        if script is None:
            script = self._script
            if self._each_task is not None:
                script = self._task_scripts[item.task_id] = StatusScript(self._each_task)
        status = script.next()
        answer = self._task_answers.get(item.task_id, self._answer_body)
        delay = answer.after if answer is not None and answer.after is not None else self.delay
        if delay > 0:
            await asyncio.sleep(delay)
        if self.hang:
            item.answer = "hung"
            self._finish(item)
            await self._wait_for_shutdown()
            _abort(request)
            return web.Response(status=503)
        if self.reset:
            item.answer = "reset"
            self._finish(item)
            _abort(request)
            return web.Response(status=503)
        item.status = status
        if item.accepted:
            self._accepted_nonces[key] = (_timestamp(key[0]), _fingerprint(item.fields))
        self._finish(item)
        if answer is not None and item.accepted:
            return web.Response(status=status, body=answer.body, content_type=answer.content_type)
        return web.Response(status=status, text="ok\n" if item.accepted else "scripted failure\n")

    async def _wait_for_shutdown(self) -> None:
        closing = self._closing or asyncio.Event()
        await closing.wait()

    def _forget_old_nonces(self) -> None:
        """Drop accepted nonces too old to come back fresh: at most once a second, so a
        busy receiver does not scan them all per request (it did: ~0.5 ms a request at
        6,000 remembered)."""
        if self.max_age is None or len(self._accepted_nonces) < 1024:
            return
        now = time.time()
        if now < self._next_forget:
            return
        self._next_forget = now + 1.0
        oldest = now - self.max_age
        for key, (stamp, _) in list(self._accepted_nonces.items()):
            if stamp < oldest:
                del self._accepted_nonces[key]

    def _finish(self, item: Received) -> None:
        self.received.append(item)
        if self._recorder is not None:
            self._recorder.write(item.to_record())
        if self.on_received is not None:
            try:
                self.on_received(item)
            except Exception as exc:  # a display bug must not change the answer
                self.errors.append(f"on_received: {type(exc).__name__}: {exc}")


def _as_text(header: str) -> str:
    """A header or path as aiohttp gave it, with bytes that were not UTF-8 (surrogates)
    escaped, so it can be recorded and printed."""
    if header.isascii():
        return header
    return header.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def _bounded_fields(fields: WireFields) -> tuple[WireFields, bool]:
    """``fields`` for a record line, cut when their JSON text is over
    :data:`RECORD_FIELDS_LIMIT` (each key and value to an excerpt); True when cut."""
    if len(fields) <= 100 and len(compact_json(fields)) <= RECORD_FIELDS_LIMIT:
        return fields, False
    cut: WireFields = {}
    for key, value in list(fields.items())[:50]:
        cut[key[:200]] = field_text(value)[:FIELD_EXCERPT]
    return cut, True


def _abort(request: web.Request) -> None:
    """Close the connection at once (TCP reset): the sender sees no HTTP response."""
    transport = request.transport
    if transport is not None:
        transport.abort()


def _fingerprint(fields: Mapping[str, WireValue]) -> str:
    """A digest of a callback's fields (same fields in any order or encoding, same digest:
    each value as its text, which is what a form body carries)."""
    pairs = sorted((key, field_text(value)) for key, value in fields.items())
    return hashlib.sha256(json.dumps(pairs, ensure_ascii=False).encode("utf-8")).hexdigest()


def _timestamp(text: str) -> float:
    """Unix seconds of a timestamp field (milliseconds read as such), 0 when unreadable."""
    try:
        value = float(text)
    except ValueError:
        return 0.0
    return value / 1000 if value >= MS_TIMESTAMP_FROM else value


def parse_responses(text: str) -> list[int]:
    """``"500,500,200"`` -> ``[500, 500, 200]``; raises ValueError with a clear message."""
    statuses: list[int] = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        try:
            status = int(part)
        except ValueError:
            raise ValueError(
                f"expected status codes from 200 to 599 separated by commas, got {text!r}"
            ) from None
        statuses.append(_check_status(status))
    if not statuses:
        raise ValueError("expected at least one status code, e.g. 500,500,200")
    return statuses


def received_json(item: Received) -> str:
    """One line of JSON for ``receive --json``."""
    return json.dumps(item.to_record(), ensure_ascii=False, separators=(",", ":"))


def answer_content(text: str) -> AnswerContent:
    """``receive --answer`` text: a JSON object as a mapping (sent as JSON), else text."""
    try:
        value = json.loads(text)
    except ValueError:
        return text
    return value if isinstance(value, dict) else text


__all__ = [
    "DEFAULT_MAX_AGE",
    "DEFAULT_PATH",
    "MAX_BODY_BYTES",
    "Received",
    "Receiver",
    "StatusScript",
    "parse_responses",
    "received_json",
]
