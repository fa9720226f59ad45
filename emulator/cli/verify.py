"""``zego-emulator verify``: its flags and its handler."""

from __future__ import annotations

import argparse

from emulator.cli.common import Formatter, add_secret_flag, positive_float
from emulator.errors import EXIT_FAILED, EXIT_OK


def add_verify(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "verify",
        help="decode a captured callback body and check its signature",
        formatter_class=Formatter,
        description="Decode a captured callback body (form, json or json-urlencoded), check its\n"
        "signature and print the callback. Exit 0 when the signature is valid, 1 when it\n"
        "is wrong or missing, 2 when the body cannot be decoded.",
    )
    parser.add_argument(
        "body", nargs="?", default="-", metavar="FILE", help="the body file, or - for stdin"
    )
    add_secret_flag(parser)
    parser.add_argument(
        "--content-type",
        metavar="CT",
        help="the request's Content-Type (default: judged from the body)",
    )
    parser.add_argument(
        "--max-age",
        type=positive_float,
        metavar="SECONDS",
        help="also fail (exit 1) when the timestamp is more than this far from now",
    )
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.set_defaults(handler=_cmd_verify)


def _cmd_verify(args: argparse.Namespace) -> int:
    from emulator import settings as config
    from emulator.term.capture import verify_body_file

    secret = config.resolve_secret(args.secret, quiet=True)
    valid = verify_body_file(
        args.body, secret.value, args.content_type, as_json=args.json, max_age=args.max_age
    )
    config.resolve_secret(args.secret)  # the secret hint/note only once the body decoded
    return EXIT_OK if valid else EXIT_FAILED
