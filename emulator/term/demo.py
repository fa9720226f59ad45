"""``zego-emulator demo``: the whole flow offline, with nothing else running.

    zego-emulator demo              # ~10 s: the 62 s schedule at speed 6.2
    zego-emulator demo --real-time  # the true 62 s

It runs the bundled demo scenario (:data:`DEMO_SCENARIO`, the same as
``scenarios/demo.yaml``) through the runner with the built-in receiver on a free port of
127.0.0.1 — exactly ``zego-emulator run scenarios/demo.yaml --builtin-receiver`` — so it
shows the three fates of a callback side by side:

1. accepted on the first request;
2. refused twice (500, 500), then accepted on the first retry after that (t = 0, 2, 6 s);
3. refused every time, and lost after the fifth retry (t = 0, 2, 6, 14, 30, 62 s).

While it runs, a live timeline draws each callback's requests on a 0..62 s axis; then
the summary and the expectations, and the record file's path. The exit code is 0 when
the scenario's expectations held. The scenario lives here as data (not read from
``scenarios/``) so the demo works however the package was installed; a test keeps it
equal to ``scenarios/demo.yaml``.
"""

from __future__ import annotations

import asyncio
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.table import Table
from rich.text import Text

from emulator import settings as config
from emulator.callback.model import Callback
from emulator.clock import Clock
from emulator.delivery.results import Attempt, Outcome
from emulator.retry import ZEGO_INTERVALS
from emulator.run.core import run_in_cli
from emulator.run.runner import RunInfo, RunListener, RunResult, execute
from emulator.scenario.model import Scenario
from emulator.settings import RunOptions
from emulator.term.safe import safe

DEMO_SPEED = 6.2  # the 62 s schedule in about 10 s
AXIS_SECONDS = sum(ZEGO_INTERVALS)  # 62: the last retry of a lost callback
AXIS_WIDTH = 63  # columns of the axis at most: one per emulated second, 0..62
MIN_AXIS_WIDTH = 32

# Keep equal to scenarios/demo.yaml (tests/test_demo.py checks it).
DEMO_SCENARIO: dict[str, Any] = {
    "name": "demo",
    "seed": 42,
    "callbacks": [
        {"status": "SUCCESS", "transcode": [{"resolution": "720p"}], "respond": [200]},
        {
            "status": "SUCCESS",
            "transcode": [{"resolution": "360p"}, {"resolution": "540p"}],
            "respond": [500, 500, 200],
        },
        {"status": "SUCCESS", "transcode": [{"resolution": "540p"}], "respond": [500]},
    ],
    "receiver": {"responses": [200]},
    "expect": {"callbacks": 3, "delivered": 2, "lost": 1, "attempts": 10},
}


def demo_scenario() -> Scenario:
    """The bundled demo scenario, validated."""
    return Scenario.model_validate(DEMO_SCENARIO)


# --- the live retry timeline -----------------------------------------------------------------


@dataclass
class _Mark:
    at: float  # emulated seconds since the run started
    number: int
    attempt: Attempt | None = None  # None while the request is in flight


@dataclass
class _Lane:
    """One callback's row: its requests so far, the next one planned, its fate."""

    callback_id: str
    task_id: str
    marks: list[_Mark] = field(default_factory=list)
    next_at: float | None = None
    outcome: Outcome | None = None


class Timeline(RunListener):
    """Per callback, each request as a mark on a 0..62 s axis; drawn live or at the end.

    Marks: ``●`` green for a 2xx, ``✕`` red for a failure, ``◌`` in flight, ``·`` the
    next retry's time; ``│`` is now. Without a terminal it writes one line per request.
    """

    def __init__(self, console: Console, live: bool) -> None:
        self.console = console
        self.live = live
        # the callback id and fate columns take 9 + 26 characters, plus padding
        self.axis_width = max(MIN_AXIS_WIDTH, min(AXIS_WIDTH, console.width - 42))
        self.target = ""
        self._lanes: dict[str, _Lane] = {}
        self._clock: Clock | None = None
        self._start = 0.0
        self._finished = False
        self._lock = threading.Lock()  # rich redraws from its own thread

    # listener hooks (called on the event loop)

    def run_started(self, info: RunInfo) -> None:
        with self._lock:
            self.target = info.target
            self._clock = info.clock
            self._start = info.clock.now()
            for delivery in info.deliveries:
                callback = delivery.callback
                self._lanes[callback.callback_id] = _Lane(callback.callback_id, callback.task_id)

    def retry_scheduled(self, callback: Callback, attempt: int, at: float) -> None:
        with self._lock:
            self._lane(callback).next_at = at - self._start

    def attempt_started(self, callback: Callback, attempt: int) -> None:
        with self._lock:
            lane = self._lane(callback)
            lane.next_at = None
            lane.marks.append(_Mark(self._now(), attempt))

    def attempt_finished(self, attempt: Attempt) -> None:
        with self._lock:
            lane = self._lanes.get(attempt.callback_id)
            if lane is None:
                return
            for mark in reversed(lane.marks):
                if mark.number == attempt.attempt:
                    mark.attempt = attempt
                    break
        if not self.live:
            result = attempt.status if attempt.error is None else attempt.error
            self.console.print(
                safe(
                    f"{attempt.callback_id}  request {attempt.attempt} at "
                    f"t={attempt.offset_s:>4.1f} s -> {result}"
                ),
                markup=False,
                highlight=False,
            )

    def delivery_finished(self, outcome: Outcome) -> None:
        with self._lock:
            lane = self._lanes.get(outcome.callback_id)
            if lane is not None:
                lane.outcome, lane.next_at = outcome, None

    def run_finished(self, result: RunResult) -> None:
        with self._lock:
            self._finished = True

    def _lane(self, callback: Callback) -> _Lane:
        return self._lanes.setdefault(
            callback.callback_id, _Lane(callback.callback_id, callback.task_id)
        )

    def _now(self) -> float:
        return self._clock.now() - self._start if self._clock is not None else 0.0

    # drawing

    def render(self) -> RenderableType:
        """The timeline as it stands (called by rich's refresh thread, or once at the end)."""
        with self._lock:
            lanes = list(self._lanes.values())
            now = None if self._finished else self._now()
        table = Table(box=None, pad_edge=False, header_style="bold", show_edge=False)
        table.add_column("callback", no_wrap=True, min_width=9)
        table.add_column("requests (emulated seconds)", no_wrap=True, min_width=self.axis_width)
        table.add_column("fate", no_wrap=True, min_width=26)
        for lane in lanes:
            table.add_row(safe(lane.callback_id), _axis(lane, now, self.axis_width), _fate(lane))
        table.add_row("", _ticks(self.axis_width), "")
        legend = Text.assemble(
            ("● ", "green"), "2xx   ", ("✕ ", "red"), "refused/failed   ",
            ("◌ ", "yellow"), "in flight   ", ("· ", "cyan"), "next retry   ",
            ("│ ", "yellow"), "now",
        )  # fmt: skip
        return Group(table, legend)


def _column(seconds: float, width: int) -> int:
    return max(0, min(width - 1, round(seconds * (width - 1) / AXIS_SECONDS)))


def _axis(lane: _Lane, now: float | None, width: int) -> Text:
    cells: list[tuple[str, str]] = [("─", "dim")] * width
    if now is not None and lane.outcome is None:
        cells[_column(now, width)] = ("│", "yellow")
    if lane.next_at is not None:
        cells[_column(lane.next_at, width)] = ("·", "bold cyan")
    for mark in lane.marks:
        if mark.attempt is None:
            cells[_column(mark.at, width)] = ("◌", "yellow")
        elif mark.attempt.ok:
            cells[_column(mark.at, width)] = ("●", "bold green")
        else:
            cells[_column(mark.at, width)] = ("✕", "bold red")
    text = Text()
    for char, style in cells:
        text.append(char, style=style)
    return text


def _ticks(width: int) -> Text:
    line = [" "] * (width + 4)
    for second in (0, 2, 6, 14, 30, 62):
        label = f"{second}s"
        start = _column(second, width)
        if all(cell == " " for cell in line[max(0, start - 1) : start + len(label) + 1]):
            line[start : start + len(label)] = label
    return Text("".join(line).rstrip(), style="dim")


def _fate(lane: _Lane) -> Text:
    count = len(lane.marks)
    plural = "s" if count != 1 else ""
    if lane.outcome is None:
        return Text(f"{count} request{plural}, waiting", style="yellow")
    if lane.outcome.delivered:
        return Text(f"delivered after {count} request{plural}", style="green")
    return Text(f"lost after {count} requests", style="bold red")


# --- running it ---------------------------------------------------------------------------


def run_demo(
    speed: float = DEMO_SPEED,
    record: str | Path | None = None,
    live: bool | None = None,
    stdout: IO[str] | None = None,
    virtual: bool = False,
    scenario: Scenario | None = None,
) -> int:
    """Run the demo and print it; the exit code (0 when its expectations held).

    ``scenario`` replaces the bundled one (tests; a custom walkthrough).
    """
    out = stdout or sys.stdout
    console = Console(file=out, highlight=False)
    if not console.is_terminal:
        console = Console(file=out, highlight=False, width=110)  # logs and pipes: no wrapping
    if live is None:
        live = console.is_terminal
    scenario = scenario or demo_scenario()
    callbacks = sum(int(getattr(entry, "repeat", 1)) for entry in scenario.callbacks)
    seconds = "instantly" if virtual else f"in about {AXIS_SECONDS / speed:.0f} s"
    pace = "virtual time" if virtual else f"speed {speed:g}"
    console.print(
        f"[bold]ZEGO callback demo[/]: {callbacks} callbacks, retries after 2, 4, 8, 16, 32 s, "
        f"at {pace}: done {seconds}."
    )
    options = RunOptions(
        secret=config.resolve_secret(None, quiet=True),
        speed=speed,
        virtual=virtual,
        record=record,
        live=False,
        builtin_receiver=True,
    )
    timeline = Timeline(console, live)
    result = run_in_cli(lambda stop: _run(scenario, options, timeline, console, stop))
    console.print(timeline.render())
    _print_summary(console, result)
    write_reports(result, console)
    console.print(safe(f"record: {result.record_path}"), markup=False)
    return result.exit_code


async def _run(
    scenario: Scenario,
    options: RunOptions,
    timeline: Timeline,
    console: Console,
    stop: asyncio.Event,
) -> RunResult:
    class Announce(RunListener):
        def run_started(self, info: RunInfo) -> None:
            console.print(safe(f"receiver listening on {info.target}"), markup=False)

    listeners = [Announce(), timeline]
    if not timeline.live:
        return await execute(scenario, options, listeners, source="demo", stop=stop)
    with Live(
        console=console,
        get_renderable=timeline.render,
        refresh_per_second=8,
        transient=True,
        redirect_stdout=False,
        redirect_stderr=False,
    ):
        return await execute(scenario, options, listeners, source="demo", stop=stop)


def _print_summary(console: Console, result: RunResult) -> None:
    from emulator.term.live import expectations_table, summary_table

    console.print(summary_table(result))
    if result.expectations:
        console.print(expectations_table(result))
    if result.failed:
        for item in result.failed:
            console.print(Text(safe(f"expectation failed: {item.describe()}"), style="bold red"))
    else:
        console.print(Text("every expectation held", style="green"))


def write_reports(result: RunResult, console: Console) -> None:
    """Write the HTML retry timeline beside the record and print where it went.

    Called once the record is complete and its path is known (``result.record_path``).
    """
    from emulator.report.html import write_html

    html_path = write_html(
        result.record_path, result.record_path.with_suffix(".html"), run_ids=[result.run_id]
    )
    console.print(safe(f"HTML report: {html_path}  (open it in a browser)"), markup=False)


__all__ = ["DEMO_SCENARIO", "DEMO_SPEED", "Timeline", "demo_scenario", "run_demo", "write_reports"]
