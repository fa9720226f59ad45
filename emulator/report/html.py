"""A self-contained HTML timeline of runs: inline CSS, inline SVG, a tiny script.

Above ``AGGREGATE_OVER`` callbacks the report switches to an aggregate view (histograms
of attempts per callback and of attempt offsets, status table) plus the first
``DETAIL_LIMIT`` callbacks that needed a retry, so its size stays bounded. Everything from
a record is HTML-escaped (response excerpts come from the receiver), and a
Content-Security-Policy allows no network and no script but our own. The CSS and script
are package data (``assets/report.css``, ``assets/report.js``).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import html
import math
import os
import re
import time
from array import array
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from emulator.events.zim.hook_answer import decision_summary
from emulator.retry import ZEGO_INTERVALS

if TYPE_CHECKING:
    pass
from emulator.report.model import (
    CallbackView,
    RecordSource,
    RunView,
    as_int,
    as_number,
    as_text,
    runs_from,
    select_runs,
    write_file,
)
from emulator.report.stats import (
    EXCERPT_IN_TITLE,
    KIND_LABELS,
    attempt_kind,
    attempt_result,
    ms_text,
    state_text,
    stats,
)

TRACK_W, TRACK_H, PAD_L, PAD_R = 900, 34, 16, 28
AGGREGATE_OVER = 200  # callbacks; more than this and the HTML shows the aggregate view


DETAIL_LIMIT = 50  # callbacks shown in detail in the aggregate view


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
        if not isinstance(intervals, list) or not all(
            as_number(gap) is not None for gap in intervals
        ):
            return ZEGO_INTERVALS
        found.add(tuple(float(gap) for gap in intervals))
    return found.pop() if len(found) == 1 else ZEGO_INTERVALS


@dataclass
class HtmlFacts:
    """What the page needs beyond the run lines: the totals, each attempt's offset and
    whether it was accepted (the offset histogram), and the callbacks shown in detail."""

    total: dict[str, Any]
    callbacks: int
    retried: int
    broken: int
    offsets: array[float]
    accepted: bytearray  # 1 per attempt the receiver accepted, in the order of offsets
    shown: dict[str, list[CallbackView]]  # per run_id: the timelines drawn

    @property
    def aggregate(self) -> bool:
        return self.callbacks > AGGREGATE_OVER


def html_facts(runs: Sequence[RunView]) -> HtmlFacts:
    """The facts of runs whose every callback view is at hand."""
    callbacks = [cb for run in runs for cb in run.views]
    offsets = array("d")
    accepted = bytearray()
    for cb in callbacks:
        for attempt in cb.attempts:
            offsets.append(as_number(attempt.get("offset_s")) or 0.0)
            accepted.append(attempt_kind(attempt) == "ok")
    facts = HtmlFacts(
        total=stats(callbacks),
        callbacks=len(callbacks),
        retried=sum(1 for cb in callbacks if cb.retried),
        broken=sum(1 for cb in callbacks if cb.broken),
        offsets=offsets,
        accepted=accepted,
        shown={},
    )
    facts.shown = _detail_callbacks(runs) if facts.aggregate else {r.run_id: r.views for r in runs}
    return facts


def render_html(
    runs: Sequence[RunView], title: str = "ZEGO callback report", facts: HtmlFacts | None = None
) -> str:
    """One self-contained HTML page (no network): summary, histograms, retry timelines.
    ``facts``: what a streaming reader kept (default: taken from the runs' views)."""
    facts = facts or html_facts(runs)
    total = facts.total
    ticks = schedule_ticks(max(facts.offsets, default=0.0), recorded_intervals(runs))
    axis_end = ticks[-1]
    aggregate = facts.aggregate
    charts = ['<section class="charts" id="charts">', _html_attempts_histogram(total)]
    if aggregate:
        charts.append(_html_offset_histogram(facts, ticks))
    charts += [_html_status_table(total), "</section>"]
    timelines = [_html_legend()]
    if aggregate:
        retried = facts.retried
        count = sum(len(v) for v in facts.shown.values())
        which = f"the first {count}" if count < retried else f"all {count}"
        timelines.append(
            f'<p class="note" id="aggregate-note">{facts.callbacks:,} callbacks, so this is the '
            f"aggregate view. Below: {which} of the {retried:,} callbacks that needed a retry"
            f"{'' if retried else f' (none did; showing the first {count})'}.</p>"
        )
    for run in runs:
        chosen = facts.shown.get(run.run_id, [])
        timelines.append(_html_run(run, chosen, ticks, axis_end, len(runs) > 1))
    parts = [_html_header(runs, total, title, facts.broken), _html_expectations(runs)]
    if aggregate:
        parts += charts + timelines
    else:
        parts += [*timelines, '<h2 class="section">Distribution</h2>', *charts]
    body = "\n".join(parts)
    script, style = _asset("report.js"), _asset("report.css")
    script_hash = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    csp = (
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
        f"script-src 'sha256-{script_hash}'"
    )
    mode = "aggregate" if aggregate else "detail"
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{csp}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{_e(title)}</title>\n<style>{style}</style></head>\n"
        f'<body data-mode="{mode}"><main>\n{body}\n</main>\n'
        f"<script>{script}</script></body></html>\n"
    )


def _detail_callbacks(runs: Sequence[RunView]) -> dict[str, list[CallbackView]]:
    """The callbacks the aggregate view shows in detail: the first that needed a retry."""
    chosen: dict[str, list[CallbackView]] = {}
    left = DETAIL_LIMIT
    any_retried = any(cb.retried for run in runs for cb in run.views)
    for wanted in ("broken", "retried"):  # failed verdicts first, then retries
        for run in runs:
            for cb in run.views:
                if not left:
                    return chosen
                if wanted == "broken" and not cb.broken:
                    continue
                if wanted == "retried" and (cb.broken or not (cb.retried or not any_retried)):
                    continue
                chosen.setdefault(run.run_id, []).append(cb)
                left -= 1
    return chosen


def _html_header(runs: Sequence[RunView], total: Mapping[str, Any], title: str, broken: int) -> str:
    sources = sorted({source for run in runs for source in run.sources})
    if len(runs) == 1:
        run = runs[0]
        started = as_number((run.run or {}).get("started_at"))
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
            " / ".join(ms_text(latency[k]) for k in ("p50", "p95", "p99")),
            "multi",
        ),
        (
            "schedule lateness ms p50 / p99 (real time)",
            "n/a (virtual time)"
            if runs and all((run.run or {}).get("virtual") is True for run in runs)
            else f"{ms_text(lateness['p50'])} / {ms_text(lateness['p99'])}",
            "multi",
        ),
    ]
    if total["pending"]:
        cards.insert(3, ("no outcome", str(total["pending"]), "warn"))
    if broken:
        cards.insert(3, ("failed expect", f"{broken:,}", "bad"))
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


def _html_offset_histogram(facts: HtmlFacts, ticks: Sequence[float]) -> str:
    """Where every attempt fell on the schedule axis, in bins (the aggregate view)."""
    width, height, base = 620, 190, 160
    axis_end = ticks[-1] or 1.0
    bins = 124
    ok = [0] * bins
    failed = [0] * bins
    for offset, accepted in zip(facts.offsets, facts.accepted, strict=True):
        index = min(bins - 1, int(max(0.0, offset) / axis_end * bins))
        (ok if accepted else failed)[index] += 1
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
    virtual = (run.run or {}).get("virtual") is True
    rows = "\n".join(_html_timeline(cb, ticks, axis_end, virtual) for cb in callbacks)
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


def _html_timeline(
    cb: CallbackView, ticks: Sequence[float], axis_end: float, virtual: bool = False
) -> str:
    """One callback's row: its attempts on the axis and a table of them. ``virtual``: the
    run had no real waits, so lateness (real time behind the schedule) means nothing."""
    dom_id = "cb-" + re.sub(r"[^A-Za-z0-9_-]", "_", f"{cb.run_id}-{cb.callback_id}")
    mid = TRACK_H / 2
    grid = "".join(
        f'<line x1="{_x(t, axis_end):.1f}" y1="3" x2="{_x(t, axis_end):.1f}" '
        f'y2="{TRACK_H - 3}" class="grid"/>'
        for t in ticks
    )
    points = [_x(as_number(a.get("offset_s")) or 0.0, axis_end) for a in cb.attempts]
    path = ""
    if points:
        path = (
            f'<line x1="{points[0]:.1f}" y1="{mid}" x2="{points[-1]:.1f}" y2="{mid}" '
            f'class="span {cb.state}"/>'
        )
    marks = []
    detail_rows = []
    for attempt, x in zip(cb.attempts, points, strict=True):
        number = as_int(attempt.get("attempt")) or 0
        kind = attempt_kind(attempt)
        status = as_int(attempt.get("status"))
        data_status = str(status) if status is not None else as_text(attempt.get("error"))
        row_id = f"{dom_id}-a{number}"
        excerpt = _clean(as_text(attempt.get("response_excerpt")))
        offset = as_number(attempt.get("offset_s")) or 0.0
        latency = as_number(attempt.get("latency_ms"))
        late = _lateness_ms(attempt)
        tip = (
            f"{cb.callback_id} attempt {number} at +{offset:.2f} s: {attempt_result(attempt)}, "
            f"{ms_text(latency)} ms"
        )
        if excerpt:
            short = excerpt[:EXCERPT_IN_TITLE] + ("…" if len(excerpt) > EXCERPT_IN_TITLE else "")
            tip += f"\nresponse: {short}"
        decision = attempt.get("decision")
        decided = decision_summary(decision) if isinstance(decision, dict) else ""
        if decided:
            tip += f"\ndecision: {decided}"
        marks.append(
            f'<g class="attempt k-{kind}" tabindex="0" data-attempt="{number}" '
            f'data-status="{_e(data_status)}" data-kind="{kind}" data-row="{_e(row_id)}">'
            f"<title>{_e(tip)}</title>"
            f'<circle cx="{x:.1f}" cy="{mid}" r="9"/>'
            f'<text x="{x:.1f}" y="{mid + 3.5}">{number}</text></g>'
        )
        gap = as_number(attempt.get("gap_s"))
        detail_rows.append(
            f'<tr id="{_e(row_id)}" data-kind="{kind}"><td>{number}</td>'
            f"<td>+{offset:.2f} s</td><td>{'-' if gap is None else f'{gap:.2f} s'}</td>"
            f'<td class="k-{kind}"><span class="dot"></span>{_e(attempt_result(attempt))}</td>'
            f"<td>{ms_text(latency)} ms</td>"
            f"<td>{'n/a (virtual time)' if virtual else f'{ms_text(late)} ms'}</td>"
            f'<td><pre class="excerpt">{_e(excerpt) or "<i>(empty)</i>"}</pre>'
            + (f'<div class="decision">decision: {_e(decided)}</div>' if decided else "")
            + "</td></tr>"
        )
    if cb.state == "lost" and points:
        marks.append(f'<text x="{points[-1] + 14:.1f}" y="{mid + 4}" class="lost-mark">lost</text>')
    badge = state_text(cb)
    meta = " · ".join(bit for bit in (cb.event, cb.task_id) if bit)
    tamper = f'<span class="tamper">{_e(cb.tamper)}</span> · ' if cb.tamper != "none" else ""
    verdict = ""
    if cb.broken:
        verdict = (
            f'<span class="badge broken">expected {_e(cb.expect)}</span>'
            f'<div class="why" data-verdict="fail">{_e(cb.why)}</div>'
        )
    elif cb.expect and cb.expect != "any":
        verdict = f'<span class="badge held" title="{_e(cb.why)}">{_e(cb.expect)} ✓</span>'
    broken = " broken" if cb.broken else ""
    return (
        f'<div class="timeline {cb.state}{broken}" id="{_e(dom_id)}" '
        f'data-callback-id="{_e(cb.callback_id)}" data-state="{cb.state}" '
        f'data-verdict="{"fail" if cb.broken else "pass"}" '
        f'data-attempts="{cb.attempt_count}">'
        f'<div class="label-col"><div><code class="cb-id">{_e(cb.callback_id)}</code> '
        f'<span class="badge {cb.state}">{_e(badge)}</span>{verdict}</div>'
        f'<div class="meta" title="{_e(meta)}">{tamper}{_e(meta)}</div></div>'
        f'<svg class="track" viewBox="0 0 {TRACK_W} {TRACK_H}" '
        f'preserveAspectRatio="xMinYMid meet">{grid}'
        f'<line x1="{PAD_L}" y1="{mid}" x2="{TRACK_W - PAD_R}" y2="{mid}" class="rail"/>'
        f"{path}{''.join(marks)}</svg>"
        f'<details class="attempt-details"><summary>{cb.attempt_count} attempt'
        f"{'s' if cb.attempt_count != 1 else ''} · details</summary>"
        "<table><thead><tr><th>#</th>"
        '<th title="emulated seconds since the first request">at (emulated s)</th>'
        '<th title="emulated seconds since the previous request">gap (emulated s)</th>'
        "<th>answer</th>"
        '<th title="real milliseconds until the answer">latency (real ms)</th>'
        '<th title="real milliseconds the request went out after its scheduled time">'
        "late (real ms)</th><th>response excerpt</th></tr></thead>"
        f"<tbody>{''.join(detail_rows)}</tbody></table></details></div>"
    )


def _lateness_ms(attempt: Mapping[str, Any]) -> float | None:
    sent = as_number(attempt.get("sent_at"))
    scheduled = as_number(attempt.get("scheduled_at"))
    return None if sent is None or scheduled is None else (sent - scheduled) * 1000


_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _clean(text: str) -> str:
    """A receiver's text without control characters (they would garble the page)."""
    return _CONTROL.sub("\N{REPLACEMENT CHARACTER}", text)


_UNSEEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def _e(value: object) -> str:
    """HTML-escaped text of anything from a record (quotes too: it goes in attributes);
    a control character (ESC, BEL... from a hand-edited record) is written as ``\\x1b``."""
    text = as_text(value)
    if not text.isprintable():
        text = _UNSEEN.sub(lambda found: found.group().encode("unicode_escape").decode(), text)
    return html.escape(text, quote=True)


def write_html(
    source: RecordSource,
    out_path: str | os.PathLike[str],
    run_ids: Sequence[str] | None = None,
) -> Path:
    """Write the HTML report of a record (path, paths, or lines) to ``out_path``.

    ``run_ids`` keeps only those runs (a record file may hold several).
    """
    return write_file(Path(out_path), render_html(select_runs(runs_from(source), run_ids)))


def write_html_runs(runs: Sequence[RunView], out_path: str | os.PathLike[str]) -> Path:
    """Write the HTML report of runs already loaded."""
    return write_file(Path(out_path), render_html(runs))


@functools.cache
def _asset(name: str) -> str:
    """The text of one file of ``emulator/report/assets`` (package data, in the wheel)."""
    return resources.files("emulator.report").joinpath("assets", name).read_text(encoding="utf-8")
