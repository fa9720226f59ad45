"""What ``zego-emulator check`` prints: a line per case, the reason and hint of each
failure or warning, a summary line; or the JSON object (``--json``); or the case list.

    render_check(result, console)      # PASS/WARN/FAIL  id  title, then the reasons

Nothing here sees a secret: the evidence carries only signatures.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import IO

from rich.console import Console
from rich.text import Text

from emulator.check import Case, CaseResult, CheckOptions, CheckResult, all_cases, run_check
from emulator.errors import EXIT_FAILED, EXIT_OK
from emulator.redact import without_password
from emulator.term.safe import json_text, safe, say

VERDICT_STYLE = {"pass": "green", "warn": "yellow", "fail": "bold red"}
VERDICT_MARK = {"pass": "pass", "warn": "WARN", "fail": "FAIL"}


def case_line(result: CaseResult, width: int) -> Text:
    """``FAIL  signature.forged   A forged signature is refused``."""
    line = Text()
    line.append(f"{VERDICT_MARK[result.verdict]:<5}", style=VERDICT_STYLE[result.verdict])
    line.append(f" {result.case.id:<{width}}  ")
    line.append(result.case.title)
    return line


def detail_lines(result: CaseResult) -> list[Text]:
    """Under a failed or warned case: which callback broke and why, then what that
    usually means in code."""
    pad = " " * 6
    broken = [probe for probe in result.probes if not probe.verdict.ok]
    lines = [
        Text(
            safe(
                f"{pad}{probe.probe.callback.callback_id}: {probe.probe.note}: "
                f"{probe.verdict.reason}"  # the receiver's answer is quoted in reasons
            ),
            style=VERDICT_STYLE[result.verdict],
        )
        for probe in broken
    ] or [Text(safe(f"{pad}{result.reason}"), style=VERDICT_STYLE[result.verdict])]
    lines.append(Text(f"{pad}usually: {result.case.hint}", style="dim"))
    return lines


def summary_line(result: CheckResult) -> Text:
    counts = result.counts()
    text = (
        f"{len(result.cases)} cases: {counts['pass']} passed, {counts['warn']} warned, "
        f"{counts['fail']} failed"
    )
    return Text(text, style="bold green" if result.passed else "bold red")


def render_check(result: CheckResult, console: Console) -> None:
    """The whole report of a check on the terminal."""
    console.print(
        safe(f"zego-emulator check -> {without_password(result.target)}"),
        markup=False,
        highlight=False,
        soft_wrap=True,
    )
    width = max((len(case.case.id) for case in result.cases), default=0)
    for case in result.cases:
        console.print(case_line(case, width), highlight=False, soft_wrap=True)
        if case.verdict != "pass":
            for line in detail_lines(case):
                console.print(line, highlight=False, soft_wrap=True)
    console.print(summary_line(result), highlight=False, soft_wrap=True)


def print_check_json(result: CheckResult, stream: IO[str]) -> None:
    """``{"cases": [...], "passed": bool}`` on one line."""
    say(json_text(result.to_json()), file=stream)


def render_case_list(cases: Sequence[Case], console: Console, as_json: bool = False) -> None:
    """``--list``: every case id and title (with ``--json``: id, title, why, hint)."""
    if as_json:
        payload = [
            {"id": case.id, "title": case.title, "why": case.why, "hint": case.hint}
            for case in cases
        ]
        console.file.write(json_text(payload) + "\n")
        return
    width = max((len(case.id) for case in cases), default=0)
    for case in cases:
        console.print(
            f"{case.id:<{width}}  {case.title}", markup=False, highlight=False, soft_wrap=True
        )


def write_check_reports(
    result: CheckResult, junit_path: str | None, html_path: str | None
) -> list[str]:
    """``--junit``/``--html``: the check as the report layer renders records; the paths."""
    from emulator.check.records import check_lines
    from emulator.report.html import render_html
    from emulator.report.junit import render_junit
    from emulator.report.model import group_lines, write_file

    if not (junit_path or html_path):
        return []
    runs = group_lines(check_lines(result), source="check")
    written = []
    if junit_path:
        written.append(str(write_file(Path(junit_path), render_junit(runs))))
    if html_path:
        title = f"zego-emulator check: {without_password(result.target)}"
        written.append(str(write_file(Path(html_path), render_html(runs, title=title))))
    return written


def check_command(
    options: CheckOptions,
    *,
    as_json: bool = False,
    junit_path: str | None = None,
    html_path: str | None = None,
    stdout: IO[str] | None = None,
    stderr: IO[str] | None = None,
) -> int:
    """``zego-emulator check``: run the suite, print it, write the files; the exit code."""
    out = stdout or sys.stdout
    result = asyncio.run(run_check(options))
    if as_json:
        print_check_json(result, out)
    else:
        render_check(result, Console(file=out, highlight=False))
    notes = Console(file=(stderr or sys.stderr) if as_json else out, highlight=False)
    for path in write_check_reports(result, junit_path, html_path):
        notes.print(safe(f"wrote {path}"), markup=False)
    return EXIT_OK if result.passed else EXIT_FAILED


def list_command(product: str, as_json: bool = False, stdout: IO[str] | None = None) -> int:
    """``zego-emulator check --list``."""
    render_case_list(all_cases(product), Console(file=stdout or sys.stdout), as_json)
    return EXIT_OK
