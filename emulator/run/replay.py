"""Replay: re-send exactly the callbacks of a recorded run to a (new) target.

    outcomes = await replay(["runs/yesterday.jsonl"], "http://127.0.0.1:8080/cb",
                            record_path="runs/replay.jsonl")

Reads the record's ``callback`` lines (exact body text and content type) and delivers the
very same bytes with the retry schedule through the :class:`~emulator.delivery.dispatch.Dispatcher`,
writing a new record (``run`` line, the usual ``callback``/``attempt``/``outcome`` lines,
``summary`` line). Recorded delays are kept.

Only when asked (``resign=True`` and a secret) is a body re-signed: fresh ``timestamp`` and
``nonce``, a new ``signature``, the recorded tamper applied again, re-encoded in the
recorded encoding — for a receiver that rejects stale timestamps.

Which callbacks: every ``callback`` line of the chosen runs (all runs by default), in
record order. A callback re-sent by a later run of the same records (``resume``) with the
same id and body is sent once; a duplicate delivery within one run is sent again.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import ssl as ssl_module
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from emulator.callback.model import TAMPERS, Callback, Tamper
from emulator.callback.tamper import apply_tamper
from emulator.clock import Clock
from emulator.delivery.dispatch import Delivery, DispatchListener
from emulator.delivery.results import Outcome
from emulator.delivery.verdict import default_expectation
from emulator.errors import DecodeError, UsageError
from emulator.events import answer_reader
from emulator.record.reader import Skipped, read_lines
from emulator.retry import RetryPolicy
from emulator.retry import recorded_policy as policy_of_line
from emulator.run.core import CoreResult, RunCore, run_in_cli
from emulator.settings import (
    Layer,
    RunOptions,
    Secret,
    Settings,
    check_url,
    resolve,
    run_line_layer,
)
from emulator.signing import restamp, sign_fields
from emulator.wire import ENCODINGS, Encoding, decode, encode, sniff_encoding


@dataclass(frozen=True)
class RecordedCallback:
    """A ``callback`` line of a record: what was sent, byte for byte."""

    run_id: str
    callback_id: str
    event: str
    task_id: str
    delay: float
    encoding: Encoding
    tamper: Tamper
    content_type: str
    body: bytes
    retry: dict[str, Any] | None = None  # its own retry policy, when not its run's

    def as_callback(self) -> Callback:
        """A Callback whose body is exactly the recorded bytes."""
        try:
            fields = decode(self.body, self.content_type)
        except DecodeError:
            fields = {}  # an undecodable body is still re-sent as it was
        return Callback(
            callback_id=self.callback_id,
            event=self.event,
            task_id=self.task_id,
            fields=fields,
            encoding=self.encoding,
            tamper=self.tamper,
            _body=(self.content_type, self.body),
        )


def recorded_callbacks(
    lines: Iterable[dict[str, Any]], run_ids: Sequence[str] | None = None
) -> list[RecordedCallback]:
    """The callbacks to replay from record lines (see the module docstring for which)."""
    found: list[RecordedCallback] = []
    per_run: Counter[tuple[str, str, bytes]] = Counter()
    kept: Counter[tuple[str, bytes]] = Counter()
    for line in lines:
        if line.get("type") != "callback" or not isinstance(line.get("body"), str):
            continue
        run_id = str(line.get("run_id") or "")
        if run_ids is not None and run_id not in run_ids:
            continue
        item = _recorded(line, run_id)
        per_run[(run_id, item.callback_id, item.body)] += 1
        key = (item.callback_id, item.body)
        if per_run[(run_id, item.callback_id, item.body)] > kept[key]:
            kept[key] += 1
            found.append(item)
    return found


def _recorded(line: dict[str, Any], run_id: str) -> RecordedCallback:
    body = str(line["body"]).encode("utf-8")
    content_type = str(line.get("content_type") or "")
    encoding = line.get("encoding")
    if encoding not in ENCODINGS:
        encoding = sniff_encoding(body, content_type or None)
    tamper = line.get("tamper")
    delay = line.get("delay")
    return RecordedCallback(
        run_id=run_id,
        callback_id=str(line.get("callback_id") or ""),
        event=str(line.get("event") or ""),
        task_id=str(line.get("task_id") or ""),
        delay=float(delay) if isinstance(delay, int | float) and delay >= 0 else 0.0,
        encoding=encoding,
        tamper=tamper if tamper in TAMPERS else "none",
        content_type=content_type or encode({}, encoding)[0],
        body=body,
        retry=line["retry"] if isinstance(line.get("retry"), dict) else None,
    )


def resign_callback(
    callback: Callback, callback_secret: str, now: Callable[[], float] = time.time
) -> Callback:
    """A copy of ``callback`` with a fresh timestamp and nonce, signed (tamper re-applied)."""
    fields = restamp(callback.fields, int(now()), str(100_000 + secrets.randbelow(900_000)))
    return callback.with_fields(
        apply_tamper(sign_fields(fields, callback_secret), callback.tamper, callback_secret)
    )


def recorded_policy(
    lines: Iterable[dict[str, Any]], run_ids: Sequence[str] | None = None
) -> RetryPolicy | None:
    """The retry policy the recorded runs used (their ``run`` lines: intervals, timeout,
    profile, what a retry is for), if they agree on one."""
    found: set[RetryPolicy] = set()
    for line in lines:
        if line.get("type") != "run" or (run_ids is not None and line.get("run_id") not in run_ids):
            continue
        intervals = line.get("intervals")
        if not isinstance(intervals, list) or not all(
            isinstance(gap, int | float) and gap >= 0 for gap in intervals
        ):
            return None
        found.add(policy_of_line(line, RetryPolicy()))
    return found.pop() if len(found) == 1 else None


def load_callbacks(
    record_paths: Sequence[str | os.PathLike[str]], run_ids: Sequence[str] | None = None
) -> list[RecordedCallback]:
    """The callbacks to replay from record files; UsageError when there are none."""
    return _callbacks_or_error(read_lines(record_paths), record_paths, run_ids)


def _callbacks_or_error(
    lines: list[dict[str, Any]],
    record_paths: Sequence[str | os.PathLike[str]],
    run_ids: Sequence[str] | None,
) -> list[RecordedCallback]:
    callbacks = recorded_callbacks(lines, run_ids)
    if not callbacks:
        names = ", ".join(str(p) for p in record_paths)
        which = f" of run {', '.join(run_ids)}" if run_ids else ""
        raise UsageError(f"{names}: no callback lines{which} to replay")
    return callbacks


async def replay(
    record_paths: Sequence[str | os.PathLike[str]],
    target: str,
    *,
    record_path: str | os.PathLike[str] | None = None,
    resign_secret: str | None = None,
    resign_each_attempt: bool = False,
    policy: RetryPolicy | None = None,
    clock: Clock | None = None,
    concurrency: int | None = None,
    ssl: ssl_module.SSLContext | bool = True,
    run_ids: Sequence[str] | None = None,
    listeners: Sequence[DispatchListener] = (),
    stop: asyncio.Event | None = None,
) -> list[Outcome]:
    """Re-send the recorded callbacks to ``target``; one Outcome per callback, in order.

    See :func:`replay_run` (which also says where the record went and what it says).
    """
    result = await replay_run(
        record_paths,
        target,
        record_path=record_path,
        resign_secret=resign_secret,
        resign_each_attempt=resign_each_attempt,
        policy=policy,
        clock=clock,
        concurrency=concurrency,
        ssl=ssl,
        run_ids=run_ids,
        listeners=listeners,
        stop=stop,
    )
    return result.outcomes


async def replay_run(
    record_paths: Sequence[str | os.PathLike[str]],
    target: str,
    *,
    record_path: str | os.PathLike[str] | None = None,
    resign_secret: str | None = None,
    resign_each_attempt: bool = False,
    policy: RetryPolicy | None = None,
    clock: Clock | None = None,
    concurrency: int | None = None,
    ssl: ssl_module.SSLContext | bool = True,
    run_ids: Sequence[str] | None = None,
    listeners: Sequence[DispatchListener] = (),
    stop: asyncio.Event | None = None,
) -> ReplayResult:
    """Re-send the recorded callbacks to ``target``, on the run core (a new record).

    ``resign_secret`` re-signs every body once before sending (``resign_each_attempt``:
    before every retry too); without it the recorded bytes go out unchanged. ``policy``
    defaults to the one the recorded run used (its ``run`` line), else ZEGO's;
    ``concurrency`` likewise. ``stop`` set (Ctrl-C) ends it early; the summary is written
    either way.
    """
    check_url(target)
    lines = read_lines(record_paths)
    callbacks = _callbacks_or_error(lines, record_paths, run_ids)
    options = RunOptions(
        target=target,
        secret=Secret(resign_secret, "resign_secret") if resign_secret else None,
        concurrency=concurrency,
        record=Path(record_path) if record_path else None,
        clock=clock,
        tls=ssl,
    )
    layer = replay_layer(lines, record_paths, run_ids, policy)
    settings = resolve(options, layer=layer, name="replay", quiet=True)
    return await _replay(
        settings,
        callbacks,
        record_paths,
        resign=bool(resign_secret),
        resign_each_attempt=resign_each_attempt,
        listeners=listeners,
        stop=stop,
    )


def replay_layer(
    lines: Sequence[dict[str, Any]],
    record_paths: Sequence[str | os.PathLike[str]],
    run_ids: Sequence[str] | None = None,
    policy: RetryPolicy | None = None,
) -> Layer:
    """What the recorded runs say below the flags: their retry policy and concurrency
    (when the runs agree on one; ``policy`` given replaces theirs)."""
    runs = [
        line
        for line in lines
        if line.get("type") == "run" and (run_ids is None or line.get("run_id") in run_ids)
    ]
    names = ", ".join(str(path) for path in record_paths)
    concurrency = {
        found
        for found in (run_line_layer(line, names).concurrency for line in runs)
        if found is not None
    }
    return Layer(
        source=names,
        policy=policy or recorded_policy(lines, run_ids),
        concurrency=concurrency.pop() if len(concurrency) == 1 else None,
    )


async def _replay(
    settings: Settings,
    callbacks: Sequence[RecordedCallback],
    record_paths: Sequence[str | os.PathLike[str]],
    *,
    resign: bool,
    resign_each_attempt: bool = False,
    listeners: Sequence[DispatchListener] = (),
    stop: asyncio.Event | None = None,
) -> ReplayResult:
    """The replay itself, on resolved settings (their secret re-signs when ``resign``)."""
    assert settings.target is not None
    target, policy = settings.target, settings.policy
    deliveries = []
    for item in callbacks:
        callback = item.as_callback()
        hook: Callable[[Callback], Callback] | None = None
        if resign:
            secret = settings.secret.value
            callback = resign_callback(callback, secret)
            if resign_each_attempt or policy.resign_each_attempt:
                hook = lambda cb, secret=secret: resign_callback(cb, secret)  # noqa: E731
        own = None if item.retry is None else policy_of_line(item.retry, policy)
        expect = default_expectation(item.tamper)  # a tampered callback must be refused
        deliveries.append(
            Delivery(
                callback,
                target,
                delay=item.delay,
                resign=hook,
                read_answer=answer_reader(callback.event),
                policy=own,
                expect=expect,
            )
        )
    extra = {
        "encoding": _encoding_of(callbacks),  # "mixed" when the callbacks differ
        "scenario": f"replay of {', '.join(Path(p).name for p in record_paths)}",
        "replay_of": [str(p) for p in record_paths],
        "resigned": resign,
    }
    core = RunCore(
        settings,
        planned=len(deliveries),
        listeners=listeners,
        run_id=f"replay-{uuid.uuid4().hex[:12]}",
        run_extra=extra,
    )
    outcomes: list[Outcome] = []

    async def send() -> None:
        outcomes.extend(await core.dispatcher.deliver_all(deliveries))

    async with core:
        await core.run(send(), stop)
    assert core.result is not None and core.record_path is not None
    return ReplayResult(core.result, core.record_path, outcomes)


@dataclass
class ReplayResult:
    """A replay's run (its summary line) and record, and its outcomes in callback order."""

    run: CoreResult
    record_path: Path
    outcomes: list[Outcome]
    skipped: Skipped = field(default_factory=Skipped)  # lines the reader skipped


def _encoding_of(callbacks: Sequence[RecordedCallback]) -> str:
    kinds = {item.encoding for item in callbacks}
    return kinds.pop() if len(kinds) == 1 else "mixed"


def replay_from_cli(
    record_paths: Sequence[str], options: RunOptions, *, resign: bool = False
) -> ReplayResult:
    """``zego-emulator run --replay RECORD --target URL [--resign]``, run from the CLI.

    Settings: flags > the recorded runs (retry policy and timeout, concurrency) > the
    environment (``ZEGO_CALLBACK_SECRET``, with ``--resign``) > the defaults. Every flag is
    checked before anything is sent (a bad one is exit 2, one line); Ctrl-C stops it with
    the summary written.
    """
    if not options.target:
        raise UsageError("run --replay needs --target URL (where to re-send the callbacks)")
    if not record_paths:
        raise UsageError("run --replay needs a record file")
    if options.secret is not None and not resign:
        raise UsageError("--secret with --replay is used only with --resign")
    resolve(options, layer=Layer(source="run --replay"), quiet=True)  # the flags, up front
    skipped = Skipped()
    lines = read_lines(record_paths, skipped)
    callbacks = _callbacks_or_error(lines, record_paths, None)
    settings = resolve(
        options, layer=replay_layer(lines, record_paths), name="replay", quiet=not resign
    )
    result = run_in_cli(
        lambda stop: _replay(settings, callbacks, record_paths, resign=resign, stop=stop)
    )
    result.skipped = skipped
    return result
