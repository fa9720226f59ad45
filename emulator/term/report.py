"""``zego-emulator report``: print the summary, write the requested files.

``report`` exits 0 after printing, whatever the record says; ``--check`` makes it exit 1
when a ``summary`` line records a failed expectation (what ``run`` itself exits with).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    pass
from emulator.record.reader import RecordReader, Skipped
from emulator.report.html import render_html
from emulator.report.junit import render_junit
from emulator.report.model import load, read_into, reported, write_file
from emulator.report.stats import report_data
from emulator.report.stream import StreamedReport
from emulator.report.terminal import render_terminal
from emulator.term.safe import json_text, safe, safe_strings, say


def report_command(
    records: Sequence[str],
    *,
    as_json: bool = False,
    html_path: str | None = None,
    junit_path: str | None = None,
    check: bool = False,
) -> int:
    """``zego-emulator report``: print the summary, write the requested files; the exit code."""
    import sys

    from rich.console import Console

    skipped = Skipped()
    if junit_path:  # a testcase per callback: every callback is kept
        runs = load(records, skipped)
        data = report_data(runs)
        facts = None
    else:  # one pass; each callback counted, then dropped
        streamed = StreamedReport(html=bool(html_path))
        reader = RecordReader(lines=False, on_view=streamed.add, skipped=skipped)
        read_into(reader, records)
        runs = reported(reader.runs())
        data = streamed.report_data(runs)
        facts = streamed.html_facts(runs) if html_path else None
    for notice in skipped.notices():
        say(notice, file=sys.stderr)
    data["skipped_lines"] = skipped.as_json()
    notes = Console(stderr=True, highlight=False) if as_json else Console(highlight=False)
    if as_json:
        say(json_text(data, indent=2), flush=False)  # C0, DEL, C1, bidi: \u-escaped
    else:
        render_terminal(safe_strings(data), Console(highlight=False))  # record text
    if html_path:
        page = write_file(Path(html_path), render_html(runs, facts=facts))
        notes.print(safe(f"HTML report: {page}"), markup=False)
    if junit_path:
        written = write_file(Path(junit_path), render_junit(runs))
        notes.print(safe(f"JUnit XML: {written}"), markup=False)
    sys.stdout.flush()
    return 1 if check and data["expectations_failed"] else 0
