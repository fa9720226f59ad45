"""JUnit XML of runs: one testcase per recorded expectation and one per callback.

A lost callback is a failure only when its run's ``delivered`` or ``lost`` expectation
failed (CONTRACT: lost is an outcome, not an error); a callback with no ``outcome`` line
(the run was interrupted) is skipped.
"""

from __future__ import annotations

import os
import re
import time
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    pass
from emulator.events.zim.hook_answer import decision_summary
from emulator.report.model import (
    CallbackView,
    RecordSource,
    RunView,
    as_number,
    as_text,
    runs_from,
    select_runs,
    write_file,
)
from emulator.report.stats import (
    EXCERPT_IN_TITLE,
    EXPECTATIONS_ON_DELIVERY,
    attempt_result,
    ms_text,
    state_text,
)


def render_junit(runs: Sequence[RunView]) -> str:
    """JUnit XML: a testsuite per run, a testcase per expectation and per callback."""
    root = ET.Element("testsuites", name="zego-emulator")
    totals = Counter[str]()
    for run in runs:
        suite = _junit_suite(run)
        root.append(suite)
        for key in ("tests", "failures", "skipped"):
            totals[key] += int(suite.get(key, "0"))
    root.set("tests", str(totals["tests"]))
    root.set("failures", str(totals["failures"]))
    root.set("errors", "0")
    root.set("skipped", str(totals["skipped"]))
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def _junit_suite(run: RunView) -> ET.Element:
    suite = ET.Element("testsuite", name=_xml(f"{run.scenario} ({run.run_id or 'no run id'})"))
    started = as_number((run.run or {}).get("started_at"))
    if started is not None:
        suite.set("timestamp", time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(started)))
    properties = ET.SubElement(suite, "properties")
    for name, value in (("run_id", run.run_id), ("target", run.target)):
        ET.SubElement(properties, "property", name=name, value=_xml(value))
    classname = _xml(f"zego-emulator.{run.scenario}")
    failures = skipped = 0
    for item in run.expectations:
        case = ET.SubElement(
            suite, "testcase", classname=classname, name=_xml(f"expect {item.get('name')}")
        )
        case.set("time", "0")
        if not item.get("ok"):
            failures += 1
            failure = ET.SubElement(case, "failure", type="expectation")
            failure.set(
                "message",
                _xml(f"expected {item.get('expected')}, observed {item.get('observed')}"),
            )
    lost_fails = any(
        not e.get("ok") and as_text(e.get("name")) in EXPECTATIONS_ON_DELIVERY
        for e in run.expectations
    )
    for cb in run.views:
        case = ET.SubElement(
            suite,
            "testcase",
            classname=f"{classname}.callbacks",
            name=_xml(f"{cb.callback_id} {cb.event} {cb.task_id}".strip()),
            time=f"{_callback_seconds(cb):.3f}",
        )
        ET.SubElement(case, "system-out").text = _xml(_attempt_log(cb))
        if cb.broken:
            failures += 1
            failure = ET.SubElement(case, "failure", type="expect")
            failure.set("message", _xml(f"expect {cb.expect}: {cb.why}"))
        elif cb.state == "pending":
            skipped += 1
            ET.SubElement(case, "skipped", message="no outcome recorded (run interrupted?)")
        elif cb.state == "lost" and lost_fails:
            failures += 1
            failure = ET.SubElement(case, "failure", type="lost")
            failure.set(
                "message",
                _xml(f"lost after {cb.attempt_count} attempts; the scenario expected delivery"),
            )
    suite.set("tests", str(len(run.expectations) + len(run.views)))
    suite.set("failures", str(failures))
    suite.set("errors", "0")
    suite.set("skipped", str(skipped))
    suite.set("time", f"{sum(_callback_seconds(cb) for cb in run.views):.3f}")
    return suite


def _attempt_log(cb: CallbackView) -> str:
    lines = [f"{cb.callback_id}: {state_text(cb)} (target {cb.target or '?'})"]
    if cb.expect:
        lines.append(f"  expect {cb.expect}: {'FAILED' if cb.broken else 'ok'}, {cb.why}")
    for attempt in cb.attempts:
        excerpt = " ".join(as_text(attempt.get("response_excerpt")).split())
        if len(excerpt) > EXCERPT_IN_TITLE:
            excerpt = excerpt[:EXCERPT_IN_TITLE] + "…"
        lines.append(
            f"  attempt {attempt.get('attempt')} at "
            f"+{as_number(attempt.get('offset_s')) or 0:.2f} s: "
            f"{attempt_result(attempt)} in {ms_text(as_number(attempt.get('latency_ms')))} ms"
            + (f": {excerpt}" if excerpt else "")
        )
        decision = attempt.get("decision")
        if isinstance(decision, dict):
            lines.append(f"    decision: {decision_summary(decision)}")
    return "\n".join(lines)


def _callback_seconds(cb: CallbackView) -> float:
    """Real seconds from the first request to the end of the last one."""
    if not cb.attempts:
        return 0.0
    first = as_number(cb.attempts[0].get("sent_at")) or 0.0
    last = cb.attempts[-1]
    end = (as_number(last.get("sent_at")) or first) + (
        as_number(last.get("latency_ms")) or 0.0
    ) / 1000
    return max(0.0, end - first)


_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def _xml(text: object) -> str:
    """Text XML 1.0 can carry: a control character (from a receiver, or a hand-edited
    record) written as ``\\x1b``, a lone surrogate or non-character dropped."""
    value = as_text(text)
    if value.isprintable():
        return value
    value = _CONTROL.sub(lambda found: found.group().encode("unicode_escape").decode(), value)
    return _XML_INVALID.sub("", value)


def write_junit(
    source: RecordSource,
    out_path: str | os.PathLike[str],
    run_ids: Sequence[str] | None = None,
) -> Path:
    """Write the JUnit XML of a record (path, paths, or lines) to ``out_path``."""
    return write_file(Path(out_path), render_junit(select_runs(runs_from(source), run_ids)))
