"""``python -m bench [NAME ...] [--quick] [--json FILE]``: run benchmarks, print their ratios."""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from bench import BENCHMARKS, Result, machine


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Benchmarks of zego-callback-emulator, printed as ratios against their "
        "baselines. With no name, every benchmark runs.",
    )
    parser.add_argument(
        "names", nargs="*", metavar="NAME", help=f"benchmarks to run: {', '.join(BENCHMARKS)}"
    )
    parser.add_argument(
        "--quick", action="store_true", help="tiny sizes (a smoke test of the harness)"
    )
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    parser.add_argument(
        "--callbacks", type=int, help="throughput/burst/virtual/swarm: callbacks to send"
    )
    parser.add_argument("--concurrency", type=int, help="throughput/burst: requests in flight")
    parser.add_argument(
        "--rounds", type=int, help="throughput/burst/startup/swarm: repetitions (best kept)"
    )
    parser.add_argument("--rates", help="load: comma-separated rates (callbacks a second)")
    parser.add_argument("--duration", type=float, help="load: seconds at each rate")
    parser.add_argument(
        "--loop", choices=("asyncio", "uvloop"), help="load: the event loop the emulator runs on"
    )
    parser.add_argument("--sizes", help="lateness: comma-separated callback counts")
    parser.add_argument("--speed", type=float, help="lateness: clock speed (default 10)")
    parser.add_argument("--schedules", type=int, help="scale: pending schedules")
    return parser


def options_for(name: str, args: argparse.Namespace) -> dict[str, object]:
    """The keyword arguments of one benchmark's ``run`` that were given on the command line."""
    wanted = {
        "throughput": ("callbacks", "concurrency", "rounds"),
        "burst": ("callbacks", "concurrency", "rounds"),
        "load": ("rates", "duration", "loop"),
        "lateness": ("sizes", "speed"),
        "scale": ("schedules",),
        "virtual": ("callbacks",),
        "startup": ("rounds",),
        "hostile": (),
        "swarm": ("callbacks", "rounds"),
        "report": (),
    }[name]
    options: dict[str, object] = {}
    for key in wanted:
        value = getattr(args, key)
        if value is None:
            continue
        if key in ("sizes", "rates"):
            value = tuple(int(size) for size in str(value).split(","))
        options[key] = value
    return options


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    names = args.names or list(BENCHMARKS)
    unknown = [name for name in names if name not in BENCHMARKS]
    if unknown:
        expected = ", ".join(BENCHMARKS)
        print(f"unknown benchmark {unknown[0]!r}; expected {expected}", file=sys.stderr)
        return 2
    print(machine(), flush=True)
    results: list[Result] = []
    for name in names:
        module = importlib.import_module(f"bench.{name}")
        result: Result = module.run(quick=args.quick, **options_for(name, args))
        results.append(result)
        print(result.text(), flush=True)
    if args.json:
        payload = {"machine": machine(), "results": [result.as_dict() for result in results]}
        Path(args.json).write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
