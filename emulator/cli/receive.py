"""``zego-emulator receive``: its flags and its handler."""

from __future__ import annotations

import argparse
import sys

from emulator.cli.common import (
    Formatter,
    add_bind_flags,
    add_secret_flag,
    integer,
    non_negative_float,
)
from emulator.errors import EXIT_INTERRUPTED


def add_receive(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "receive",
        help="a local receiver that verifies, decodes and prints callbacks",
        formatter_class=Formatter,
        description="A local ZEGO callback receiver. Decodes all three encodings, verifies the\n"
        "signature, rejects stale timestamps (401), a different body under an accepted\n"
        "timestamp and nonce (409), undecodable bodies (400) and bodies over 1 MiB (413);\n"
        "acknowledges an exact re-delivery of an accepted callback (200, not processed\n"
        "again); prints each callback and answers from a script. Runs until Ctrl-C.\n"
        "  zego-emulator receive --port 8080 --respond 500,500,200",
    )
    add_bind_flags(parser, default_port=8080)
    parser.add_argument(
        "--path", default="/zego/callback", help="callback path shown (POST on any path works)"
    )
    add_secret_flag(parser)
    parser.add_argument(
        "--max-age",
        type=non_negative_float,
        default=300.0,
        metavar="SECONDS",
        help="reject timestamps older than this (0: no freshness check)",
    )
    script = parser.add_mutually_exclusive_group()
    script.add_argument(
        "--respond",
        default="200",
        metavar="CODES",
        help="statuses to answer in order, the last one repeating (e.g. 500,500,200); one "
        "script shared by all callbacks: the 1st request of any callback gets 500, the 2nd 500",
    )
    script.add_argument(
        "--respond-per-task",
        metavar="CODES",
        help="like --respond, but each task id gets the script from its start: with "
        "500,500,200 every callback is refused twice and accepted on its third request",
    )
    parser.add_argument(
        "--delay", type=non_negative_float, default=0.0, metavar="S", help="wait S s to answer"
    )
    parser.add_argument(
        "--replay-status",
        type=integer,
        default=200,
        metavar="CODE",
        help="answer to an exact re-delivery of an accepted callback (200: acknowledged, "
        "as an idempotent receiver does; 409 refuses it, and the sender retries it until lost)",
    )
    parser.add_argument(
        "--answer",
        metavar="BODY",
        help="the body of every 2xx (default ok); a JSON object is sent as application/json, "
        """e.g. a hook's decision for ZIM's before_send_msg: '{"result": 1}'""",
    )
    answer = parser.add_mutually_exclusive_group()
    answer.add_argument("--hang", action="store_true", help="never answer")
    answer.add_argument("--reset", action="store_true", help="close the connection, no answer")
    parser.add_argument("--record", metavar="PATH", help="append what is received (JSON Lines)")
    parser.add_argument("--json", action="store_true", help="one JSON object per callback")
    parser.set_defaults(handler=_cmd_receive)


def _cmd_receive(args: argparse.Namespace) -> int:
    from emulator import settings as config
    from emulator.errors import UsageError
    from emulator.servers.receiver import parse_responses
    from emulator.term.receive import run_receiver

    if not 200 <= args.replay_status <= 599:  # a 1xx is not a final answer
        raise UsageError(f"--replay-status must be from 200 to 599, got {args.replay_status}")
    try:
        flag, text = (
            ("--respond-per-task", args.respond_per_task)
            if args.respond_per_task is not None
            else ("--respond", args.respond)
        )
        responses = parse_responses(text)
    except ValueError as exc:
        raise UsageError(f"{flag}: {exc}") from None
    secret = config.resolve_secret(args.secret)
    try:
        run_receiver(
            secret.value,
            host=args.host,
            port=args.port,
            path=args.path,
            max_age=args.max_age or None,
            responses=responses,
            per_task=args.respond_per_task is not None,
            delay=args.delay,
            hang=args.hang,
            reset=args.reset,
            record=args.record,
            as_json=args.json,
            replay_status=args.replay_status,
            answer=args.answer,
        )
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise UsageError(f"cannot listen on {args.host}:{args.port}: {reason}") from None
    print("zego-emulator receive: interrupted", file=sys.stderr)  # Ctrl-C or SIGTERM
    return EXIT_INTERRUPTED
