"""The ``report`` command's terminal summary: rich tables built from ``report_data``."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text
from emulator.redact import without_controls
from emulator.report.model import as_text
from emulator.report.stats import ms_text

TERMINAL_EXPECTATIONS = 12  # more than this: the terminal lists only the failed ones
TERMINAL_ROWS = 100  # runs, failed expectations and failed callbacks listed at most


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
    from rich.text import Text

    failed = [item for run in runs for item in run.get("failed_callbacks", [])]
    for item in failed[:TERMINAL_ROWS]:
        line = (
            f"expectation failed: callback {_safe(item.get('callback_id'))} "
            f"({_safe(item.get('event'))}): {_safe(item.get('why'))}"
        )
        console.print(Text(line, style="bold red"), soft_wrap=True)
    if len(failed) > TERMINAL_ROWS:
        more = len(failed) - TERMINAL_ROWS
        console.print(
            Text(f"... and {more:,} more failed callbacks (report --json lists every one)"),
            style="bold red",
            soft_wrap=True,
        )


def _single_run_table(run: Mapping[str, Any]) -> Any:
    from rich.table import Table
    from rich.text import Text

    stats = run["stats"]
    title = Text("Callback delivery — ")
    title.append(without_controls(str(run["scenario"])), style="bold")
    table = Table(title=title, title_justify="left", show_header=False)
    table.add_column("")
    table.add_column("", justify="right")
    rows: list[tuple[str, Text | str]] = [
        ("callbacks", str(stats["callbacks"])),
        ("delivered", Text(str(stats["delivered"]), style="green")),
        ("lost", Text(str(stats["lost"]), style="red" if stats["lost"] else "")),
        ("attempts", str(stats["attempts"])),
        ("status codes", _counts(stats["status_codes"]) or "-"),
        ("errors", _safe(_counts(stats["errors"])) or "-"),
        ("latency p50/p95/p99 ms", _triple(stats["latency_ms"], ("p50", "p95", "p99"))),
        ("schedule lateness p50/p99 ms", _triple(stats["lateness_ms"], ("p50", "p99"))),
    ]
    if stats["pending"]:
        rows.insert(3, ("no outcome (interrupted)", Text(str(stats["pending"]), style="yellow")))
    for label, value in rows:
        table.add_row(label, Text(value) if isinstance(value, str) else value)
    bits = [f"run {_safe(run['run_id'])}"] if run["run_id"] else []
    if run["target"]:
        bits.append(f"target {_safe(run['target'])}")
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
    label = _Labels(runs)
    for run in runs[:TERMINAL_ROWS]:
        table.add_row(Text(label(run)), *_run_cells(run["stats"]))
    answers = _counts(total["status_codes"]) + "  " + _safe(_counts(total["errors"]))
    caption = f"answers: {answers.strip()}"
    if len(runs) > TERMINAL_ROWS:
        caption = (
            f"{caption}\n{len(runs) - TERMINAL_ROWS:,} more runs not shown (counted in "
            "all runs; report --json lists every run)"
        )
    table.caption = Text(caption)
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
        Text(ms_text(stats["lateness_ms"]["p99"])),
    ]


class _Labels:
    """Each run's label: its scenario name (and a swarm shard's worker), with the run id
    when two runs share it. The names are counted once (not once per run: 20,000 runs)."""

    def __init__(self, runs: Sequence[Mapping[str, Any]]) -> None:
        self.counts = Counter(self.name(run) for run in runs)

    @staticmethod
    def name(item: Mapping[str, Any]) -> str:
        worker = item.get("worker")
        label = f"{item['scenario']} {worker}" if worker else str(item["scenario"])
        return without_controls(label)

    def __call__(self, run: Mapping[str, Any]) -> str:
        name = self.name(run)
        return f"{name} ({_safe(run['run_id'])})" if self.counts[name] > 1 else name


def _safe(value: object) -> str:
    """Text from a record for the terminal: control characters escaped."""
    return without_controls(as_text(value))


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
    label = _Labels(runs)
    shown = list(expectations)
    held = 0
    hidden = 0
    if len(shown) > TERMINAL_EXPECTATIONS:
        shown = [(run, item) for run, item in expectations if not item.get("ok")]
        held = len(expectations) - len(shown)
        if not shown:
            return Text(f"Expectations: all {held} held", style="green")
        hidden = max(0, len(shown) - TERMINAL_ROWS)
        shown = shown[:TERMINAL_ROWS]
    table = Table(title="Expectations", title_justify="left")
    for header in ("run", "expectation", "expected", "observed", "")[0 if show_run else 1 :]:
        table.add_column(header)
    for run, item in shown:
        ok = bool(item.get("ok"))
        cells = [
            Text(label(run)),
            Text(_safe(item.get("name"))),
            Text(_safe(item.get("expected"))),
            Text(_safe(item.get("observed"))),
            Text("ok", style="green") if ok else Text("FAILED", style="bold red"),
        ]
        table.add_row(*cells[0 if show_run else 1 :])
    if hidden:
        table.caption = Text(
            f"{hidden:,} more failed expectation(s) not shown (report --json lists them)"
            + (f"; {held} more held" if held else ""),
            style="bold red",
        )
    elif held:
        table.caption = Text(f"{held} more expectation(s) held", style="green")
    return table


def _counts(counts: Mapping[str, int]) -> str:
    return "  ".join(f"{key}×{value}" for key, value in counts.items())


def _triple(values: Mapping[str, float | None], keys: Sequence[str]) -> str:
    return " / ".join(ms_text(values.get(key)) for key in keys)
