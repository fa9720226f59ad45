"""``zego-emulator resume``: its flags and its handler."""

from __future__ import annotations

import argparse

from emulator.cli.common import Formatter, positive_float, positive_int, speed


def add_resume(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "resume",
        help="continue the pending schedules of an interrupted run's record",
        formatter_class=Formatter,
        description="Pick up a run that was killed or stopped mid-schedule: every callback of\n"
        "RECORD without an outcome gets its next attempt when it falls due (last request +\n"
        "the retry gap, at the run's speed), then the rest of its schedule. New attempt,\n"
        "outcome and summary lines are appended to the same record (same run id). The\n"
        "recorded bodies are re-sent as they are: no secret is needed, except for a run\n"
        "that re-signed each attempt (its secret: ZEGO_CALLBACK_SECRET or --secret).\n"
        "Settings: flags > the record's run line (target, retry policy and timeout, speed,\n"
        "concurrency, its scenario's secret_env) > the environment (ZEGO_CALLBACK_SECRET)\n"
        "> defaults.\n"
        "  zego-emulator resume runs/20240501T120000Z-retry-then-success.jsonl",
    )
    parser.add_argument("record", metavar="RECORD", help="the record file of the run")
    parser.add_argument("--target", metavar="URL", help="send here instead of the recorded target")
    parser.add_argument(
        "--speed",
        type=speed,
        metavar="X",
        help="divide every wait by X (default: the run's)",
    )
    parser.add_argument("--virtual", action="store_true", help="virtual time: no waiting at all")
    parser.add_argument(
        "--timeout",
        type=positive_float,
        metavar="SECONDS",
        help="per-request timeout in real seconds (default: the run's)",
    )
    parser.add_argument(
        "--concurrency", type=positive_int, metavar="N", help="requests in flight at most"
    )
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.add_argument("--ca-bundle", metavar="FILE", help="trust this CA file for HTTPS")
    parser.add_argument("--insecure", action="store_true", help="do not verify HTTPS certificates")
    parser.add_argument(
        "--secret",
        metavar="SECRET",
        help="the callback secret, only for a run that re-signed each attempt "
        "(prefer the environment variable ZEGO_CALLBACK_SECRET)",
    )
    parser.set_defaults(handler=_cmd_resume)


def _cmd_resume(args: argparse.Namespace) -> int:
    from emulator.run.resume import ResumeOptions
    from emulator.term.commands import resume_command

    options = ResumeOptions(
        target=args.target,
        speed=args.speed,
        virtual=args.virtual,
        timeout=args.timeout,
        concurrency=args.concurrency,
        json=args.json,
        ca_bundle=args.ca_bundle,
        insecure=args.insecure,
        secret=args.secret,
    )
    return resume_command(args.record, options)
