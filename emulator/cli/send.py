"""``zego-emulator send``: its flags and its handler."""

from __future__ import annotations

import argparse

from emulator.cli.common import Formatter, add_delivery_flags, add_payload_flags, add_secret_flag


def add_send(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "send",
        help="deliver one callback built from flags (no scenario file)",
        formatter_class=Formatter,
        description="Build one callback from flags, like `stripe trigger`, and deliver it with\n"
        "the same retry schedule and recording as `run`. Exit 0 when it was delivered,\n"
        "1 when it was lost.\n"
        "  zego-emulator send --target http://127.0.0.1:8080/zego/callback \\\n"
        "      --status SUCCESS --resolution 540p --resolution 720p",
    )
    parser.add_argument(
        "--event",
        default="procedure",
        metavar="EVENT",
        help="callback event: procedure (default), compose, snapshot, or any other event "
        "module in emulator/events",
    )
    parser.add_argument("--status", metavar="S", help="procedure status: SUCCESS or FAILED")
    parser.add_argument(
        "--resolution",
        action="append",
        default=[],
        choices=("360p", "540p", "720p"),
        help="a transcoded output (repeat for several)",
    )
    parser.add_argument("--task-id", metavar="ID", help="task_id (default: faked)")
    parser.add_argument(
        "--file-id", metavar="ID", help="file_id (snapshot: field_id; default: faked)"
    )
    parser.add_argument(
        "--tamper",
        default="none",
        choices=("none", "bad_signature", "stale_timestamp", "missing_signature"),
        help="deliberate defect",
    )
    parser.add_argument(
        "--field",
        action="append",
        default=[],
        metavar="K=V",
        help="add or replace a top-level wire field after signing (repeatable)",
    )
    add_secret_flag(parser)
    add_payload_flags(parser)
    add_delivery_flags(parser)
    parser.add_argument(
        "--builtin-receiver",
        action="store_true",
        help="start a built-in receiver (answers 200) on 127.0.0.1 and send there: try a "
        "callback with no endpoint of your own",
    )
    parser.set_defaults(handler=_cmd_send)


def _cmd_send(args: argparse.Namespace) -> int:
    from emulator.errors import UsageError
    from emulator.run.runner import SendSpec
    from emulator.settings import RunOptions
    from emulator.term.commands import send_command

    fields: dict[str, str] = {}
    for item in args.field:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise UsageError(f"--field {item!r}: expected KEY=VALUE")
        fields[name] = value
    spec = SendSpec(
        event=args.event,
        status=args.status,
        resolutions=list(args.resolution),
        task_id=args.task_id,
        file_id=args.file_id,
        tamper=args.tamper,
        fields=fields,
    )
    return send_command(spec, RunOptions.from_args(args))
