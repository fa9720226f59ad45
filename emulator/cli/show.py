"""``zego-emulator show``: its flags and its handler."""

from __future__ import annotations

import argparse

from emulator.cli.common import Formatter, add_payload_flags, add_secret_flag


def add_show(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "show",
        help="dry run: print the exact requests `run` would send, with curl lines",
        formatter_class=Formatter,
        description="Dry run, no network: print each request `run` would send (method, URL,\n"
        "headers, body as sent, decoded fields) and a ready curl line for it. The secret is\n"
        "only used to sign; it is never printed.",
    )
    parser.add_argument("scenario", metavar="SCENARIO", help="scenario file")
    parser.add_argument("--target", metavar="URL", help="the receiver URL to show")
    add_secret_flag(parser)
    add_payload_flags(parser)
    parser.add_argument("--json", action="store_true", help="print the requests as JSON")
    parser.set_defaults(handler=_cmd_show)


def _cmd_show(args: argparse.Namespace) -> int:
    from emulator.settings import RunOptions
    from emulator.term.commands import show_command

    return show_command(args.scenario, RunOptions.from_args(args))
