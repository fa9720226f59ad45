"""The ``run``, ``send`` and ``show`` commands: the runner driven with the terminal output.

Everything is loaded and validated before anything runs (a bad file is exit 2); then each
scenario runs in turn with the live view or plain lines, and the exit code comes back.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import IO, TYPE_CHECKING, Any

from emulator.delivery.dispatch import DispatchListener
from emulator.errors import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, UsageError
from emulator.run.core import run_in_cli
from emulator.run.expect import ExpectationResult
from emulator.run.planner import plan, resolve_scenario_secret, resolve_target
from emulator.run.runner import RunResult, SendSpec, execute, request_preview, send_scenario
from emulator.scenario.model import Scenario
from emulator.sessions.truth import check_truth_path, write_truth
from emulator.settings import RunOptions, Secret, resolve
from emulator.term import live
from emulator.term.live import BROKEN_SHOWN, LineLog, Output
from emulator.term.safe import json_text, safe, safe_strings, say

if TYPE_CHECKING:  # resume's modules load only for resume (startup: python -m bench startup)
    from emulator.record.reader import RunRecord
    from emulator.run.resume import ResumeOptions, ResumeResult


def load_all(paths: Sequence[str]) -> list[tuple[str, Scenario]]:
    """Every scenario file loaded and validated before anything runs (ScenarioError = exit 2)."""
    from emulator.scenario.reader import load_scenario

    if not paths:
        raise UsageError("give at least one scenario file, e.g. scenarios/first-try-success.yaml")
    return [(str(path), load_scenario(path)) for path in paths]


def run_command(paths: Sequence[str], options: RunOptions) -> int:
    """``zego-emulator run``: load every file first, then run each in turn; the exit code."""
    loaded = load_all(paths)
    for source, scenario in loaded:
        if not options.builtin_receiver:
            resolve_target(scenario, options, source)
    if options.truth is not None:
        check_truth_path(options.truth)
    return run_scenarios(loaded, options)


def run_scenarios(loaded: Sequence[tuple[str | None, Scenario]], options: RunOptions) -> int:
    """Run scenarios one after another with the terminal output; the exit code."""
    secrets = [resolve_scenario_secret(scenario, options) for _, scenario in loaded]
    output = live.Output.for_options(options)
    results = run_in_cli(lambda stop: _run_scenarios(loaded, options, secrets, output, stop))
    if options.truth is not None:
        rooms = [room for result in results for room in (result.truth or {"rooms": []})["rooms"]]
        write_truth(options.truth, {"rooms": rooms})
    code = output.finish(results)
    if options.junit and results:
        output.note(f"JUnit XML: {write_run_junit(results, options.junit)}")
    return code


def write_run_junit(results: Sequence[RunResult], path: str) -> str:
    """``run --junit FILE``: the JUnit XML of these runs, read back from their records."""
    from emulator.report.junit import write_junit

    records = list(dict.fromkeys(str(result.record_path) for result in results))
    try:
        return str(write_junit(records, path, [result.run_id for result in results]))
    except OSError as exc:
        raise UsageError(f"cannot write --junit {path}: {exc.strerror or exc}") from None


async def _run_scenarios(
    loaded: Sequence[tuple[str | None, Scenario]],
    options: RunOptions,
    secrets: Sequence[Secret],
    output: Output,
    stop: asyncio.Event,
) -> list[RunResult]:
    results: list[RunResult] = []
    for (source, scenario), secret in zip(loaded, secrets, strict=True):
        scenario_options = replace(options, secret=secret)
        with output.run_view(scenario_options) as listeners:
            result = await execute(scenario, scenario_options, listeners, source=source, stop=stop)
        results.append(result)
        output.run_done(result)
        if result.interrupted:
            break
    return results


def send_command(spec: SendSpec, options: RunOptions) -> int:
    """``zego-emulator send``: one callback, delivered and recorded; the exit code.

    0 when it was delivered — or, for a ``--tamper`` callback, when it was refused (its
    per-callback expectation); 1 otherwise.
    """
    scenario = send_scenario(spec, options)
    if not options.builtin_receiver:
        resolve_target(scenario, options, "send")
    secret = resolve_scenario_secret(scenario, options)
    output = live.Output.for_options(options)
    results = run_in_cli(
        lambda stop: _run_scenarios([(None, scenario)], options, [secret], output, stop)
    )
    code = output.finish(results)
    if code != EXIT_OK or spec.tamper != "none":  # a tampered one: its verdict decided
        return code
    return EXIT_OK if results and results[0].delivered == results[0].planned else EXIT_FAILED


def show_command(path: str, options: RunOptions) -> int:
    """``zego-emulator show``: print every request ``run`` would send; no network."""
    source, scenario = load_all([path])[0]
    placeholder = not (options.target or scenario.target)
    if placeholder:
        options = replace(options, target=live.PLACEHOLDER_TARGET)
    settings = resolve(options, scenario, source=source)
    previews = [request_preview(delivery) for delivery in plan(scenario, settings)]
    live.show_requests(source, scenario, previews, as_json=options.json, placeholder=placeholder)
    return EXIT_OK


def replay_command(record_paths: Sequence[str], options: RunOptions, *, resign: bool) -> int:
    """``zego-emulator run --replay RECORD --target URL``: replay, then print the report of
    the new record (``--json``: as JSON). Exit 0 once replayed (lost callbacks are
    outcomes; the original run's expectations do not apply), 130 when stopped by Ctrl-C.
    """
    from rich.console import Console

    from emulator.report.model import load
    from emulator.report.stats import report_data
    from emulator.report.terminal import render_terminal
    from emulator.run.replay import replay_from_cli

    result = replay_from_cli(record_paths, options, resign=resign)
    for notice in result.skipped.notices():
        print(notice, file=sys.stderr, flush=True)
    data = report_data(load([result.record_path]))
    data["record"] = str(result.record_path)
    if options.json:
        say(json_text(data, indent=2))
    else:
        console = Console(highlight=False)
        render_terminal(safe_strings(data), console)  # record text, escaped
        done = "stopped after" if result.run.interrupted else "replayed"
        console.print(
            safe(f"{done} {len(result.outcomes)} callback(s); record: {result.record_path}"),
            markup=False,
        )
    return EXIT_INTERRUPTED if result.run.interrupted else EXIT_OK


def load_command(
    options: RunOptions,
    *,
    rate: float,
    duration: float,
    window: int | None = None,
    scenario_paths: Sequence[str] = (),
    max_lost: int | None = None,
    max_p99_ms: float | None = None,
) -> int:
    """``zego-emulator run --rate R --duration D``: a load run with its report; the exit code
    (1 when an expectation — ``expect:``, a callback's ``expect:``, ``--max-lost``,
    ``--max-p99-ms`` — failed)."""
    from emulator.run.load import load_from_cli

    result, summary = load_from_cli(
        options,
        rate=rate,
        duration=duration,
        window=window,
        scenario_paths=scenario_paths,
        max_lost=max_lost,
        max_p99_ms=max_p99_ms,
    )
    if options.json:
        say(json_text(summary, indent=2))
    else:
        say("\n".join(result.describe()))
    notes = sys.stderr if options.json else sys.stdout
    for line in failed_lines(summary):
        say(line, file=notes)
    if options.junit and result.record_path is not None:
        junit = write_junit_of(str(result.record_path), summary["run_id"], options.junit)
        say(f"JUnit XML: {junit}", file=notes)
    if result.interrupted:
        return EXIT_INTERRUPTED
    return EXIT_OK if summary.get("ok") else EXIT_FAILED


def failed_lines(summary: Mapping[str, Any]) -> list[str]:
    """``expectation failed: ...`` for each failed expectation and callback of a summary."""
    lines = []
    for item in summary.get("expectations", []):
        if not item.get("ok"):
            lines.append(f"expectation failed: {ExpectationResult.from_record(item).describe()}")
    failed = summary.get("failed_callbacks", [])
    for item in failed[:BROKEN_SHOWN]:
        lines.append(
            f"expectation failed: callback {item['callback_id']} ({item['event']}): {item['why']}"
        )
    more = int(summary.get("verdicts", {}).get("fail", 0)) - min(len(failed), BROKEN_SHOWN)
    if more > 0:
        lines.append(f"... and {more} more failed callbacks (see the record)")
    return lines


def write_junit_of(record: str, run_id: str, path: str) -> str:
    """The JUnit XML of one run of a record, written to ``path``."""
    from emulator.report.junit import write_junit

    try:
        return str(write_junit(record, path, [run_id]))
    except OSError as exc:
        raise UsageError(f"cannot write --junit {path}: {exc.strerror or exc}") from None


def resume_command(record: str, options: ResumeOptions, stdout: IO[str] | None = None) -> int:
    """``zego-emulator resume RECORD``: continue every unfinished run in it; the exit code."""
    out = stdout or sys.stdout
    from emulator.record.reader import Skipped, read_runs
    from emulator.run.resume import (
        check_flags,
        check_receiver_alive,
        resign_secret,
        resume_settings,
    )

    check_flags(options)  # a bad --target or --ca-bundle is exit 2 before anything happens
    skipped = Skipped()
    runs = [run for run in read_runs(record, skipped) if run.needs_resume]
    for notice in skipped.notices():
        print(notice, file=sys.stderr, flush=True)
    for run in runs:
        resume_settings(run, options, record)  # so is a run line no setting can come from
        resign_secret(run, options, record)  # so is a secret that cannot re-sign a run
        check_receiver_alive(run, options, record)  # and a built-in receiver that is gone
    if not runs:
        if options.json:
            say(json_text({"record": record, "resumed": 0}), file=out)
        else:
            say(f"nothing to resume: every run in {record} finished", file=out)
        return EXIT_OK
    results = run_in_cli(lambda stop: _resume_all(runs, record, options, out, stop))
    for result in results:
        if options.json:
            say(json_text(result.summary), file=out)
        else:
            _print_result(result, out)
    if any(result.interrupted for result in results):
        return EXIT_INTERRUPTED
    return max(result.exit_code for result in results)


async def _resume_all(
    runs: Sequence[RunRecord],
    record: str,
    options: ResumeOptions,
    out: IO[str],
    stop: asyncio.Event,
) -> list[ResumeResult]:
    from emulator.run.resume import resume_run

    listeners: list[DispatchListener] = [] if options.json else [LineLog(out)]
    results = []
    for state in runs:
        if not options.json:
            pending = len(state.pending) + state.unsent
            noun = "callback" if pending == 1 else "callbacks"
            say(f"resume run {state.run_id}: {pending} pending {noun}", file=out)
        result = await resume_run(state, record, options, listeners, stop=stop)
        results.append(result)
        if result.interrupted:
            break
    return results


def _print_result(result: ResumeResult, out: IO[str]) -> None:
    summary = result.summary
    state = "interrupted" if result.interrupted else "finished"
    say(
        f"run {result.run_id} {state}: {summary['callbacks']} callbacks, "
        f"{summary['delivered']} delivered, {summary['lost']} lost, "
        f"{summary['attempts']} attempts, {summary['pending']} pending "
        f"(record {summary['record']})",
        file=out,
    )
    for expectation in [] if result.interrupted else result.expectations:
        if not expectation.ok:
            say(f"expectation failed: {expectation.describe()}", file=out)
