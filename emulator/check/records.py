"""A check's evidence as record lines, so the report layer renders it (HTML, JUnit).

Each case becomes one run of the record format (``run_id`` = the case id, ``scenario`` =
``id: title``): a ``callback``, ``attempt`` and ``outcome`` line per probe — the outcome
carrying the probe's ``expect``, ``verdict`` and ``why`` — and a ``summary`` whose ``ok``
is the case's verdict. The HTML report then shows every probe on ZEGO's timeline, red
with its reason where it broke; JUnit has a failed testcase per broken probe.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from emulator.check.model import CaseResult, CheckResult
from emulator.record.lines import attempt_record, callback_line, outcome_record


def case_lines(result: CaseResult, target: str, started_at: float) -> Iterator[dict[str, Any]]:
    """The record lines of one case (see the module docstring)."""
    from emulator._version import __version__

    run_id = result.case.id
    probes = result.probes
    yield {
        "type": "run",
        "run_id": run_id,
        "started_at": round(started_at, 6),
        "scenario": f"{result.case.id}: {result.case.title}",
        "target": target,
        "encoding": ",".join(dict.fromkeys(p.probe.callback.encoding for p in probes)),
        "speed": None,
        "version": __version__,
        "virtual": True,
        "callbacks": len(probes),
        "intervals": [],
    }
    for probe in probes:
        callback = probe.probe.callback
        yield callback_line(
            callback, target, probe.probe.delay, run_id, expect=probe.probe.expect_label
        )
        for attempt in probe.outcome.history:
            yield {**attempt_record(attempt), "run_id": run_id}
        yield {**outcome_record(probe.outcome), "run_id": run_id, **probe.verdict.to_record()}
    delivered = sum(1 for p in probes if p.outcome.delivered)
    yield {
        "type": "summary",
        "run_id": run_id,
        "callbacks": len(probes),
        "delivered": delivered,
        "lost": len(probes) - delivered,
        "attempts": sum(p.outcome.attempts for p in probes),
        "expectations": [],
        "scenario": f"{result.case.id}: {result.case.title}",
        "verdict": result.verdict,
        "reason": result.reason,
        "ok": result.verdict != "fail",
    }


def check_lines(result: CheckResult, started_at: float | None = None) -> list[dict[str, Any]]:
    """Every case's record lines, in the suite's order."""
    when = time.time() if started_at is None else started_at
    return [line for case in result.cases for line in case_lines(case, result.target, when)]
