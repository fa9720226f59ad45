"""``zego-emulator api``: the mock server API served on the run core until Ctrl-C.

The core owns the record (``--record``), its ``run`` line and the ``summary`` line, and the
one Dispatcher every task's callback is fired through; :class:`~emulator.servers.mockapi.MockApi`
answers the calls. The first Ctrl-C (or SIGTERM) stops serving; callbacks still retrying
then are cancelled and counted as pending.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path

from emulator.clock import ScaledClock
from emulator.errors import UsageError
from emulator.retry import RetryPolicy
from emulator.run.core import RunCore, run_in_cli
from emulator.servers.mockapi import DEFAULT_PORT, DEFAULT_PROCESSING_TIME, MockApi, serve
from emulator.servers.start import DEFAULT_HOST
from emulator.sessions import SessionEntry
from emulator.settings import DEFAULT_CONCURRENCY, Secret, Settings, check_url
from emulator.wire import Encoding

NO_CALLBACK = "none (tasks finish, no callback is sent; see --callback-url)"


def run_api(
    *,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    app_id: str | None = None,
    server_secret: Secret,
    callback_url: str | None = None,
    callback_secret: Secret,
    speed: float = 1.0,
    record: str | None = None,
    processing_time: float = DEFAULT_PROCESSING_TIME,
    fail_file_ids: Sequence[str] = (),
    encoding: Encoding = "json",
    seed: int | None = None,
    timeout: float | None = None,
    out: Callable[[str], None],
    sessions: Sequence[SessionEntry] = (),
) -> int:
    """Serve the mock API until Ctrl-C, saying where first and each call as it comes."""
    if app_id is not None and not (app_id.isdigit() and int(app_id) < 2**32):
        raise UsageError(f"--app-id must be a uint32 number, got {app_id!r}")
    if callback_url is not None:
        check_url(callback_url, "--callback-url")
    settings = Settings(
        name="api",
        target=callback_url,
        secret=callback_secret,
        app_id=app_id,
        encoding=encoding,
        seed=seed,
        policy=RetryPolicy(timeout=timeout) if timeout else RetryPolicy(),
        clock=ScaledClock(speed),
        concurrency=DEFAULT_CONCURRENCY,
        tls=True,
        record=Path(record) if record else None,
    )
    core = RunCore(
        settings, planned=None, record=record is not None, run_id=f"api-{uuid.uuid4().hex[:12]}"
    )

    async def main(stop: asyncio.Event) -> MockApi:
        async with core:
            api = MockApi(
                app_id=app_id,
                server_secret=server_secret.value,
                callback_url=callback_url,
                callback_secret=callback_secret.value,
                clock=settings.clock,
                policy=settings.policy,
                run_id=core.run_id,
                processing_time=processing_time,
                fail_file_ids=fail_file_ids,
                encoding=encoding,
                seed=seed,
                log=out,
                sessions=sessions,
                dispatcher=core.dispatcher,
            )

            def ready(url: str) -> None:
                out(f"listening on {url}  (mock ZEGO server API; Ctrl-C to stop)")
                out(f"  AppId            {app_id or 'any'}")
                out(f"  server secret    from {server_secret.source}")
                target = (
                    callback_url or "none (tasks finish, no callback is sent; see --callback-url)"
                )
                out(f"  callbacks to     {target}")
                if callback_url:
                    out(f"  callback secret  from {callback_secret.source}; encoding {encoding}")
                out(f"  processing time  {processing_time:g} s at speed {speed:g}")
                if fail_file_ids:
                    out(f"  failing FileIds  {', '.join(fail_file_ids)}")
                if sessions:
                    out(f"  sessions         {len(api.world.rooms)} room(s) running")
                if core.record_path is not None:
                    out(f"  record           {core.record_path}")

            try:
                await core.run(serve(api, host, port, ready, stop=stop))
            except OSError as exc:
                raise UsageError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
            finally:
                fired = sum(1 for task in api.tasks.values() if task.callback_id is not None)
                core.planned = fired + len(api.fired)  # task callbacks, room/stream callbacks
        return api

    api = run_in_cli(main)
    assert core.result is not None
    summary = core.result.summary
    out(
        f"stopped: {_count(len(api.tasks), 'task')} started, "
        f"{_count(summary['callbacks'], 'callback')} fired ({summary['delivered']} delivered, "
        f"{summary['lost']} lost, {summary['pending']} still retrying)"
    )
    return 0


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"
