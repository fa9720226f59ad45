"""``zego-emulator swarm``: flags checked and resolved once, then the swarm's processes.

    zego-emulator swarm --target URL --rate R --duration D [--workers N] [SCENARIO]
    zego-emulator swarm --master --expect-workers N [--master-bind-port P] --target ...
    zego-emulator swarm --worker --master-host HOST [--master-port P]

Everything a user can get wrong is found here, before any process starts, and is one
:class:`UsageError` line (exit 2): Locust not installed, roles mixed, a flag that the role
does not take, a bad scenario or target. No gevent in this process: the master and the
workers run as ``python -m emulator.swarm`` (see :mod:`emulator.swarm.launch`).
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from pathlib import Path
from typing import cast

from emulator.errors import UsageError
from emulator.swarm import EXTRA_MISSING, locust_installed
from emulator.swarm.launch import (
    DEFAULT_MASTER_PORT,
    LOOPBACK,
    SECRET_FLAG_ENV,
    MasterOptions,
    master_command,
    master_input,
    run_child,
    worker_command,
)
from emulator.swarm.plan import (
    DEFAULT_CONCURRENCY,
    SCENARIO_NAME,
    SwarmPlan,
    new_swarm_id,
    scenario_values,
)
from emulator.wire import Encoding

DEFAULT_DURATION = 10.0  # seconds, as load mode
DEFAULT_RECORD_DIR = "runs"
WORKER_TAKES = {"master_host", "master_port", "record_dir", "secret", "worker"}
MASTER_ONLY = ("expect_workers", "master_bind_host", "master_bind_port")


@dataclass
class SwarmArgs:
    """The command's flags as parsed (None: not given)."""

    scenario: str | None = None
    master: bool = False
    worker: bool = False
    workers: int | None = None
    expect_workers: int | None = None
    master_bind_host: str | None = None
    master_bind_port: int | None = None
    master_host: str | None = None
    master_port: int | None = None
    target: str | None = None
    rate: float | None = None
    duration: float | None = None
    speed: float | None = None
    timeout: float | None = None
    concurrency: int | None = None
    app_id: str | None = None
    encoding: str | None = None
    seed: int | None = None
    record_dir: str | None = None
    web: bool = False
    web_host: str | None = None
    web_port: int | None = None
    csv: str | None = None
    html: str | None = None
    json: bool = False
    secret: str | None = None

    @classmethod
    def fields(cls) -> list[str]:
        return [item.name for item in dataclasses.fields(cls)]

    def given(self, name: str) -> bool:
        value = getattr(self, name)
        return value not in (None, False)


def swarm_command(args: SwarmArgs) -> int:
    """Check the flags, then run this machine's part of the swarm; the exit code."""
    if not locust_installed():
        raise UsageError(EXTRA_MISSING)
    if args.master and args.worker:
        raise UsageError("give --master or --worker, not both")
    env = _child_env(args)
    if args.worker:
        return run_child(_worker_argv(args), env=env)
    if not args.master:
        for name in MASTER_ONLY:
            if args.given(name):
                raise UsageError(f"--{_flag(name)} goes with --master")
    if args.master and args.workers is not None:
        raise UsageError("--workers starts local workers: without --master (or use --worker)")
    for name in ("master_host", "master_port"):
        if args.given(name):
            raise UsageError(f"--{_flag(name)} goes with --worker")
    if args.master and args.secret:
        raise UsageError("the master signs nothing: give --secret (or the variable) to workers")
    plan = build_plan(args)
    options = _master_options(args, plan)
    return run_child(master_command(), stdin_text=master_input(plan, options), env=env)


def build_plan(args: SwarmArgs) -> SwarmPlan:
    """The plan every worker gets, from the flags and the (optional) scenario file."""
    from emulator.callback.factory import CallbackFactory
    from emulator.scenario.model import Scenario
    from emulator.scenario.reader import load_scenario
    from emulator.settings import url_problem

    default_encoding: Encoding = Scenario.model_fields["encoding"].default

    scenario = load_scenario(args.scenario) if args.scenario else None
    target = args.target or (scenario.target if scenario is not None else None)
    if not target:
        raise UsageError("swarm needs a target: give --target URL or a scenario with target:")
    problem = url_problem(target)
    if problem:
        raise UsageError(f"--target: {problem}")
    if args.rate is None:
        raise UsageError("swarm needs --rate R (new callbacks a second, all workers together)")
    seed = args.seed if args.seed is not None else (scenario.seed if scenario else None)
    encoding: Encoding = cast(Encoding, args.encoding) if args.encoding else default_encoding
    if scenario is not None and not args.encoding:
        encoding = scenario.encoding
    app_id = args.app_id or (scenario.app_id if scenario else None)
    workers = args.expect_workers or args.workers or 1
    return SwarmPlan(
        swarm_id=new_swarm_id(),
        target=target,
        rate=args.rate,
        duration=args.duration or DEFAULT_DURATION,
        speed=args.speed or (scenario.speed if scenario and scenario.speed else 1.0),
        workers=workers,
        encoding=encoding,
        seed=seed,
        app_id=app_id or CallbackFactory(seed=seed).app_id,  # one appid for every worker
        timeout=args.timeout,
        concurrency=args.concurrency
        or (scenario.concurrency if scenario and scenario.concurrency else DEFAULT_CONCURRENCY),
        scenario=scenario_values(scenario) if scenario else None,
        scenario_name=scenario.name if scenario else SCENARIO_NAME,
    )


def _master_options(args: SwarmArgs, plan: SwarmPlan) -> MasterOptions:
    local = 0 if args.master else plan.workers
    record_dir = args.record_dir or DEFAULT_RECORD_DIR
    if local:
        _check_record_dir(record_dir)
    elif args.record_dir:
        raise UsageError("--master records nothing itself: give --record-dir to the workers")
    return MasterOptions(
        expect_workers=plan.workers,
        bind_host=args.master_bind_host or LOOPBACK,
        bind_port=_bind_port(args),
        local_workers=local,
        record_dir=record_dir,
        web=args.web,
        web_host=args.web_host or LOOPBACK,
        web_port=args.web_port or 8089,
        csv_prefix=args.csv,
        html_path=args.html,
        json_summary=args.json,
    )


def _bind_port(args: SwarmArgs) -> int:
    """--master: the given port or Locust's; one machine: any free port (nobody connects)."""
    if not args.master:
        return 0
    return DEFAULT_MASTER_PORT if args.master_bind_port is None else args.master_bind_port


def _worker_argv(args: SwarmArgs) -> list[str]:
    extra = [name for name in SwarmArgs.fields() if args.given(name) and name not in WORKER_TAKES]
    if extra:
        raise UsageError(
            f"--worker takes its work from the master: drop --{_flag(extra[0])} "
            "(a worker takes --master-host, --master-port, --record-dir and --secret)"
        )
    if not args.master_host:
        raise UsageError("--worker needs --master-host HOST (the machine running --master)")
    record_dir = args.record_dir or DEFAULT_RECORD_DIR
    _check_record_dir(record_dir)
    return worker_command(args.master_host, args.master_port or DEFAULT_MASTER_PORT, record_dir)


def _check_record_dir(record_dir: str) -> None:
    path = Path(record_dir)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"--record-dir {record_dir}: cannot create it: {exc.strerror}") from None
    if not os.access(path, os.W_OK):
        raise UsageError(f"--record-dir {record_dir}: not writable")


def _child_env(args: SwarmArgs) -> dict[str, str]:
    """This process's environment, plus ``--secret`` for the workers (never on a command
    line of theirs: ``ps`` shows those)."""
    env = dict(os.environ)
    env.pop(SECRET_FLAG_ENV, None)
    if args.secret:
        env[SECRET_FLAG_ENV] = args.secret
    return env


def _flag(name: str) -> str:
    return name.replace("_", "-")
