"""The receiver conformance suite (``zego-emulator check``): named cases judging a receiver.

    from emulator.check import CheckOptions, run_check
    result = await run_check(CheckOptions(target=url, callback_secret=secret))
    assert result.passed, result.describe_failures()

One module per family of cases: ``acknowledge`` (valid procedure callbacks of every
shape), ``redelivery`` (retries and duplicates), ``signatures`` (what must be refused),
``vectors`` (signature inputs that catch real bugs), ``latency``, ``events`` (every
other catalogue event, discovered). ``model`` holds the case/verdict types, ``suite``
selects and runs them.
"""

from __future__ import annotations

from emulator.check.model import Case, CaseResult, CaseVerdict, CheckResult, Probe, ProbeResult
from emulator.check.suite import (
    DEFAULT_ENCODINGS,
    CheckOptions,
    all_cases,
    run_check,
    select_cases,
)

__all__ = [
    "DEFAULT_ENCODINGS",
    "Case",
    "CaseResult",
    "CaseVerdict",
    "CheckOptions",
    "CheckResult",
    "Probe",
    "ProbeResult",
    "all_cases",
    "run_check",
    "select_cases",
]
