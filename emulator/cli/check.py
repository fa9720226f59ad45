"""``zego-emulator check``: its flags and its handler."""

from __future__ import annotations

import argparse
import os

from emulator.cli.common import (
    ENCODING_CHOICES,
    Formatter,
    add_secret_flag,
    integer,
    positive_float,
)


def add_check(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "check",
        help="the receiver conformance suite: named cases, each pass/fail/warn with evidence",
        formatter_class=Formatter,
        description="Judge a ZEGO callback receiver: valid callbacks of every documented shape\n"
        "acknowledged, retries and duplicates acknowledged, forged, missing, stale and\n"
        "future signatures refused, signature vectors that catch real bugs, answers in\n"
        "time, every catalogue event. Exit 0 when no case failed, 1 when one did, 2 on\n"
        "bad input.\n"
        "  zego-emulator check --target http://127.0.0.1:8080/zego/callback",
    )
    parser.add_argument("--target", metavar="URL", help="the receiver URL to POST to")
    add_secret_flag(parser)
    parser.add_argument(
        "--server-secret",
        metavar="S",
        help="your server (API) secret, for the case signature.server-secret (or env "
        "ZEGO_SERVER_SECRET; without either a different secret is derived)",
    )
    parser.add_argument(
        "--encoding",
        action="append",
        choices=ENCODING_CHOICES,
        help="an encoding your receiver is configured for; repeatable (default: json)",
    )
    parser.add_argument(
        "--case", action="append", default=[], metavar="ID", help="run only this case (repeatable)"
    )
    parser.add_argument(
        "--skip", action="append", default=[], metavar="ID", help="skip this case (repeatable)"
    )
    parser.add_argument("--list", action="store_true", help="list the cases and exit")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.add_argument("--junit", metavar="FILE", help="write JUnit XML (a testcase per probe)")
    parser.add_argument("--html", metavar="FILE", help="write the HTML report of the probes")
    parser.add_argument(
        "--timeout",
        type=positive_float,
        default=5.0,
        metavar="SECONDS",
        help="per-request timeout in real seconds (default 5)",
    )
    parser.add_argument("--app-id", metavar="ID", help="appid field (default: faked)")
    parser.add_argument("--seed", type=integer, metavar="N", help="seed for fake data")
    parser.add_argument("--product", default="rtc", help="which product's suite (default rtc)")
    parser.add_argument("--ca-bundle", metavar="FILE", help="trust this CA file for HTTPS")
    parser.add_argument("--insecure", action="store_true", help="do not verify HTTPS certificates")
    parser.set_defaults(handler=_cmd_check)


def _cmd_check(args: argparse.Namespace) -> int:
    from emulator import settings
    from emulator.check import DEFAULT_ENCODINGS, CheckOptions
    from emulator.errors import UsageError
    from emulator.term.check import check_command, list_command

    if args.list:
        return list_command(args.product, as_json=args.json)
    if not args.target:
        raise UsageError("check needs --target URL (the receiver to judge)")
    target = settings.check_url(args.target)
    secret = settings.resolve_secret(args.secret, quiet=args.json)
    server_secret = args.server_secret or os.environ.get(settings.SERVER_SECRET_ENV) or None
    options = CheckOptions(
        target=target,
        callback_secret=secret.value,
        server_secret=server_secret,
        encodings=tuple(args.encoding or DEFAULT_ENCODINGS),
        only=tuple(args.case),
        skip=tuple(args.skip),
        timeout=args.timeout,
        seed=args.seed,
        app_id=args.app_id,
        product=args.product,
        tls=settings.tls_context(args.ca_bundle, args.insecure),
    )
    return check_command(options, as_json=args.json, junit_path=args.junit, html_path=args.html)
