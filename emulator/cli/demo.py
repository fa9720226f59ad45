"""``zego-emulator demo``: its flags and its handler."""

from __future__ import annotations

import argparse

from emulator.cli.common import Formatter, speed


def add_demo(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "demo",
        help="the whole flow offline: receiver + scenario + retry timeline",
        formatter_class=Formatter,
        description="Start a receiver on a free port of 127.0.0.1 and deliver three callbacks\n"
        "to it with ZEGO's retry schedule: one accepted at once, one refused twice then\n"
        "accepted, one refused until it is lost (62 s). Shows the live retry timeline and\n"
        "the summary, and writes a record. Takes about 10 s (--real-time: 62 s).",
    )
    pace = parser.add_mutually_exclusive_group()
    pace.add_argument(
        "--speed",
        type=speed,
        default=6.2,
        metavar="X",
        help="divide every wait by X (6.2: the 62 s schedule in 10 s)",
    )
    pace.add_argument("--real-time", action="store_true", help="the true schedule (speed 1, 62 s)")
    parser.add_argument(
        "--record", metavar="PATH", help="record file (default runs/<UTC time>-demo.jsonl)"
    )
    parser.add_argument(
        "--no-live", action="store_true", help="plain lines instead of the live timeline"
    )
    parser.set_defaults(handler=_cmd_demo)


def _cmd_demo(args: argparse.Namespace) -> int:
    from emulator.term.demo import run_demo

    return run_demo(
        speed=1.0 if args.real_time else args.speed,
        record=args.record,
        live=False if args.no_live else None,
    )
