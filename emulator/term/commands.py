"""The ``run``, ``send`` and ``show`` commands: the runner driven with the terminal output.

Everything is loaded and validated before anything runs (a bad file is exit 2); then each
scenario runs in turn with the live view or plain lines, and the exit code comes back.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import replace

from emulator import settings
from emulator.errors import EXIT_FAILED, EXIT_OK, UsageError
from emulator.run.interrupt import stop_on_sigint
from emulator.run.runner import (
    RunOptions,
    RunResult,
    SendSpec,
    execute,
    plan,
    request_preview,
    resolve_scenario_secret,
    resolve_target,
    send_scenario,
)
from emulator.scenario.model import Scenario
from emulator.term import live
from emulator.term.live import Output


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
    return run_scenarios(loaded, options)


def run_scenarios(loaded: Sequence[tuple[str | None, Scenario]], options: RunOptions) -> int:
    """Run scenarios one after another with the terminal output; the exit code."""
    secrets = [resolve_scenario_secret(scenario, options) for _, scenario in loaded]
    output = live.Output.for_options(options)
    results = asyncio.run(_run_scenarios(loaded, options, secrets, output))
    return output.finish(results)


async def _run_scenarios(
    loaded: Sequence[tuple[str | None, Scenario]],
    options: RunOptions,
    secrets: Sequence[settings.Secret],
    output: Output,
) -> list[RunResult]:
    stop = asyncio.Event()
    results: list[RunResult] = []
    with stop_on_sigint(stop):
        for (source, scenario), secret in zip(loaded, secrets, strict=True):
            scenario_options = replace(options, secret=secret)
            with output.run_view(scenario_options) as listeners:
                result = await execute(
                    scenario, scenario_options, listeners, source=source, stop=stop
                )
            results.append(result)
            output.run_done(result)
            if result.interrupted:
                break
    return results


def send_command(spec: SendSpec, options: RunOptions) -> int:
    """``zego-emulator send``: one callback, delivered and recorded; 0 delivered, else 1."""
    scenario = send_scenario(spec, options)
    resolve_target(scenario, options, "send")
    secret = resolve_scenario_secret(scenario, options)
    output = live.Output.for_options(options)
    results = asyncio.run(_run_scenarios([(None, scenario)], options, [secret], output))
    code = output.finish(results)
    if code != EXIT_OK:
        return code
    return EXIT_OK if results and results[0].delivered == results[0].planned else EXIT_FAILED


def show_command(path: str, options: RunOptions) -> int:
    """``zego-emulator show``: print every request ``run`` would send; no network."""
    source, scenario = load_all([path])[0]
    placeholder = not (options.target or scenario.target)
    if placeholder:
        options = replace(options, target=live.PLACEHOLDER_TARGET)
    secret = resolve_scenario_secret(scenario, options)
    previews = [request_preview(delivery) for delivery in plan(scenario, options, secret)]
    live.show_requests(source, scenario, previews, as_json=options.json, placeholder=placeholder)
    return EXIT_OK
