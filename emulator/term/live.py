"""What ``run``, ``send`` and ``show`` print: a live view, plain lines, summaries, requests.

* :class:`LiveView` — a rich ``Live`` table while a run goes (stdout is a terminal):
  per callback the attempts so far, the last status or error, and when the next retry goes.
* :class:`LineLog` — one plain line per attempt and per outcome (``--no-live``, pipes, CI).
* :class:`Output` — picks one of those for a run's options, prints the summary table and
  each failed expectation at the end, or with ``--json`` exactly the summary object.
* :func:`show_requests` — the dry run's requests and their ``curl`` lines.

Nothing here ever sees a secret: bodies carry only the signature. rich is imported only
where a table, a style or the live view is drawn: ``--json`` and plain lines never load it.
"""

from __future__ import annotations

import contextlib
import json
import sys
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Any

from emulator.callback.model import Callback
from emulator.clock import Clock
from emulator.delivery.dispatch import DispatchListener
from emulator.delivery.results import Attempt, Outcome
from emulator.errors import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK
from emulator.redact import without_password
from emulator.run.expect import describe_broken
from emulator.run.runner import RunInfo, RunListener, RunResult
from emulator.scenario.model import Scenario
from emulator.settings import RunOptions
from emulator.term.safe import SafeStream, json_text, safe, say

if TYPE_CHECKING:
    from rich.console import Console, RenderableType
    from rich.table import Table
    from rich.text import Text

PLACEHOLDER_TARGET = "http://127.0.0.1:8080/zego/callback"
LIVE_ROWS = 20  # callbacks shown at once in the live view
TIMELINE_ROWS = 20  # runs with at most this many callbacks get a per-callback table
BROKEN_SHOWN = 20  # failed per-callback expectations printed at the end of a run, at most


def attempt_result(attempt: Attempt, detailed: bool = False) -> str:
    """``200``, ``500`` or ``timeout`` — what one request got; ``detailed`` adds the
    reason of an error (``tls (TLS with host: certificate verify failed: ...)``)."""
    if attempt.error is not None:
        error: str = attempt.error
        if detailed and attempt.error_detail:
            error = f"{error} ({attempt.error_detail})"
        return error if attempt.status is None else f"{attempt.status} {error}"
    return str(attempt.status)


# --- while running -----------------------------------------------------------------------


@dataclass
class _Row:
    """The live view's state of one callback."""

    callback_id: str
    event: str
    attempts: list[Attempt] = field(default_factory=list)
    next_at: float | None = None  # emulated time of the next request
    next_number: int = 1
    sending: bool = False
    outcome: Outcome | None = None

    @property
    def state(self) -> str:
        if self.outcome is not None:
            return "delivered" if self.outcome.delivered else "lost"
        if self.sending:
            return "sending"
        return "waiting" if self.attempts or self.next_at else "pending"


class LiveView(RunListener):
    """A rich ``Live`` table of the run, redrawn a few times a second."""

    def __init__(self, console: Console) -> None:
        from rich.live import Live

        self.console = console
        self.info: RunInfo | None = None
        self.clock: Clock | None = None
        self._rows: dict[str, _Row] = {}
        self._lock = threading.Lock()  # rich redraws from its own thread
        self._live = Live(
            console=console,
            get_renderable=self.render,
            refresh_per_second=4,
            transient=True,
            redirect_stdout=False,
            redirect_stderr=False,
        )

    def __enter__(self) -> LiveView:
        self._live.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._live.stop()

    def run_started(self, info: RunInfo) -> None:
        with self._lock:
            self.info = info
            self.clock = info.clock
            for delivery in info.deliveries:
                callback = delivery.callback
                self._rows[callback.callback_id] = _Row(callback.callback_id, callback.event)

    def retry_scheduled(self, callback: Callback, attempt: int, at: float) -> None:
        with self._lock:
            row = self._row(callback)
            row.next_at, row.next_number = at, attempt

    def attempt_started(self, callback: Callback, attempt: int) -> None:
        with self._lock:
            row = self._row(callback)
            row.sending, row.next_at = True, None

    def attempt_finished(self, attempt: Attempt) -> None:
        with self._lock:
            row = self._rows.setdefault(
                attempt.callback_id, _Row(attempt.callback_id, attempt.event)
            )
            row.attempts.append(attempt)
            row.sending = False

    def delivery_finished(self, outcome: Outcome) -> None:
        with self._lock:
            row = self._rows.setdefault(
                outcome.callback_id, _Row(outcome.callback_id, outcome.event)
            )
            row.outcome, row.next_at, row.sending = outcome, None, False

    def _row(self, callback: Callback) -> _Row:
        return self._rows.setdefault(
            callback.callback_id, _Row(callback.callback_id, callback.event)
        )

    def render(self) -> RenderableType:
        from rich.console import Group
        from rich.table import Table
        from rich.text import Text

        with self._lock:
            rows = list(self._rows.values())
            now = self.clock.now() if self.clock is not None else 0.0
            info = self.info
        done = [row for row in rows if row.outcome is not None]
        delivered = sum(1 for row in done if row.state == "delivered")
        attempts = sum(len(row.attempts) for row in rows)
        title = Text.assemble(
            ("run ", "bold"),
            (safe(info.scenario) if info else "", "bold cyan"),
            (safe(f" -> {without_password(info.target)}") if info else "", "dim"),
            f"   t={now:.1f} s   callbacks {len(rows)}   delivered {delivered}   "
            f"lost {len(done) - delivered}   attempts {attempts}",
        )
        table = Table(box=None, pad_edge=False, header_style="bold")
        for column in ("callback", "event", "attempts", "last", "next request", "state"):
            table.add_column(column)
        active = [row for row in rows if row.outcome is None and (row.attempts or row.sending)]
        waiting = [row for row in rows if row.outcome is None and row not in active]
        shown = (active + waiting[: max(0, LIVE_ROWS - len(active))] + done[::-1])[:LIVE_ROWS]
        for row in shown:
            last = safe(attempt_result(row.attempts[-1])) if row.attempts else "-"
            upcoming = "-"
            if row.next_at is not None:
                upcoming = f"#{row.next_number} in {max(0.0, row.next_at - now):.1f} s"
            elif row.sending:
                upcoming = "in flight"
            table.add_row(
                safe(row.callback_id),
                safe(row.event),
                str(len(row.attempts)),
                Text(last, style=_result_style(row.attempts[-1]) if row.attempts else ""),
                upcoming,
                Text(row.state, style=_STATE_STYLES.get(row.state, "")),
            )
        hidden = len(rows) - len(shown)
        parts: list[RenderableType] = [title, table]
        if hidden > 0:
            parts.append(Text(f"... and {hidden} more", style="dim"))
        return Group(*parts)


_STATE_STYLES = {"delivered": "green", "lost": "red", "sending": "yellow", "waiting": "yellow"}


def _result_style(attempt: Attempt) -> str:
    return "green" if attempt.ok else "red"


class LineLog(RunListener):
    """One plain line per attempt and per outcome, for pipes, CI logs and ``--no-live``."""

    wants_deliveries = False  # the count is enough: callbacks are generated as they go

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream

    def run_started(self, info: RunInfo) -> None:
        count, target = info.planned, without_password(info.target)
        noun = "callback" if count == 1 else "callbacks"
        self._print(f"run {info.scenario} -> {target} ({count} {noun})")

    def attempt_finished(self, attempt: Attempt) -> None:
        gap = "" if attempt.gap_s is None else f" gap {attempt.gap_s:.1f}s"
        decided = "" if attempt.decision is None else f"; {decision_text(attempt.decision)}"
        self._print(
            f"{attempt.callback_id} attempt {attempt.attempt} +{attempt.offset_s:.1f}s{gap} "
            f"-> {attempt_result(attempt, detailed=True)} ({attempt.latency_ms:.0f} ms){decided}"
        )

    def delivery_finished(self, outcome: Outcome) -> None:
        verdict = "delivered" if outcome.delivered else "lost"
        plural = "s" if outcome.attempts != 1 else ""
        judged = ""
        if outcome.verdict is not None and not outcome.verdict.ok:
            judged = f" -- FAILED: {outcome.verdict.reason}"
        self._print(
            f"{outcome.callback_id} {verdict} after {outcome.attempts} attempt{plural}{judged}"
        )

    def _print(self, line: str) -> None:
        say(safe(line), file=self.stream)


# --- after running -----------------------------------------------------------------------


def summary_table(result: RunResult) -> Table:
    """Callbacks, delivered, lost, attempts (and pending when stopped early)."""
    from rich.table import Table

    title = safe(result.scenario)
    table = Table(title=title, title_justify="left", header_style="bold")
    columns = ["callbacks", "delivered", "lost", "attempts", "max attempts"]
    if result.interrupted:
        columns.append("not finished")
    for column in columns:
        table.add_column(column, justify="right")
    summary = result.summary
    values = [
        summary["callbacks"],
        summary["delivered"],
        summary["lost"],
        summary["attempts"],
        summary["max_attempts"],
    ]
    if result.interrupted:
        values.append(summary["pending"])
    table.add_row(*(str(value) for value in values))
    return table


def timeline_table(result: RunResult) -> Table:
    """Per callback: each request's offset and result, and the outcome."""
    from rich.table import Table
    from rich.text import Text

    table = Table(header_style="bold", box=None, pad_edge=False)
    columns = ["callback", "event", "requests (emulated s since the first)", "outcome"]
    judged = any(outcome.verdict is not None for outcome in result.outcomes)
    decided = any(final_decision(outcome) is not None for outcome in result.outcomes)
    if decided:
        columns.append("decision")
    for column in [*columns, "expect"] if judged else columns:
        table.add_column(column)
    for outcome in sorted(result.outcomes, key=lambda o: o.callback_id):
        steps = ", ".join(
            f"+{attempt.offset_s:.0f}s {attempt_result(attempt)}" for attempt in outcome.history
        )
        verdict = "delivered" if outcome.delivered else "lost"
        cells: list[str | Text] = [
            safe(outcome.callback_id),
            safe(outcome.event),
            safe(steps),
            Text(verdict, style="green" if outcome.delivered else "red"),
        ]
        if decided:
            decision = final_decision(outcome)
            cells.append("" if decision is None else safe(decision_text(decision)))
        if judged:
            cells.append(verdict_text(outcome))
        table.add_row(*cells)
    return table


def final_decision(outcome: Outcome) -> dict[str, Any] | None:
    """The decision of a hook's last answer (None for other callbacks)."""
    return outcome.history[-1].decision if outcome.history else None


def decision_text(decision: dict[str, Any]) -> str:
    """``result 3 (refuse): not sent, reason 'spam'`` — a hook's decision in one line."""
    from emulator.events.zim.hook_answer import decision_summary

    return decision_summary(decision)


def verdict_text(outcome: Outcome) -> Text:
    """``refused ok`` in green, ``refused FAILED`` in red, or nothing when not judged."""
    from rich.text import Text

    judged = outcome.verdict
    if judged is None:
        return Text("")
    if judged.ok:
        return Text(safe(f"{judged.expect} ok"), style="green")
    return Text(safe(f"{judged.expect} FAILED"), style="bold red")


def expectations_table(result: RunResult) -> Table:
    from rich.table import Table
    from rich.text import Text

    table = Table(header_style="bold", title="expectations", title_justify="left")
    for column in ("expect", "expected", "observed", ""):
        table.add_column(column)
    for item in result.expectations:
        mark = Text("ok", style="green") if item.ok else Text("FAILED", style="bold red")
        table.add_row(safe(item.name), safe(item.expected), safe(item.observed), mark)
    return table


class Output:
    """The terminal side of ``run``/``send``: live view or lines, then summaries or JSON."""

    def __init__(self, live: bool, as_json: bool, stdout: IO[str], stderr: IO[str]) -> None:
        self.live = live
        self.as_json = as_json
        self.stdout = stdout
        self.stderr = stderr
        self._console: Console | None = None
        self._notes: Console | None = None

    @property
    def console(self) -> Console:
        """The rich console on stdout (made on first use)."""
        if self._console is None:
            from rich.console import Console

            self._console = Console(file=self.stdout, highlight=False)
        return self._console

    @property
    def notes(self) -> Console:
        """The rich console notes go to: stderr with --json, else stdout (made on first use)."""
        if self._notes is None:
            from rich.console import Console

            stream = self.stderr if self.as_json else self.stdout
            self._notes = Console(file=stream, highlight=False)
        return self._notes

    @classmethod
    def for_options(
        cls, options: RunOptions, stdout: IO[str] | None = None, stderr: IO[str] | None = None
    ) -> Output:
        out = stdout or sys.stdout
        is_tty = bool(getattr(out, "isatty", lambda: False)())
        live = not options.json and options.live is not False and (options.live or is_tty)
        return cls(live, options.json, out, stderr or sys.stderr)

    @contextlib.contextmanager
    def run_view(self, options: RunOptions) -> Iterator[Sequence[DispatchListener]]:
        """The listeners that show one run as it goes."""
        if self.as_json:
            yield ()
        elif self.live:
            with LiveView(self.console) as view:
                yield (view,)
        else:
            yield (LineLog(self.stdout),)

    def run_done(self, result: RunResult) -> None:
        """After one run: the summary (not with --json), each failed expectation, the record."""
        if not self.as_json:
            if result.outcomes and len(result.outcomes) <= TIMELINE_ROWS:
                self.console.print(timeline_table(result))
            self.console.print(summary_table(result))
            if result.expectations:
                self.console.print(expectations_table(result))
        for item in [] if result.interrupted else result.failed:
            self._note(f"expectation failed: {item.describe()}", "bold red")
        broken = result.broken
        for outcome in broken[:BROKEN_SHOWN]:
            self._note(f"expectation failed: {describe_broken(outcome)}", "bold red")
        if len(broken) > BROKEN_SHOWN:
            more = len(broken) - BROKEN_SHOWN
            self.note(f"... and {more} more failed callbacks (see the record)")
        if result.interrupted:
            self._note(
                f"interrupted: {result.summary['pending']} callbacks not finished "
                "(the summary is in the record)",
                "yellow",
            )
        notes = self.stderr if self.as_json else self.stdout
        say(f"record: {result.record_path}", file=notes)  # plain: no wrapping

    def _note(self, text: str, style: str) -> None:
        from rich.text import Text

        self.notes.print(Text(safe(text), style=style), soft_wrap=True)

    def note(self, text: str) -> None:
        """One plain line after the run (on stderr with --json)."""
        self.notes.print(safe(text), markup=False, soft_wrap=True)

    def finish(self, results: Sequence[RunResult]) -> int:
        """Print the JSON (with --json) and return the exit code of all runs."""
        if self.as_json:
            payload: Any = results[0].summary if len(results) == 1 else [r.summary for r in results]
            say(json_text(payload), file=self.stdout)
        if any(result.interrupted for result in results):
            return EXIT_INTERRUPTED
        if any(result.failed or result.broken for result in results):
            return EXIT_FAILED
        return EXIT_OK


# --- show ----------------------------------------------------------------------------------


def _json_kind(value: object) -> str:
    """``JSON number``/``array``/``object``/... for a typed field value; "" for a string."""
    if isinstance(value, str):
        return ""
    if isinstance(value, bool) or value is None:
        return "JSON literal"
    if isinstance(value, int | float):
        return "JSON number"
    return "JSON array" if isinstance(value, list) else "JSON object"


def show_requests(
    source: str,
    scenario: Scenario,
    previews: Sequence[Mapping[str, Any]],
    as_json: bool = False,
    stream: IO[str] | None = None,
    placeholder: bool = False,
) -> None:
    """Print each request of a dry run: method, URL, headers, body, decoded fields, curl.

    Plain ``print`` on purpose: no markup, no wrapping, so curl lines paste as they are.
    """
    out = SafeStream(stream or sys.stdout)  # every value here may come from the scenario
    if as_json:
        document = {"scenario": scenario.name, "file": source, "requests": list(previews)}
        print(json_text(document, indent=2), file=stream or sys.stdout)
        return
    count = len(previews)
    print(f"# {scenario.name} ({source}): {count} request{'' if count == 1 else 's'}", file=out)
    if placeholder:
        print(f"# no target in the scenario: showing {PLACEHOLDER_TARGET} (use --target)", file=out)
    for preview in previews:
        print(file=out)
        extras = [f"delay {preview['delay']:g} s"] if preview["delay"] else []
        if preview["tamper"] != "none":
            extras.append(f"tamper {preview['tamper']}")
        if preview.get("duplicate_of"):
            extras.append(f"duplicate of {preview['duplicate_of']}, sent once it is done")
        suffix = f"  ({', '.join(extras)})" if extras else ""
        print(
            f"## {preview['callback_id']}  {preview['event']}  {preview['task_id']}{suffix}",
            file=out,
        )
        print(f"{preview['method']} {preview['url']}", file=out)
        for name, value in preview["headers"].items():
            print(f"{name}: {value}", file=out)
        print(file=out)
        print(preview["body"], file=out)
        print(file=out)
        print("decoded fields:", file=out)
        nested = preview["nested"]
        for name, value in preview["fields"].items():
            kind = _json_kind(value)  # "" for a string: most fields are
            if name in nested:
                pretty = json.dumps(nested[name], ensure_ascii=False, indent=2)
                label = kind or "JSON text in a string"
                print(f"  {name} ({label}) = " + pretty.replace("\n", "\n  "), file=out)
            elif kind:
                print(f"  {name} ({kind}) = {json.dumps(value)}", file=out)
            else:
                print(f"  {name} = {value}", file=out)
        print(file=out)
        print(preview["curl"], file=out)
