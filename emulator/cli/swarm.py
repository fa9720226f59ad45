"""``zego-emulator swarm``: its flags and its handler."""

from __future__ import annotations

import argparse

from emulator.cli.common import (
    ENCODING_CHOICES,
    Formatter,
    add_secret_flag,
    integer,
    port,
    positive_float,
    positive_int,
)


def add_swarm(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "swarm",
        help="load past one machine: callbacks over Locust's distributed runner ([locust])",
        formatter_class=Formatter,
        description="Load mode over Locust's master/worker processes (pip install\n"
        "'zego-callback-emulator[locust]'): R new callbacks a second for D seconds across\n"
        "the workers, each signed and retried on ZEGO's schedule in a greenlet of its own;\n"
        "every attempt in Locust's statistics and in its worker's record shard\n"
        "(<record-dir>/<swarm id>-w<N>.jsonl: `report SHARDS...`, `resume SHARD`).\n"
        "One machine, a master and N local workers:\n"
        "  zego-emulator swarm --target URL --rate 2000 --duration 60 --workers 2\n"
        "Several machines:\n"
        "  zego-emulator swarm --master --master-bind-host 0.0.0.0 --expect-workers 4 \\\n"
        "      --target URL --rate 8000 --duration 60\n"
        "  zego-emulator swarm --worker --master-host 10.0.0.1      (on each worker machine)\n"
        "Headless unless --web (Locust's UI, 127.0.0.1:8089 unless told). Exit 0 when the\n"
        "run completed, 1 when a worker went away, 2 on bad input, 130 interrupted.",
    )
    parser.add_argument(
        "scenario", nargs="?", metavar="SCENARIO", help="scenario file (default: procedure)"
    )
    role = parser.add_argument_group("role (default: a master and --workers N on this machine)")
    role.add_argument("--master", action="store_true", help="only the master; workers connect")
    role.add_argument("--worker", action="store_true", help="only a worker of --master-host")
    role.add_argument(
        "--workers", type=positive_int, metavar="N", help="local worker processes (default 1)"
    )
    role.add_argument(
        "--expect-workers",
        type=positive_int,
        metavar="N",
        help="--master: start once N workers are connected (default 1)",
    )
    role.add_argument(
        "--master-bind-host",
        metavar="HOST",
        help="--master: address to listen on (default 127.0.0.1; 0.0.0.0 for other machines)",
    )
    role.add_argument(
        "--master-bind-port",
        type=port,
        metavar="P",
        help="--master: port to listen on (default 5557; 0: any free port, printed)",
    )
    role.add_argument("--master-host", metavar="HOST", help="--worker: the master's address")
    role.add_argument(
        "--master-port",
        type=port,
        metavar="P",
        help="--worker: the master's port (default 5557)",
    )
    work = parser.add_argument_group("the work (master or one machine)")
    work.add_argument("--target", metavar="URL", help="the receiver URL to POST to")
    work.add_argument(
        "--rate", type=positive_float, metavar="R", help="new callbacks a second, all workers"
    )
    work.add_argument(
        "--duration",
        type=positive_float,
        metavar="SECONDS",
        help="how long new callbacks start (default 10)",
    )
    work.add_argument(
        "--speed",
        type=positive_float,
        metavar="X",
        help="divide every wait by X (retry gaps 2, 4, 8, 16, 32 s and the pacing)",
    )
    work.add_argument(
        "--timeout",
        type=positive_float,
        metavar="SECONDS",
        help="per-request timeout in real seconds (default 5)",
    )
    work.add_argument(
        "--concurrency",
        type=positive_int,
        metavar="N",
        help="requests in flight at most, per worker (default 100)",
    )
    work.add_argument("--app-id", metavar="ID", help="appid field (default: faked, one for all)")
    work.add_argument("--encoding", choices=ENCODING_CHOICES, help="body encoding")
    work.add_argument("--seed", type=integer, metavar="N", help="seed for fake data")
    out = parser.add_argument_group("output")
    out.add_argument(
        "--record-dir",
        metavar="DIR",
        help="where workers write their shards (default runs; --master: its local workers)",
    )
    out.add_argument("--web", action="store_true", help="serve Locust's web UI")
    out.add_argument("--web-host", metavar="HOST", help="web UI address (default 127.0.0.1)")
    out.add_argument("--web-port", type=port, metavar="P", help="web UI port (default 8089)")
    out.add_argument("--csv", metavar="PREFIX", help="Locust's CSV statistics: PREFIX_stats.csv...")
    out.add_argument("--html", metavar="FILE", help="Locust's HTML report")
    out.add_argument("--json", action="store_true", help="our summary as JSON")
    add_secret_flag(parser)
    parser.set_defaults(handler=_cmd_swarm)


def _cmd_swarm(args: argparse.Namespace) -> int:
    from emulator.swarm.command import SwarmArgs, swarm_command

    return swarm_command(SwarmArgs(**{name: getattr(args, name) for name in SwarmArgs.fields()}))
