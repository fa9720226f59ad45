"""Shared pieces of the command line: the parser class, value types and flag groups."""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable
from typing import NoReturn

from emulator.errors import EXIT_BAD_INPUT

ENCODING_CHOICES = ("json", "form", "json-urlencoded")
DEFAULT_ENCODING = "json"
ENCODING_HELP = "body encoding: json (default: ZEGO's own), form, json-urlencoded (see below)"
# what each encoding looks like on the wire (the epilog of every command taking --encoding)
ENCODING_EPILOG = """\
body encodings (--encoding):
  json             the default, as ZEGO sends unless a customer asks support for form.
                   Content-Type: application/json; values keep their JSON types:
                   {"appid":1,"event":"room_create","room_session_id":858012925204410400}
  form             Content-Type: application/x-www-form-urlencoded; numbers as their
                   decimal text, arrays and objects as compact JSON text:
                   appid=1&event=room_create&rtmp_url=%5B%22rtmp%3A%2F%2Fa%2Fs1%22%5D
  json-urlencoded  the json text percent-encoded as a whole, as application/json:
                   %7B%22appid%22%3A1%2C%22event%22%3A%22room_create%22%7D"""


Handler = Callable[[argparse.Namespace], int]


class Formatter(argparse.RawDescriptionHelpFormatter):
    """Keeps the hand-wrapped descriptions."""


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors are one line on stderr (exit 2), not a usage dump."""

    def error(self, message: str) -> NoReturn:
        from emulator.term.safe import safe  # an argument quoted back may hold an ESC

        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {safe(message)} (see {self.prog} --help)\n")


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a number greater than 0, got {text!r}")
    return value


MAX_SPEED = 1_000_000  # as the scenario's speed: key


def speed(text: str) -> float:
    """``--speed X``: a number greater than 0 and at most :data:`MAX_SPEED`."""
    value = positive_float(text)
    if value > MAX_SPEED:
        raise argparse.ArgumentTypeError(f"expected a number at most {MAX_SPEED}, got {text!r}")
    return value


def unusable_argument(parser: argparse.ArgumentParser, args: argparse.Namespace) -> str | None:
    """Why a parsed argument is unusable (None when all are fine): one that is not valid
    UTF-8, or a ``--target``/``--callback-url`` that the scenario's ``target:`` would refuse.
    """
    problem = _undecodable_argument(parser, args)
    if problem:
        return problem
    for flag in ("target", "callback_url"):
        url = getattr(args, flag, None)
        if isinstance(url, str):
            from emulator.settings import url_problem

            problem = url_problem(url)
            if problem:
                return f"--{flag.replace('_', '-')}: {problem}"
    return None


def _undecodable_argument(parser: argparse.ArgumentParser, args: argparse.Namespace) -> str | None:
    """Why a parsed argument is unusable: one that is not valid UTF-8 (None when all are).

    The OS hands Python undecodable bytes as lone surrogates; refused here, before any
    work, they would otherwise fail deep inside a run, after its requests were made.
    """
    actions = list(parser._actions)
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction) and args.command in action.choices:
            actions += action.choices[args.command]._actions
    for action in actions:
        value = getattr(args, action.dest, None)
        for text in value if isinstance(value, list) else [value]:
            if isinstance(text, str) and _UNDECODED.search(text):
                name = max(action.option_strings, key=len, default=None)
                shown = text.encode("utf-8", "surrogateescape").decode("ascii", "backslashreplace")
                what = name or str(action.metavar or action.dest)
                return f"{what} {shown!r}: not valid UTF-8; give UTF-8 text"
    return None


_UNDECODED = re.compile("[\udc80-\udcff]")


def non_negative_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not value >= 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a number of 0 or more, got {text!r}")
    return value


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of 1 or more, got {text!r}")
    return value


def non_negative_int(text: str) -> int:
    value = integer(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a whole number of 0 or more, got {text!r}")
    return value


def integer(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None


def add_secret_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--secret",
        metavar="S",
        help="callback secret (prefer env ZEGO_CALLBACK_SECRET; without either the "
        "documented development secret is used)",
    )


def add_encoding_epilog(parser: argparse.ArgumentParser) -> None:
    """Append what each body encoding looks like on the wire to ``parser``'s help."""
    parser.epilog = f"{parser.epilog}\n\n{ENCODING_EPILOG}" if parser.epilog else ENCODING_EPILOG


def add_payload_flags(parser: argparse.ArgumentParser) -> None:
    add_encoding_epilog(parser)
    parser.add_argument("--app-id", metavar="ID", help="appid field (default: faked)")
    parser.add_argument(
        "--encoding",
        choices=ENCODING_CHOICES,
        metavar="{json,form,json-urlencoded}",
        help=ENCODING_HELP,
    )
    parser.add_argument("--seed", type=integer, metavar="N", help="seed for fake data")


def add_delivery_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--target", metavar="URL", help="the receiver URL to POST to")
    parser.add_argument(
        "--speed",
        type=speed,
        metavar="X",
        help="divide every wait by X (10 runs the 62 s schedule in 6.2 s)",
    )
    parser.add_argument(
        "--virtual",
        action="store_true",
        help="virtual time: no waiting at all, schedules complete instantly",
    )
    parser.add_argument(
        "--timeout",
        type=positive_float,
        metavar="SECONDS",
        help="per-request timeout in real seconds (default 5)",
    )
    parser.add_argument(
        "--concurrency", type=positive_int, metavar="N", help="requests in flight at most"
    )
    parser.add_argument(
        "--record", metavar="PATH", help="record file (default runs/<UTC time>-<name>.jsonl)"
    )
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.add_argument("--ca-bundle", metavar="FILE", help="trust this CA file for HTTPS")
    parser.add_argument("--insecure", action="store_true", help="do not verify HTTPS certificates")
    parser.add_argument(
        "--no-live", action="store_true", help="no live view while running (plain lines)"
    )
    parser.add_argument(
        "--loop",
        choices=("asyncio", "uvloop"),
        default="asyncio",
        help="event loop: asyncio (default) or uvloop (the [uvloop] extra; ~1.1x faster bursts)",
    )


def port(text: str) -> int:
    port = integer(text)
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"expected a port from 0 to 65535, got {text!r}")
    return port


def add_bind_flags(parser: argparse.ArgumentParser, default_port: int) -> None:
    """``--host``/``--port`` of a server we start (127.0.0.1 unless told otherwise)."""
    parser.add_argument("--host", default="127.0.0.1", help="address to bind")
    parser.add_argument(
        "--port",
        type=port,
        default=default_port,
        metavar="N",
        help=f"port to bind (default {default_port}; 0: any free port)",
    )
