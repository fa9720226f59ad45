"""The ``zego-emulator`` command line: the parser of every command, and ``main``.

Each command has a module here with an ``add_<name>`` that declares its flags and a
``_cmd_<name>`` that packs them into keyword arguments for a plain function in the module
that does the work. Heavy modules are imported inside the handlers so ``--help`` stays fast.

Exit codes (CONTRACT.md): 0 ran and every expectation held; 1 an expectation failed (or,
for ``verify``, the signature is wrong); 2 bad input — one line on stderr, no traceback."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import cast

from emulator._version import __version__
from emulator.cli.api import add_api
from emulator.cli.check import add_check
from emulator.cli.common import Formatter, Handler, Parser, unusable_argument
from emulator.cli.demo import add_demo
from emulator.cli.receive import add_receive
from emulator.cli.report import add_report
from emulator.cli.resume import add_resume
from emulator.cli.run import add_run
from emulator.cli.schema import add_schema
from emulator.cli.send import add_send
from emulator.cli.show import add_show
from emulator.cli.sign import add_sign
from emulator.cli.swarm import add_swarm
from emulator.cli.verify import add_verify
from emulator.errors import EXIT_BAD_INPUT, EXIT_INTERRUPTED, EXIT_OK, EmulatorError
from emulator.term.safe import safe, say

COMMANDS = (
    add_run,
    add_send,
    add_show,
    add_receive,
    add_demo,
    add_api,
    add_report,
    add_resume,
    add_sign,
    add_verify,
    add_schema,
    add_swarm,
    add_check,
)


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="zego-emulator",
        formatter_class=Formatter,
        description="Plays ZEGO's servers on your machine: signed, URL-encoded server callbacks\n"
        "delivered with ZEGO's exact retry schedule (2, 4, 8, 16, 32 s), every attempt\n"
        "recorded. Start with `zego-emulator demo`.",
        epilog="Exit codes: 0 ok, 1 an expectation failed, 2 bad input, 130 interrupted.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    # subcommand parsers are Parser too (argparse makes them of the parent's class)
    sub = cast(
        "argparse._SubParsersAction[argparse.ArgumentParser]",
        parser.add_subparsers(dest="command", metavar="COMMAND"),
    )
    for add in COMMANDS:
        add(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (the console script exits with it)."""
    from emulator.settings import set_notice

    set_notice(_note)  # hints and notes about secrets go to stderr (never the value)
    parser = build_parser()
    args = parser.parse_args(argv)
    unusable = unusable_argument(parser, args)
    if unusable:
        say(f"zego-emulator {args.command}: error: {safe(unusable)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    handler: Handler | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return EXIT_BAD_INPUT
    try:
        if getattr(args, "loop", "asyncio") != "asyncio":
            from emulator.run.core import use_event_loop

            use_event_loop(args.loop)
        return handler(args)
    except EmulatorError as exc:
        # one line whatever the message quotes (a key, a value, a path from a file)
        say(f"zego-emulator {args.command}: error: {safe(exc)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print(f"zego-emulator {args.command}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # stdout went away (e.g. piped into `head`): not an error worth a traceback
        _silence_stdout()
        return EXIT_OK


def _note(text: str) -> None:
    say(text, file=sys.stderr)


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush cannot fail again."""
    import os

    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


def console_main() -> None:
    """Entry point of the ``zego-emulator`` console script."""
    import os

    from emulator.term.pipes import tolerate_closed_stdout

    # the command's own pydantic models need no third-party plugins: without this, the
    # first model built scans every installed distribution's entry points for them
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")

    tolerate_closed_stdout()
    sys.exit(main())
