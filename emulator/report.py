"""Reports of record files: terminal summary, JSON, a self-contained HTML timeline, JUnit XML.

    runs = load(["runs/demo.jsonl"])          # record lines grouped per run and callback
    data = report_data(runs)                  # the numbers (what --json prints)
    html = render_html(runs)                  # one file: inline CSS, inline SVG, tiny JS
    xml = render_junit(runs)                  # one testcase per expectation and per callback

Everything here except :func:`load`, :func:`write_html`, :func:`write_junit` and
:func:`report_command` is pure: record lines in, text out. Several records merge into one
report, kept apart per ``run_id``. A torn last line is skipped (see ``record.iter_record``).

Decisions (README "Reports"):

* ``report`` exits 0 after printing, whatever the record says; ``--check`` makes it exit 1
  when a ``summary`` line records a failed expectation (what ``run`` itself exits with).
* JUnit: one testcase per recorded expectation (failed expectation = failure) and one per
  callback. A lost callback is a failure only when its run's ``delivered`` or ``lost``
  expectation failed (CONTRACT: lost is an outcome, not an error); a callback with no
  ``outcome`` line (the run was interrupted) is skipped.
* HTML: above ``AGGREGATE_OVER`` callbacks the report switches to an aggregate view
  (histograms of attempts per callback and of attempt offsets, status table) plus the
  first ``DETAIL_LIMIT`` callbacks that needed a retry, so its size stays bounded.
  Everything from a record is HTML-escaped (response excerpts come from the receiver),
  and a Content-Security-Policy allows no network and no script but our own.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import math
import os
import re
import time
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from emulator.errors import UsageError
from emulator.record import read_record
from emulator.retry import ZEGO_INTERVALS

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text

AGGREGATE_OVER = 200  # callbacks; more than this and the HTML shows the aggregate view
DETAIL_LIMIT = 50  # callbacks shown in detail in the aggregate view
EXCERPT_IN_TITLE = 160  # characters of a response excerpt in a hover tooltip
EXPECTATIONS_ON_DELIVERY = ("delivered", "lost")
TERMINAL_EXPECTATIONS = 12  # more than this: the terminal lists only the failed ones

State = Literal["delivered", "lost", "pending"]
RecordSource = str | os.PathLike[str] | Iterable[str | os.PathLike[str]] | Iterable[dict[str, Any]]


# --- the record, grouped ---------------------------------------------------------------


@dataclass
class CallbackView:
    """One callback of one run: its ``callback`` line, its attempts and its outcome."""

    run_id: str
    callback_id: str
    event: str = ""
    task_id: str = ""
    target: str = ""
    tamper: str = "none"
    attempts: list[dict[str, Any]] = field(default_factory=list)
    outcome: dict[str, Any] | None = None
    sent: bool = False  # a ``callback`` line was seen

    @property
    def state(self) -> State:
        if self.outcome is None:
            return "pending"
        return "delivered" if self.outcome.get("delivered") else "lost"

    @property
    def attempt_count(self) -> int:
        return len(self.attempts)

    @property
    def retried(self) -> bool:
        return self.attempt_count > 1 or self.state == "lost"


@dataclass
class RunView:
    """The lines of one ``run_id``: its ``run`` and ``summary`` lines and its callbacks."""

    run_id: str
    run: dict[str, Any] | None = None
    summary: dict[str, Any] | None = None
    callbacks: list[CallbackView] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)

    @property
    def scenario(self) -> str:
        return _text((self.run or {}).get("scenario")) or "run"

    @property
    def target(self) -> str:
        target = _text((self.run or {}).get("target"))
        return target or next((cb.target for cb in self.callbacks if cb.target), "")

    @property
    def expectations(self) -> list[dict[str, Any]]:
        found = (self.summary or {}).get("expectations")
        return [item for item in found if isinstance(item, dict)] if isinstance(found, list) else []


def group_lines(lines: Iterable[Mapping[str, Any]], source: str = "") -> list[RunView]:
    """Record lines grouped per run (first-seen order) and per callback within a run.

    A callback id seen again in the same run (a duplicate delivery) becomes a second
    view: attempts and outcomes go to the earliest open view they continue.
    """
    runs: dict[str, RunView] = {}
    open_views: dict[tuple[str, str], list[CallbackView]] = {}
    for line in lines:
        kind = line.get("type")
        run_id = _text(line.get("run_id"))
        run = runs.get(run_id)
        if run is None:
            run = runs[run_id] = RunView(run_id)
        if source and source not in run.sources:
            run.sources.append(source)
        if kind == "run":
            run.run = dict(line)
        elif kind == "summary":
            run.summary = dict(line)
        elif kind in ("callback", "attempt", "outcome"):
            _place(run, open_views, line)
    return [run for run in runs.values() if run.run or run.summary or run.callbacks]


def _place(
    run: RunView,
    open_views: dict[tuple[str, str], list[CallbackView]],
    line: Mapping[str, Any],
) -> None:
    """Put a callback/attempt/outcome line on the callback view it belongs to."""
    callback_id = _text(line.get("callback_id"))
    views = open_views.setdefault((run.run_id, callback_id), [])
    kind = line.get("type")
    view: CallbackView | None = None
    if kind == "callback":
        view = next((v for v in views if not v.sent and not v.attempts), None)
    elif kind == "attempt":
        number = _int(line.get("attempt")) or 0
        view = next((v for v in views if v.attempt_count == number - 1), None)
        view = view or (views[-1] if views else None)  # continued elsewhere (resume)
    else:
        count = _int(line.get("attempts"))
        view = next((v for v in views if count is None or v.attempt_count == count), None)
        view = view or (views[0] if views else None)
    if view is None:
        view = CallbackView(run.run_id, callback_id)
        views.append(view)
        run.callbacks.append(view)
    view.event = view.event or _text(line.get("event"))
    view.task_id = view.task_id or _text(line.get("task_id"))
    if kind == "callback":
        view.sent = True
        view.target = _text(line.get("target"))
        view.tamper = _text(line.get("tamper")) or "none"
    elif kind == "attempt":
        view.attempts.append(dict(line))
    else:
        view.outcome = dict(line)
        views.remove(view)


def load(paths: Iterable[str | os.PathLike[str]]) -> list[RunView]:
    """Read record files into runs; a missing, unreadable or empty record is a UsageError."""
    runs: list[RunView] = []
    by_id: dict[str, RunView] = {}
    for path in paths:
        lines = _read(Path(path))
        for run in group_lines(lines, str(path)):
            if run.run_id in by_id:  # the same run continued in another file (resume)
                _merge(by_id[run.run_id], run)
            else:
                by_id[run.run_id] = run
                runs.append(run)
    return runs


def _read(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        raise UsageError(f"record {path} does not exist")
    if not path.is_file():
        raise UsageError(f"record {path} is not a file")
    try:
        lines = read_record(path)
    except OSError as exc:
        raise UsageError(f"cannot read record {path}: {exc.strerror or exc}") from exc
    if not any(line.get("type") in ("run", "attempt", "outcome", "summary") for line in lines):
        raise UsageError(f"{path} holds no record lines: expected a zego-emulator record (JSONL)")
    return lines


def _merge(into: RunView, more: RunView) -> None:
    into.run = into.run or more.run
    into.summary = more.summary or into.summary
    into.callbacks.extend(more.callbacks)
    into.sources.extend(source for source in more.sources if source not in into.sources)


def _runs_from(source: RecordSource) -> list[RunView]:
    """Runs from a record path, several paths, or record lines already read."""
    if isinstance(source, str | os.PathLike):
        return load([source])
    items = list(source)
    if items and all(isinstance(item, Mapping) for item in items):
        return group_lines(item for item in items if isinstance(item, Mapping))
    paths = [item for item in items if isinstance(item, str | os.PathLike)]
    if len(paths) != len(items):
        raise UsageError("expected record paths or record lines (dicts), not a mix")
    return load(paths)


# --- numbers --------------------------------------------------------------------------


def percentile(values: Sequence[float], pct: float) -> float | None:
    """Nearest-rank percentile (``pct`` in 0..100) of ``values``; None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def attempt_kind(attempt: Mapping[str, Any]) -> str:
    """How an attempt went, for colours and legends: ok, 3xx, 4xx, 5xx, timeout, network."""
    error = attempt.get("error")
    if error == "timeout":
        return "timeout"
    if error:
        return "network"
    status = _int(attempt.get("status"))
    if status is None:
        return "network"
    if 200 <= status <= 299:
        return "ok"
    if 400 <= status <= 499:
        return "4xx"
    if 500 <= status <= 599:
        return "5xx"
    return "3xx"


KIND_LABELS = {
    "ok": "2xx accepted",
    "3xx": "1xx/3xx",
    "4xx": "4xx rejected",
    "5xx": "5xx error",
    "timeout": "timeout",
    "network": "connection error",
}


def attempt_result(attempt: Mapping[str, Any]) -> str:
    """``HTTP 500``, ``timeout``, ``HTTP 200 then connection_reset``."""
    status = _int(attempt.get("status"))
    error = _text(attempt.get("error"))
    if status is None:
        return error or "no answer"
    return f"HTTP {status} then {error}" if error else f"HTTP {status}"


def stats(callbacks: Sequence[CallbackView]) -> dict[str, Any]:
    """The numbers of a set of callbacks (one run, or all runs)."""
    attempts = [attempt for cb in callbacks for attempt in cb.attempts]
    states = Counter(cb.state for cb in callbacks)
    highest = max([len(ZEGO_INTERVALS) + 1, *(cb.attempt_count for cb in callbacks)])
    per_callback = Counter(cb.attempt_count for cb in callbacks)
    delivered_on = Counter(cb.attempt_count for cb in callbacks if cb.state == "delivered")
    statuses = Counter(
        str(_int(a.get("status"))) for a in attempts if _int(a.get("status")) is not None
    )
    errors = Counter(_text(a.get("error")) for a in attempts if a.get("error"))
    latencies = [v for v in (_num(a.get("latency_ms")) for a in attempts) if v is not None]
    lateness = [
        (sent - scheduled) * 1000
        for sent, scheduled in (
            (_num(a.get("sent_at")), _num(a.get("scheduled_at"))) for a in attempts
        )
        if sent is not None and scheduled is not None
    ]
    return {
        "callbacks": len(callbacks),
        "delivered": states["delivered"],
        "lost": states["lost"],
        "pending": states["pending"],
        "attempts": len(attempts),
        "attempts_histogram": {str(n): per_callback[n] for n in range(1, highest + 1)},
        "delivered_on_attempt": {str(n): delivered_on[n] for n in range(1, highest + 1)},
        "status_codes": dict(sorted(statuses.items())),
        "errors": dict(sorted(errors.items())),
        "latency_ms": _percentiles(latencies, (50, 95, 99)),
        "lateness_ms": _percentiles(lateness, (50, 99)),
    }


def _percentiles(values: Sequence[float], pcts: Sequence[int]) -> dict[str, float | None]:
    out: dict[str, float | None] = {}
    for pct in pcts:
        value = percentile(values, pct)
        out[f"p{pct}"] = None if value is None else round(value, 3)
    out["max"] = round(max(values), 3) if values else None
    return out


def report_data(runs: Sequence[RunView]) -> dict[str, Any]:
    """Everything ``report --json`` prints: per run and in total."""
    run_items = []
    for run in runs:
        expectations = run.expectations
        run_items.append(
            {
                "run_id": run.run_id,
                "scenario": run.scenario,
                "target": run.target,
                "started_at": _num((run.run or {}).get("started_at")),
                "speed": (run.run or {}).get("speed"),
                "records": run.sources,
                "stats": stats(run.callbacks),
                "expectations": expectations,
                "expectations_ok": all(bool(e.get("ok")) for e in expectations)
                if expectations
                else None,
            }
        )
    failed = sum(1 for run in runs for e in run.expectations if not e.get("ok"))
    return {
        "runs": run_items,
        "total": stats([cb for run in runs for cb in run.callbacks]),
        "expectations_failed": failed,
    }


# --- terminal -------------------------------------------------------------------------


def render_terminal(data: Mapping[str, Any], console: Console) -> None:
    """Print ``report_data`` as rich tables: delivery, attempts per callback, expectations.

    One run: a metric per row. Several runs: a run per row, the totals in the footer.
    """
    runs: list[dict[str, Any]] = list(data["runs"])
    if len(runs) == 1:
        console.print(_single_run_table(runs[0]))
    else:
        console.print(_runs_table(runs, data["total"]))
    console.print(_histogram_table(data["total"]))
    expectations = [(run, e) for run in runs for e in run["expectations"]]
    if expectations:
        console.print(_expectation_table(expectations, runs))


def _single_run_table(run: Mapping[str, Any]) -> Any:
    from rich.table import Table
    from rich.text import Text

    stats = run["stats"]
    title = Text("Callback delivery — ")
    title.append(run["scenario"], style="bold")
    table = Table(title=title, title_justify="left", show_header=False)
    table.add_column("")
    table.add_column("", justify="right")
    rows: list[tuple[str, Text | str]] = [
        ("callbacks", str(stats["callbacks"])),
        ("delivered", Text(str(stats["delivered"]), style="green")),
        ("lost", Text(str(stats["lost"]), style="red" if stats["lost"] else "")),
        ("attempts", str(stats["attempts"])),
        ("status codes", _counts(stats["status_codes"]) or "-"),
        ("errors", _counts(stats["errors"]) or "-"),
        ("latency p50/p95/p99 ms", _triple(stats["latency_ms"], ("p50", "p95", "p99"))),
        ("schedule lateness p50/p99 ms", _triple(stats["lateness_ms"], ("p50", "p99"))),
    ]
    if stats["pending"]:
        rows.insert(3, ("no outcome (interrupted)", Text(str(stats["pending"]), style="yellow")))
    for label, value in rows:
        table.add_row(label, Text(value) if isinstance(value, str) else value)
    bits = [f"run {run['run_id']}"] if run["run_id"] else []
    if run["target"]:
        bits.append(f"target {run['target']}")
    table.caption = Text(" · ".join(bits)) if bits else None
    return table


def _runs_table(runs: Sequence[Mapping[str, Any]], total: Mapping[str, Any]) -> Any:
    from rich import box
    from rich.table import Table
    from rich.text import Text

    table = Table(
        title="Callback delivery", title_justify="left", show_footer=True, box=box.SIMPLE_HEAD
    )
    headers = ("callbacks", "delivered", "lost", "attempts", "ms p50/p99", "late p99")
    footer = _run_cells(total)
    table.add_column("run", footer="all runs", ratio=1, min_width=10)
    for header, foot in zip(headers, footer, strict=True):
        table.add_column(header, footer=foot, justify="right", no_wrap=True)
    for run in runs:
        table.add_row(Text(_run_label(run, runs)), *_run_cells(run["stats"]))
    answers = _counts(total["status_codes"]) + "  " + _counts(total["errors"])
    table.caption = Text(f"answers: {answers.strip()}")
    return table


def _run_cells(stats: Mapping[str, Any]) -> list[Text]:
    from rich.text import Text

    lost = stats["lost"]
    return [
        Text(str(stats["callbacks"])),
        Text(str(stats["delivered"]), style="green"),
        Text(str(lost), style="red" if lost else ""),
        Text(str(stats["attempts"])),
        Text(_triple(stats["latency_ms"], ("p50", "p99"))),
        Text(_ms(stats["lateness_ms"]["p99"])),
    ]


def _run_label(run: Mapping[str, Any], runs: Sequence[Mapping[str, Any]]) -> str:
    """The scenario name; with the run id when two runs share it."""
    shared = sum(1 for other in runs if other["scenario"] == run["scenario"]) > 1
    return f"{run['scenario']} ({run['run_id']})" if shared else str(run["scenario"])


def _histogram_table(total: Mapping[str, Any]) -> Any:
    from rich.table import Table
    from rich.text import Text

    table = Table(title="Attempts per callback", title_justify="left")
    table.add_column("attempts", justify="right")
    table.add_column("callbacks", justify="right")
    table.add_column("delivered", justify="right")
    table.add_column("")
    histogram: dict[str, int] = total["attempts_histogram"]
    delivered: dict[str, int] = total["delivered_on_attempt"]
    peak = max(histogram.values(), default=0) or 1
    for attempts, count in histogram.items():
        ok = delivered.get(attempts, 0)
        bar = Text("█" * round(24 * ok / peak), style="green")
        bar.append("█" * (round(24 * count / peak) - round(24 * ok / peak)), style="red")
        table.add_row(attempts, str(count), str(ok), bar)
    return table


def _expectation_table(
    expectations: Sequence[tuple[Mapping[str, Any], Mapping[str, Any]]],
    runs: Sequence[Mapping[str, Any]],
) -> Any:
    """Every expectation; with many runs only the failed ones and a count of the rest."""
    from rich.table import Table
    from rich.text import Text

    show_run = len(runs) > 1
    shown = list(expectations)
    held = 0
    if len(shown) > TERMINAL_EXPECTATIONS:
        shown = [(run, item) for run, item in expectations if not item.get("ok")]
        held = len(expectations) - len(shown)
        if not shown:
            return Text(f"Expectations: all {held} held", style="green")
    table = Table(title="Expectations", title_justify="left")
    for header in ("run", "expectation", "expected", "observed", "")[0 if show_run else 1 :]:
        table.add_column(header)
    for run, item in shown:
        ok = bool(item.get("ok"))
        cells = [
            Text(_run_label(run, runs)),
            Text(_text(item.get("name"))),
            Text(_text(item.get("expected"))),
            Text(_text(item.get("observed"))),
            Text("ok", style="green") if ok else Text("FAILED", style="bold red"),
        ]
        table.add_row(*cells[0 if show_run else 1 :])
    if held:
        table.caption = Text(f"{held} more expectation(s) held", style="green")
    return table


def _counts(counts: Mapping[str, int]) -> str:
    return "  ".join(f"{key}×{value}" for key, value in counts.items())


def _triple(values: Mapping[str, float | None], keys: Sequence[str]) -> str:
    return " / ".join(_ms(values.get(key)) for key in keys)


def _ms(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.0f}" if abs(value) >= 100 else f"{value:.1f}"


# --- JUnit XML --------------------------------------------------------------------------


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
    started = _num((run.run or {}).get("started_at"))
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
        not e.get("ok") and _text(e.get("name")) in EXPECTATIONS_ON_DELIVERY
        for e in run.expectations
    )
    for cb in run.callbacks:
        case = ET.SubElement(
            suite,
            "testcase",
            classname=f"{classname}.callbacks",
            name=_xml(f"{cb.callback_id} {cb.event} {cb.task_id}".strip()),
            time=f"{_callback_seconds(cb):.3f}",
        )
        ET.SubElement(case, "system-out").text = _xml(_attempt_log(cb))
        if cb.state == "pending":
            skipped += 1
            ET.SubElement(case, "skipped", message="no outcome recorded (run interrupted?)")
        elif cb.state == "lost" and lost_fails:
            failures += 1
            failure = ET.SubElement(case, "failure", type="lost")
            failure.set(
                "message",
                _xml(f"lost after {cb.attempt_count} attempts; the scenario expected delivery"),
            )
    suite.set("tests", str(len(run.expectations) + len(run.callbacks)))
    suite.set("failures", str(failures))
    suite.set("errors", "0")
    suite.set("skipped", str(skipped))
    suite.set("time", f"{sum(_callback_seconds(cb) for cb in run.callbacks):.3f}")
    return suite


def _attempt_log(cb: CallbackView) -> str:
    lines = [f"{cb.callback_id}: {_state_text(cb)} (target {cb.target or '?'})"]
    for attempt in cb.attempts:
        excerpt = " ".join(_text(attempt.get("response_excerpt")).split())
        if len(excerpt) > EXCERPT_IN_TITLE:
            excerpt = excerpt[:EXCERPT_IN_TITLE] + "…"
        lines.append(
            f"  attempt {attempt.get('attempt')} at +{_num(attempt.get('offset_s')) or 0:.2f} s: "
            f"{attempt_result(attempt)} in {_ms(_num(attempt.get('latency_ms')))} ms"
            + (f": {excerpt}" if excerpt else "")
        )
    return "\n".join(lines)


def _callback_seconds(cb: CallbackView) -> float:
    """Real seconds from the first request to the end of the last one."""
    if not cb.attempts:
        return 0.0
    first = _num(cb.attempts[0].get("sent_at")) or 0.0
    last = cb.attempts[-1]
    end = (_num(last.get("sent_at")) or first) + (_num(last.get("latency_ms")) or 0.0) / 1000
    return max(0.0, end - first)


_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _xml(text: object) -> str:
    """Text XML 1.0 can carry (control characters a receiver sent are dropped)."""
    return _XML_INVALID.sub("", _text(text))


# --- HTML -------------------------------------------------------------------------------

TRACK_W, TRACK_H, PAD_L, PAD_R = 900, 34, 16, 28
AXIS_SLACK = 1.08  # offsets up to 8 % past the last tick are drawn in the right margin


def schedule_ticks(max_offset: float, intervals: Sequence[float] = ZEGO_INTERVALS) -> list[float]:
    """The schedule's request offsets (ZEGO: 0, 2, 6, 14, 30, 62) and, past them, doubling gaps.

    The axis grows only when an offset lies clearly past the last tick (a custom schedule);
    a request a little late for +62 s still fits the ZEGO axis.
    """
    ticks = [0.0]
    gaps = [gap for gap in intervals if gap > 0] or list(ZEGO_INTERVALS)
    wanted = len(gaps) + 1
    while ticks[-1] * AXIS_SLACK < max_offset or len(ticks) < wanted:
        gap = gaps.pop(0) if gaps else (ticks[-1] - ticks[-2]) * 2
        ticks.append(ticks[-1] + gap)
    return ticks


def recorded_intervals(runs: Sequence[RunView]) -> tuple[float, ...]:
    """The retry intervals every run's ``run`` line names, when they agree; else ZEGO's."""
    found = set()
    for run in runs:
        intervals = (run.run or {}).get("intervals")
        if not isinstance(intervals, list) or not all(_num(gap) is not None for gap in intervals):
            return ZEGO_INTERVALS
        found.add(tuple(float(gap) for gap in intervals))
    return found.pop() if len(found) == 1 else ZEGO_INTERVALS


def render_html(runs: Sequence[RunView], title: str = "ZEGO callback report") -> str:
    """One self-contained HTML page (no network): summary, histograms, retry timelines."""
    callbacks = [cb for run in runs for cb in run.callbacks]
    total = stats(callbacks)
    offsets = [_num(a.get("offset_s")) or 0.0 for cb in callbacks for a in cb.attempts]
    ticks = schedule_ticks(max(offsets, default=0.0), recorded_intervals(runs))
    axis_end = ticks[-1]
    aggregate = len(callbacks) > AGGREGATE_OVER
    charts = ['<section class="charts" id="charts">', _html_attempts_histogram(total)]
    if aggregate:
        charts.append(_html_offset_histogram(callbacks, ticks))
    charts += [_html_status_table(total), "</section>"]
    shown = _detail_callbacks(runs) if aggregate else None
    timelines = [_html_legend()]
    if aggregate:
        retried = sum(1 for cb in callbacks if cb.retried)
        count = sum(len(v) for v in (shown or {}).values())
        which = f"the first {count}" if count < retried else f"all {count}"
        timelines.append(
            f'<p class="note" id="aggregate-note">{len(callbacks):,} callbacks, so this is the '
            f"aggregate view. Below: {which} of the {retried:,} callbacks that needed a retry"
            f"{'' if retried else f' (none did; showing the first {count})'}.</p>"
        )
    for run in runs:
        chosen = run.callbacks if shown is None else shown.get(run.run_id, [])
        timelines.append(_html_run(run, chosen, ticks, axis_end, len(runs) > 1))
    parts = [_html_header(runs, total, title), _html_expectations(runs)]
    if aggregate:
        parts += charts + timelines
    else:
        parts += [*timelines, '<h2 class="section">Distribution</h2>', *charts]
    body = "\n".join(parts)
    script_hash = base64.b64encode(hashlib.sha256(_SCRIPT.encode()).digest()).decode()
    csp = (
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
        f"script-src 'sha256-{script_hash}'"
    )
    mode = "aggregate" if aggregate else "detail"
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{csp}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{_e(title)}</title>\n<style>{_CSS}</style></head>\n"
        f'<body data-mode="{mode}"><main>\n{body}\n</main>\n'
        f"<script>{_SCRIPT}</script></body></html>\n"
    )


def _detail_callbacks(runs: Sequence[RunView]) -> dict[str, list[CallbackView]]:
    """The callbacks the aggregate view shows in detail: the first that needed a retry."""
    chosen: dict[str, list[CallbackView]] = {}
    left = DETAIL_LIMIT
    any_retried = any(cb.retried for run in runs for cb in run.callbacks)
    for run in runs:
        for cb in run.callbacks:
            if left and (cb.retried or not any_retried):
                chosen.setdefault(run.run_id, []).append(cb)
                left -= 1
    return chosen


def _html_header(runs: Sequence[RunView], total: Mapping[str, Any], title: str) -> str:
    sources = sorted({source for run in runs for source in run.sources})
    if len(runs) == 1:
        run = runs[0]
        started = _num((run.run or {}).get("started_at"))
        bits = [f"scenario <b>{_e(run.scenario)}</b>"]
        if run.target:
            bits.append(f"target <code>{_e(run.target)}</code>")
        if started is not None:
            bits.append(_e(time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(started))))
        speed = (run.run or {}).get("speed")
        if speed not in (None, 1, 1.0):
            bits.append(f"speed ×{_e(speed)}")
        bits.append(f"run <code>{_e(run.run_id or '-')}</code>")
    else:
        bits = [f"{len(runs)} runs"]
    if sources:
        bits.append("record " + ", ".join(f"<code>{_e(Path(s).name)}</code>" for s in sources))
    latency = total["latency_ms"]
    lateness = total["lateness_ms"]
    cards = [
        ("callbacks", f"{total['callbacks']:,}", ""),
        ("delivered", f"{total['delivered']:,}", "good"),
        ("lost", f"{total['lost']:,}", "bad" if total["lost"] else ""),
        ("attempts", f"{total['attempts']:,}", ""),
        (
            "latency ms p50 / p95 / p99",
            " / ".join(_ms(latency[k]) for k in ("p50", "p95", "p99")),
            "multi",
        ),
        (
            "schedule lateness ms p50 / p99",
            f"{_ms(lateness['p50'])} / {_ms(lateness['p99'])}",
            "multi",
        ),
    ]
    if total["pending"]:
        cards.insert(3, ("no outcome", str(total["pending"]), "warn"))
    card_html = "".join(
        f'<div class="card {cls}" data-metric="{_e(key)}"><div class="k">{_e(key)}</div>'
        f'<div class="v">{_e(value)}</div></div>'
        for key, value, cls in cards
    )
    return (
        f'<header id="summary"><h1>{_e(title)}</h1><p class="sub">{" · ".join(bits)}</p>'
        f'<div class="cards">{card_html}</div></header>'
    )


def _html_expectations(runs: Sequence[RunView]) -> str:
    """Chips per run: ``✓ delivered 2`` when it held, ``✗ lost: expected 0, observed 1``."""
    groups = []
    for run in runs:
        chips = []
        for item in run.expectations:
            ok = bool(item.get("ok"))
            name = _e(item.get("name"))
            text = (
                f"<b>{name}</b> {_e(item.get('observed'))}"
                if ok
                else f"<b>{name}</b>: expected {_e(item.get('expected'))}, "
                f"observed {_e(item.get('observed'))}"
            )
            chips.append(
                f'<li class="expectation {"ok" if ok else "failed"}" '
                f'data-ok="{str(ok).lower()}" data-name="{name}">'
                f'<span class="mark">{"✓" if ok else "✗"}</span> {text}</li>'
            )
        if chips:
            label = f'<span class="exp-run">{_e(run.scenario)}</span>' if len(runs) > 1 else ""
            groups.append(f'<div class="exp-group">{label}<ul>{"".join(chips)}</ul></div>')
    if not groups:
        return ""
    return f'<section id="expectations"><h2>Expectations</h2>{"".join(groups)}</section>'


def _html_legend() -> str:
    items = "".join(
        f'<span class="key"><svg width="12" height="12" aria-hidden="true">'
        f'<circle cx="6" cy="6" r="5" class="k-{kind}"/></svg>{_e(label)}</span>'
        for kind, label in KIND_LABELS.items()
    )
    return f'<div class="legend" id="legend">{items}</div>'


def _html_attempts_histogram(total: Mapping[str, Any]) -> str:
    histogram: dict[str, int] = total["attempts_histogram"]
    delivered: dict[str, int] = total["delivered_on_attempt"]
    width, height, base, left = 420, 190, 160, 34
    slot = (width - left - 10) / max(1, len(histogram))
    peak = max(histogram.values(), default=0) or 1
    bars = []
    for index, (attempts, count) in enumerate(histogram.items()):
        ok = delivered.get(attempts, 0)
        x = left + index * slot + slot * 0.18
        bar_w = slot * 0.64
        ok_h = (base - 20) * ok / peak
        rest_h = (base - 20) * (count - ok) / peak
        tip = f"{count} callback(s) made {attempts} attempt(s): {ok} delivered, {count - ok} not"
        bars.append(
            f'<g class="bar" data-attempts="{_e(attempts)}" data-count="{count}">'
            f"<title>{_e(tip)}</title>"
            f'<rect x="{x:.1f}" y="{base - ok_h:.1f}" width="{bar_w:.1f}" height="{ok_h:.1f}" '
            f'class="k-ok"/>'
            f'<rect x="{x:.1f}" y="{base - ok_h - rest_h:.1f}" width="{bar_w:.1f}" '
            f'height="{rest_h:.1f}" class="k-5xx"/>'
            f'<text x="{x + bar_w / 2:.1f}" y="{base - ok_h - rest_h - 4:.1f}" '
            f'class="count">{count}</text>'
            f'<text x="{x + bar_w / 2:.1f}" y="{base + 14}" class="label">{_e(attempts)}</text></g>'
        )
    return (
        '<figure class="chart" id="attempts-histogram"><figcaption>Attempts per callback '
        "<small>green: delivered on that attempt · red: not delivered</small>"
        f'</figcaption><svg viewBox="0 0 {width} {height}" role="img">'
        f'<line x1="{left}" y1="{base}" x2="{width - 6}" y2="{base}" class="axis-line"/>'
        f"{''.join(bars)}"
        f'<text x="{(width + left) / 2:.0f}" y="{height - 4}" class="label">'
        "requests made (1 = no retry)</text></svg></figure>"
    )


def _html_offset_histogram(callbacks: Sequence[CallbackView], ticks: Sequence[float]) -> str:
    """Where every attempt fell on the schedule axis, in bins (the aggregate view)."""
    width, height, base = 620, 190, 160
    axis_end = ticks[-1] or 1.0
    bins = 124
    ok = [0] * bins
    failed = [0] * bins
    for cb in callbacks:
        for attempt in cb.attempts:
            offset = max(0.0, _num(attempt.get("offset_s")) or 0.0)
            index = min(bins - 1, int(offset / axis_end * bins))
            (ok if attempt_kind(attempt) == "ok" else failed)[index] += 1
    peak = max((a + b for a, b in zip(ok, failed, strict=True)), default=0) or 1
    plot = width - PAD_L - PAD_R
    bars = []
    for index in range(bins):
        if not ok[index] and not failed[index]:
            continue
        x = PAD_L + index / bins * plot
        ok_h = (base - 20) * ok[index] / peak
        fail_h = (base - 20) * failed[index] / peak
        start = index / bins * axis_end
        tip = f"+{start:.1f} s: {ok[index]} accepted, {failed[index]} failed"
        bars.append(
            f'<g class="bin" data-ok="{ok[index]}" data-failed="{failed[index]}">'
            f"<title>{_e(tip)}</title>"
            f'<rect x="{x:.1f}" y="{base - ok_h:.1f}" width="{max(2.0, plot / bins):.1f}" '
            f'height="{ok_h:.1f}" class="k-ok"/>'
            f'<rect x="{x:.1f}" y="{base - ok_h - fail_h:.1f}" width="{max(2.0, plot / bins):.1f}"'
            f' height="{fail_h:.1f}" class="k-5xx"/></g>'
        )
    tick_marks = "".join(
        f'<text x="{x:.1f}" y="{base + 14}" class="label">{label}</text>'
        for x, label in _tick_labels(ticks, lambda t: PAD_L + t / axis_end * plot)
        if label
    )
    return (
        '<figure class="chart wide" id="offset-histogram"><figcaption>When attempts went out '
        "<small>(seconds after each callback's first request)</small></figcaption>"
        f'<svg viewBox="0 0 {width} {height}" role="img">'
        f'<line x1="{PAD_L}" y1="{base}" x2="{width - PAD_R}" y2="{base}" class="axis-line"/>'
        f"{''.join(bars)}{tick_marks}</svg></figure>"
    )


def _html_status_table(total: Mapping[str, Any]) -> str:
    rows = [
        (f"HTTP {code}", count, attempt_kind({"status": int(code)}))
        for code, count in total["status_codes"].items()
    ]
    rows += [
        (error, count, attempt_kind({"error": error})) for error, count in total["errors"].items()
    ]
    body = "".join(
        f'<tr><td><span class="dot k-{kind}"></span>{_e(name)}</td><td>{count:,}</td></tr>'
        for name, count, kind in rows
    )
    return (
        '<figure class="chart" id="status-table"><figcaption>Answers seen</figcaption>'
        f"<table><thead><tr><th>answer</th><th>attempts</th></tr></thead><tbody>{body}"
        "</tbody></table></figure>"
    )


def _html_run(
    run: RunView,
    callbacks: Sequence[CallbackView],
    ticks: Sequence[float],
    axis_end: float,
    several: bool,
) -> str:
    heading = ""
    if several:
        heading = (
            f"<h2>{_e(run.scenario)} <small><code>{_e(run.run_id or '-')}</code>"
            f"{' → ' + _e(run.target) if run.target else ''}</small></h2>"
        )
    rows = "\n".join(_html_timeline(cb, ticks, axis_end) for cb in callbacks)
    return (
        f'<section class="run" data-run-id="{_e(run.run_id)}">{heading}'
        '<div class="timelines">'
        f'<div class="axis"><div class="label-col">callback</div>{_html_axis(ticks, axis_end)}'
        f"</div>\n{rows}</div></section>"
    )


def _x(offset: float, axis_end: float) -> float:
    x = PAD_L + max(0.0, offset) / (axis_end or 1.0) * (TRACK_W - PAD_L - PAD_R)
    return min(x, TRACK_W - 10.0)


def _tick_labels(
    ticks: Sequence[float], place: Callable[[float], float], min_gap: float = 30.0
) -> list[tuple[float, str]]:
    """``(x, label)`` per tick: ``0``, ``+2`` … ``+62 s``; a label too close to the last is ''."""
    out: list[tuple[float, str]] = []
    shown = -math.inf
    for index, tick in enumerate(ticks):
        x = place(tick)
        text = "0" if tick == 0 else f"+{tick:g}"
        if index == len(ticks) - 1:
            text += " s"
        out.append((x, text if x - shown >= min_gap or index == 0 else ""))
        if x - shown >= min_gap or index == 0:
            shown = x
    return out


def _html_axis(ticks: Sequence[float], axis_end: float) -> str:
    marks = "".join(
        f'<g class="tick" data-offset="{t:g}"><line x1="{x:.1f}" y1="22" x2="{x:.1f}" y2="30"/>'
        f'<text x="{x:.1f}" y="16">{label}</text></g>'
        for t, (x, label) in zip(
            ticks, _tick_labels(ticks, lambda t: _x(t, axis_end), min_gap=22.0), strict=True
        )
    )
    return (
        f'<svg class="axis-svg" viewBox="0 0 {TRACK_W} 30" preserveAspectRatio="xMinYMid meet">'
        f'<line x1="{PAD_L}" y1="29.5" x2="{TRACK_W - PAD_R}" y2="29.5" class="axis-line"/>'
        f"{marks}</svg>"
    )


def _html_timeline(cb: CallbackView, ticks: Sequence[float], axis_end: float) -> str:
    dom_id = "cb-" + re.sub(r"[^A-Za-z0-9_-]", "_", f"{cb.run_id}-{cb.callback_id}")
    mid = TRACK_H / 2
    grid = "".join(
        f'<line x1="{_x(t, axis_end):.1f}" y1="3" x2="{_x(t, axis_end):.1f}" '
        f'y2="{TRACK_H - 3}" class="grid"/>'
        for t in ticks
    )
    points = [_x(_num(a.get("offset_s")) or 0.0, axis_end) for a in cb.attempts]
    path = ""
    if points:
        path = (
            f'<line x1="{points[0]:.1f}" y1="{mid}" x2="{points[-1]:.1f}" y2="{mid}" '
            f'class="span {cb.state}"/>'
        )
    marks = []
    detail_rows = []
    for attempt, x in zip(cb.attempts, points, strict=True):
        number = _int(attempt.get("attempt")) or 0
        kind = attempt_kind(attempt)
        status = _int(attempt.get("status"))
        data_status = str(status) if status is not None else _text(attempt.get("error"))
        row_id = f"{dom_id}-a{number}"
        excerpt = _clean(_text(attempt.get("response_excerpt")))
        offset = _num(attempt.get("offset_s")) or 0.0
        latency = _num(attempt.get("latency_ms"))
        late = _lateness_ms(attempt)
        tip = (
            f"{cb.callback_id} attempt {number} at +{offset:.2f} s: {attempt_result(attempt)}, "
            f"{_ms(latency)} ms"
        )
        if excerpt:
            short = excerpt[:EXCERPT_IN_TITLE] + ("…" if len(excerpt) > EXCERPT_IN_TITLE else "")
            tip += f"\nresponse: {short}"
        marks.append(
            f'<g class="attempt k-{kind}" tabindex="0" data-attempt="{number}" '
            f'data-status="{_e(data_status)}" data-kind="{kind}" data-row="{_e(row_id)}">'
            f"<title>{_e(tip)}</title>"
            f'<circle cx="{x:.1f}" cy="{mid}" r="9"/>'
            f'<text x="{x:.1f}" y="{mid + 3.5}">{number}</text></g>'
        )
        gap = _num(attempt.get("gap_s"))
        detail_rows.append(
            f'<tr id="{_e(row_id)}" data-kind="{kind}"><td>{number}</td>'
            f"<td>+{offset:.2f} s</td><td>{'-' if gap is None else f'{gap:.2f} s'}</td>"
            f'<td class="k-{kind}"><span class="dot"></span>{_e(attempt_result(attempt))}</td>'
            f"<td>{_ms(latency)} ms</td><td>{_ms(late)} ms</td>"
            f'<td><pre class="excerpt">{_e(excerpt) or "<i>(empty)</i>"}</pre></td></tr>'
        )
    if cb.state == "lost" and points:
        marks.append(f'<text x="{points[-1] + 14:.1f}" y="{mid + 4}" class="lost-mark">lost</text>')
    badge = _state_text(cb)
    meta = " · ".join(bit for bit in (cb.event, cb.task_id) if bit)
    tamper = f'<span class="tamper">{_e(cb.tamper)}</span> · ' if cb.tamper != "none" else ""
    return (
        f'<div class="timeline {cb.state}" id="{_e(dom_id)}" '
        f'data-callback-id="{_e(cb.callback_id)}" data-state="{cb.state}" '
        f'data-attempts="{cb.attempt_count}">'
        f'<div class="label-col"><div><code class="cb-id">{_e(cb.callback_id)}</code> '
        f'<span class="badge {cb.state}">{_e(badge)}</span></div>'
        f'<div class="meta" title="{_e(meta)}">{tamper}{_e(meta)}</div></div>'
        f'<svg class="track" viewBox="0 0 {TRACK_W} {TRACK_H}" '
        f'preserveAspectRatio="xMinYMid meet">{grid}'
        f'<line x1="{PAD_L}" y1="{mid}" x2="{TRACK_W - PAD_R}" y2="{mid}" class="rail"/>'
        f"{path}{''.join(marks)}</svg>"
        f'<details class="attempt-details"><summary>{cb.attempt_count} attempt'
        f"{'s' if cb.attempt_count != 1 else ''} · details</summary>"
        "<table><thead><tr><th>#</th><th>at</th><th>gap</th><th>answer</th><th>latency</th>"
        "<th>late</th><th>response excerpt</th></tr></thead>"
        f"<tbody>{''.join(detail_rows)}</tbody></table></details></div>"
    )


def _state_text(cb: CallbackView) -> str:
    if cb.state == "delivered":
        return "delivered" if cb.attempt_count == 1 else f"delivered on attempt {cb.attempt_count}"
    if cb.state == "lost":
        return f"lost after {cb.attempt_count} attempt{'s' if cb.attempt_count != 1 else ''}"
    return "no outcome (interrupted)"


def _lateness_ms(attempt: Mapping[str, Any]) -> float | None:
    sent = _num(attempt.get("sent_at"))
    scheduled = _num(attempt.get("scheduled_at"))
    return None if sent is None or scheduled is None else (sent - scheduled) * 1000


_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _clean(text: str) -> str:
    """A receiver's text without control characters (they would garble the page)."""
    return _CONTROL.sub("\N{REPLACEMENT CHARACTER}", text)


def _e(value: object) -> str:
    """HTML-escaped text of anything from a record (quotes too: it goes in attributes)."""
    return html.escape(_text(value), quote=True)


_CSS = """
:root{--ok:#16a34a;--c3:#ca8a04;--c4:#ea580c;--c5:#dc2626;--to:#7c3aed;--net:#475569;
--ink:#0f172a;--mute:#64748b;--line:#e2e8f0;--bg:#f6f7f9;--card:#fff}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;
color:var(--ink);background:var(--bg)}
main{max-width:1240px;margin:0 auto;padding:22px 28px 64px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:16px;margin:22px 0 8px}
h2.section{margin-top:28px}
code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12.5px}
.sub{color:var(--mute);margin:0}.sub b{color:var(--ink)}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(150px,1fr));gap:10px;
margin:16px 0 6px}
.card{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:10px 14px}
.card .k{color:var(--mute);font-size:11px;text-transform:uppercase;letter-spacing:.05em}
.card .v{font-size:22px;font-weight:650}
.card.multi .v{font-size:17px;padding-top:4px}
.card.good .v{color:var(--ok)}.card.bad .v{color:var(--c5)}.card.warn .v{color:var(--c3)}
#expectations ul{list-style:none;padding:0;margin:0;display:flex;flex-wrap:wrap;gap:6px}
.exp-group{display:flex;align-items:center;gap:10px;margin:0 0 6px}
.exp-run{min-width:150px;font-weight:600;font-size:13px}
.expectation{background:var(--card);border:1px solid var(--line);border-radius:8px;
padding:3px 10px;font-size:13px}
.expectation.ok .mark{color:var(--ok);font-weight:700}
.expectation.failed{border-color:#fca5a5;background:#fef2f2}
.expectation.failed .mark{color:var(--c5);font-weight:700}
.legend{display:flex;flex-wrap:wrap;gap:16px;margin:14px 0 4px;color:var(--mute);font-size:12.5px}
.legend .key{display:inline-flex;align-items:center;gap:5px}
.k-ok{fill:var(--ok);color:var(--ok)}.k-3xx{fill:var(--c3);color:var(--c3)}
.k-4xx{fill:var(--c4);color:var(--c4)}.k-5xx{fill:var(--c5);color:var(--c5)}
.k-timeout{fill:var(--to);color:var(--to)}.k-network{fill:var(--net);color:var(--net)}
.charts{display:flex;flex-wrap:wrap;gap:14px;margin:12px 0}
.chart{margin:0;background:var(--card);border:1px solid var(--line);border-radius:10px;
padding:10px 14px;flex:1 1 340px;max-width:460px}
.chart.wide{max-width:700px;flex-basis:520px}
.chart figcaption{font-weight:600;margin-bottom:4px}
.chart figcaption small{font-weight:400;color:var(--mute);display:block;font-size:12px}
.chart svg{width:100%;height:auto;display:block}
.chart .count{font-size:11px;text-anchor:middle;fill:var(--ink)}
.chart .label{font-size:11px;text-anchor:middle;fill:var(--mute)}
.chart table{border-collapse:collapse;width:100%}
.chart td,.chart th{text-align:left;padding:3px 8px;border-bottom:1px solid var(--line)}
.axis-line{stroke:#94a3b8;stroke-width:1}
.note{color:var(--mute)}
.timelines{background:var(--card);border:1px solid var(--line);border-radius:10px;
padding:4px 14px 8px}
.axis,.timeline{display:grid;grid-template-columns:270px minmax(0,1fr);column-gap:14px;
align-items:center}
.axis{position:sticky;top:0;background:var(--card);z-index:2;
border-bottom:1px solid var(--line);padding:6px 0 0}
.axis .label-col{color:var(--mute);font-size:11px;text-transform:uppercase;
letter-spacing:.05em;align-self:end;padding-bottom:6px}
.axis-svg{width:100%;height:auto;display:block}
.tick text{font-size:11px;fill:var(--mute);text-anchor:middle}
.tick line{stroke:#94a3b8}
.timeline{border-bottom:1px solid var(--line);padding:5px 0}
.timeline:last-child{border-bottom:0}
.timeline .label-col{min-width:0}
.cb-id{font-weight:600}
.meta{color:var(--mute);font-size:12px;white-space:nowrap;overflow:hidden;
text-overflow:ellipsis}
.badge{display:inline-block;font-size:11px;font-weight:600;border-radius:999px;
padding:0 8px;margin-left:2px;vertical-align:1px}
.badge.delivered{background:#dcfce7;color:#166534}.badge.lost{background:#fee2e2;color:#991b1b}
.badge.pending{background:#fef9c3;color:#854d0e}
.tamper{color:var(--c4);font-weight:600}
.track{width:100%;height:auto;display:block;overflow:visible}
.track .grid{stroke:#e5e7eb;stroke-dasharray:3 3}
.track .rail{stroke:#eef0f3;stroke-width:2}
.track .span{stroke-width:3}.span.delivered{stroke:#86efac}.span.lost{stroke:#fca5a5}
.span.pending{stroke:#fde68a}
.attempt{cursor:pointer}.attempt circle{stroke:#fff;stroke-width:2}
.attempt text{fill:#fff;font-size:10px;font-weight:700;text-anchor:middle;pointer-events:none}
.attempt:hover circle,.attempt:focus circle{stroke:var(--ink)}
.attempt:focus{outline:none}
.lost-mark{fill:var(--c5);font-size:11px;font-weight:700}
.attempt-details{grid-column:1 / -1;margin:2px 0 2px}
.attempt-details summary{cursor:pointer;color:var(--mute);font-size:12px;width:max-content}
.attempt-details table{border-collapse:collapse;width:100%;margin:6px 0;font-size:12.5px}
.attempt-details th{text-align:left;color:var(--mute);font-weight:600;
border-bottom:1px solid var(--line);padding:3px 8px}
.attempt-details td{padding:3px 8px;border-bottom:1px solid #f1f5f9;vertical-align:top;
white-space:nowrap}
.attempt-details tr.sel td{background:#fff7d6}
.dot{display:inline-block;width:9px;height:9px;border-radius:50%;background:currentColor;
margin-right:6px}
.excerpt{margin:0;white-space:pre-wrap;word-break:break-all;max-height:9em;overflow:auto;
font-size:12px;max-width:520px}
#filters{display:flex;gap:6px;margin:16px 0 8px}
#filters button{font:inherit;font-size:12.5px;border:1px solid var(--line);background:var(--card);
border-radius:999px;padding:3px 12px;cursor:pointer}
#filters button.on{background:var(--ink);color:#fff;border-color:var(--ink)}
.timeline.hidden{display:none}
@media (max-width:760px){.axis,.timeline{grid-template-columns:1fr}}
"""

_SCRIPT = """
(function(){
  var rows = Array.prototype.slice.call(document.querySelectorAll('.timeline'));
  function show(id) {
    var tr = id && document.getElementById(id);
    if (!tr || !tr.closest('details')) { return; }
    tr.closest('details').open = true;
    document.querySelectorAll('tr.sel').forEach(function (r) { r.classList.remove('sel'); });
    tr.classList.add('sel');
    tr.scrollIntoView({block: 'nearest'});
  }
  document.addEventListener('click', function (e) {
    var a = e.target.closest && e.target.closest('.attempt');
    if (a) { show(a.getAttribute('data-row')); }
  });
  if (location.hash) { show(decodeURIComponent(location.hash.slice(1))); }
  document.addEventListener('keydown', function (e) {
    if (e.key === 'Enter' && e.target.classList && e.target.classList.contains('attempt')) {
      e.target.dispatchEvent(new MouseEvent('click', {bubbles: true}));
    }
  });
  if (rows.length < 2) { return; }
  var filters = [
    ['all', 'All', function () { return true; }],
    ['retried', 'Retried', function (r) { return +r.getAttribute('data-attempts') > 1; }],
    ['lost', 'Lost', function (r) { return r.getAttribute('data-state') === 'lost'; }],
    ['first-try', 'First try', function (r) {
      return r.getAttribute('data-state') === 'delivered' &&
        r.getAttribute('data-attempts') === '1';
    }]
  ];
  var bar = document.createElement('div');
  bar.id = 'filters';
  filters.forEach(function (f) {
    var b = document.createElement('button');
    b.type = 'button';
    b.className = 'filter' + (f[0] === 'all' ? ' on' : '');
    b.setAttribute('data-filter', f[0]);
    b.textContent = f[1] + ' (' + rows.filter(f[2]).length + ')';
    b.addEventListener('click', function () {
      bar.querySelectorAll('button').forEach(function (x) { x.classList.remove('on'); });
      b.classList.add('on');
      rows.forEach(function (r) { r.classList.toggle('hidden', !f[2](r)); });
    });
    bar.appendChild(b);
  });
  var first = document.querySelector('.run');
  first.parentNode.insertBefore(bar, first);
})();
"""


# --- files and the command ---------------------------------------------------------------


def write_html(
    source: RecordSource,
    out_path: str | os.PathLike[str],
    run_ids: Sequence[str] | None = None,
) -> Path:
    """Write the HTML report of a record (path, paths, or lines) to ``out_path``.

    ``run_ids`` keeps only those runs (a record file may hold several).
    """
    return _write(Path(out_path), render_html(_select(_runs_from(source), run_ids)))


def write_junit(
    source: RecordSource,
    out_path: str | os.PathLike[str],
    run_ids: Sequence[str] | None = None,
) -> Path:
    """Write the JUnit XML of a record (path, paths, or lines) to ``out_path``."""
    return _write(Path(out_path), render_junit(_select(_runs_from(source), run_ids)))


def _select(runs: list[RunView], run_ids: Sequence[str] | None) -> list[RunView]:
    if run_ids is None:
        return runs
    chosen = [run for run in runs if run.run_id in run_ids]
    if not chosen:
        raise UsageError(f"no run {', '.join(run_ids)} in the record")
    return chosen


def _write(path: Path, text: str) -> Path:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from exc
    return path


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

    runs = load(records)
    data = report_data(runs)
    notes = Console(stderr=True, highlight=False) if as_json else Console(highlight=False)
    if as_json:
        print(json.dumps(data, indent=2, ensure_ascii=False))
    else:
        render_terminal(data, Console(highlight=False))
    if html_path:
        notes.print(f"HTML report: {write_html_runs(runs, html_path)}", markup=False)
    if junit_path:
        written = _write(Path(junit_path), render_junit(runs))
        notes.print(f"JUnit XML: {written}", markup=False)
    sys.stdout.flush()
    return 1 if check and data["expectations_failed"] else 0


def write_html_runs(runs: Sequence[RunView], out_path: str | os.PathLike[str]) -> Path:
    """Write the HTML report of runs already loaded."""
    return _write(Path(out_path), render_html(runs))


# --- coercion of record values (a hand-edited record must not crash a report) ------------


def _text(value: object) -> str:
    return "" if value is None else str(value)


def _num(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def _int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None
