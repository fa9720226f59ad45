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
from dataclasses import replace
from typing import TYPE_CHECKING

from emulator.errors import UsageError
from emulator.run.core import RunCore, run_in_cli
from emulator.run.interrupt import stop_on_signals
from emulator.servers.mockapi import DEFAULT_PORT, DEFAULT_PROCESSING_TIME, MockApi
from emulator.servers.start import DEFAULT_HOST
from emulator.sessions import SessionEntry
from emulator.settings import RunOptions, Secret, Settings, resolve, scenario_layer

if TYPE_CHECKING:
    from emulator.scenario.model import Scenario

NO_CALLBACK = "none (tasks finish, no callback is sent; see --callback-url)"


def api_settings(
    options: RunOptions, sessions: Scenario | None = None, source: str | None = None
) -> Settings:
    """The mock API's settings: flags > the ``--sessions`` scenario (its ``secret_env:``,
    ``retry:``, ``encoding:``, ``seed:``, ``concurrency:``; never its target, AppId or
    speed: callbacks go to ``--callback-url`` only) > the environment
    (``ZEGO_CALLBACK_SECRET``) > the defaults."""
    layer = None
    if sessions is not None:
        layer = replace(
            scenario_layer(sessions, source), name=None, target=None, app_id=None, speed=None
        )
    options = replace(options, target_flag="--callback-url", secret_flag="--callback-secret")
    if options.app_id is not None and not (
        options.app_id.isdigit() and int(options.app_id) < 2**32
    ):
        raise UsageError(f"--app-id must be a uint32 number, got {options.app_id!r}")
    return resolve(
        options, layer=layer, name="api", need_target=False, quiet=options.target is None
    )


def run_api(
    settings: Settings,
    *,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    server_secret: Secret,
    processing_time: float = DEFAULT_PROCESSING_TIME,
    fail_file_ids: Sequence[str] = (),
    out: Callable[[str], None],
    sessions: Sequence[SessionEntry] = (),
) -> int:
    """Serve the mock API until Ctrl-C, saying where first and each call as it comes
    (``settings``: see :func:`api_settings`)."""
    callback_url, app_id = settings.target, settings.app_id
    core = RunCore(
        settings,
        planned=None,
        record=settings.record is not None,
        run_id=f"api-{uuid.uuid4().hex[:12]}",
    )

    async def main(stop: asyncio.Event) -> MockApi:
        async with core:
            api = MockApi.from_settings(
                settings,
                server_secret=server_secret.value,
                run_id=core.run_id,
                processing_time=processing_time,
                fail_file_ids=fail_file_ids,
                log=out,
                sessions=sessions,
                dispatcher=core.dispatcher,
            )

            def ready(url: str) -> None:
                out(f"listening on {url}  (mock ZEGO server API; Ctrl-C to stop)")
                out(f"  AppId            {app_id or 'any'}")
                out(f"  server secret    from {server_secret.source}")
                out(f"  callbacks to     {callback_url or NO_CALLBACK}")
                if callback_url:
                    out(
                        f"  callback secret  from {settings.secret.source}; "
                        f"encoding {settings.encoding}"
                    )
                speed = settings.clock.speed
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


async def serve(
    api: MockApi,
    host: str,
    port: int,
    on_ready: Callable[[str], None],
    stop: asyncio.Event | None = None,
) -> None:
    """Run ``api`` on ``host:port`` until ``stop`` is set, Ctrl-C or SIGTERM arrives or the
    task is cancelled; ``on_ready(url)`` once listening."""
    stop = stop or asyncio.Event()
    server = await api.start(host, port)
    try:
        with stop_on_signals(stop):
            on_ready(server.url)
            await stop.wait()
    finally:
        await server.stop()
