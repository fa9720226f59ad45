"""``zego-emulator report``: its flags and its handler."""

from __future__ import annotations

import argparse

from emulator.cli.common import Formatter


def add_report(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "report",
        help="summarise record files; HTML timeline, JUnit XML",
        formatter_class=Formatter,
        description="Summarise one or more record files (merged, kept apart per run):\n"
        "callbacks, delivered, lost, attempts per callback, answers seen, latency and\n"
        "schedule lateness, the recorded expectations. --html writes one self-contained\n"
        "page with a retry timeline per callback; --junit one testcase per expectation and\n"
        "per callback. Exit 0 (with --check: 1 when a recorded expectation failed).\n\n"
        "A bad line is exit 2 with one line naming record, line and field: a value of the\n"
        "wrong type, NaN/Infinity/1e400, a number out of range (a time past 9999), a lone\n"
        "surrogate, bytes that are not UTF-8, a line that is not a JSON object or has no\n"
        "type. Skipped and counted (stderr, and skipped_lines in --json): garbled lines\n"
        "that are not JSON, and a torn last line (a kill mid-write). The terminal lists at\n"
        "most 100 runs, failed expectations and failed callbacks (the rest are counted).",
    )
    parser.add_argument("records", nargs="+", metavar="RECORD", help="record files (JSONL)")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.add_argument("--html", metavar="FILE", help="write the HTML timeline report here")
    parser.add_argument("--junit", metavar="FILE", help="write JUnit XML here")
    parser.add_argument(
        "--check", action="store_true", help="exit 1 when a recorded expectation failed"
    )
    parser.set_defaults(handler=_cmd_report)


def _cmd_report(args: argparse.Namespace) -> int:
    from emulator.term.report import report_command

    return report_command(
        args.records,
        as_json=args.json,
        html_path=args.html,
        junit_path=args.junit,
        check=args.check,
    )
