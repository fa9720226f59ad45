"""hostile: every hostile scenario file fails fast — CPU seconds against a 1 s budget.

The committed corpus (``tests/scenario/scenarios_bad/``) and the generated files of
``tests/scenario/hostile_files.py`` (50 MB, deep nesting, 200,000 values, alias fan-out...) are
each loaded once; the figure is the slowest file's CPU time as a ratio of the budget. The tests
check that each fails with the right one-line error; how fast it fails is measured here.
"""

from __future__ import annotations

import importlib.util
import tempfile
import time
from pathlib import Path
from types import ModuleType

from bench import ROOT, Figure, Result, command

BUDGET_S = 1.0  # CPU seconds one hostile file may cost


def _hostile_files() -> ModuleType:
    """``tests/scenario/hostile_files.py`` (the one list of hostile files), loaded by path."""
    path = ROOT / "tests" / "scenario" / "hostile_files.py"
    spec = importlib.util.spec_from_file_location("hostile_files", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _cpu_seconds(path: Path) -> float:
    """CPU seconds ``load_scenario(path)`` takes to refuse the file."""
    from emulator.errors import ScenarioError
    from emulator.scenario.reader import load_scenario

    started = time.process_time()
    try:
        load_scenario(path)
    except ScenarioError:
        return time.process_time() - started
    raise RuntimeError(f"{path} loaded; expected a ScenarioError")


def run(quick: bool = False) -> Result:
    hostile = _hostile_files()
    result = Result("hostile", command("hostile"))
    timings: dict[str, float] = {}
    names = sorted(hostile.BAD_FILES)[: 5 if quick else None]
    for name in names:
        timings[name] = _cpu_seconds(hostile.BAD / name)
    cases = sorted(hostile.GENERATED)[: 3 if quick else None]
    with tempfile.TemporaryDirectory() as tmp:
        for number, case in enumerate(cases):
            folder = Path(tmp, str(number))
            folder.mkdir()
            timings[case] = _cpu_seconds(hostile.GENERATED[case][0](folder))
    for case in cases:
        seconds = timings[case]
        result.add(
            Figure(
                case,
                seconds,
                "s CPU",
                "budget",
                seconds / BUDGET_S,
                f"< {BUDGET_S:g} s",
                seconds < BUDGET_S,
            )
        )
    corpus = max(timings[name] for name in names)
    result.add(
        Figure(
            f"slowest of {len(names)} corpus files",
            corpus,
            "s CPU",
            "budget",
            corpus / BUDGET_S,
            f"< {BUDGET_S:g} s",
            corpus < BUDGET_S,
        )
    )
    return result
