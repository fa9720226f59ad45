"""What a command imports: startup does not grow with the catalogue (no timing here).

Each check runs the command in a fresh interpreter and lists the modules it loaded.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from emulator.events import EVENT_NAMES
from emulator.events.zim.call import DEFAULT_TIMEOUT as ZIM_CALL_TIMEOUT
from emulator.scenario.calls import DEFAULT_TIMEOUT as SCENARIO_CALL_TIMEOUT

REPORT = (
    "import atexit, json, os, sys\n"
    "def report():\n"
    "    loaded = sorted(m for m in sys.modules if m.split('.')[0] in\n"
    "                    ('rich', 'faker', 'aiohttp', 'emulator'))\n"
    "    with open(os.environ['REPORT_TO'], 'w') as out:\n"
    "        json.dump({'modules': loaded,\n"
    "                   'plugins': os.environ.get('PYDANTIC_DISABLE_PLUGINS')}, out)\n"
    "atexit.register(report)\n"
    "sys.argv = ['zego-emulator', *sys.argv[1:]]\n"
    "from emulator.cli.main import console_main\n"
    "console_main()\n"
)


def loaded_by(tmp_path: Path, *argv: str) -> dict[str, object]:
    """The modules (of rich, faker, aiohttp, emulator) a command loaded, in a fresh process."""
    report = tmp_path / "report.json"
    env = {**_env(), "REPORT_TO": str(report)}
    subprocess.run([sys.executable, "-c", REPORT, *argv], env=env, capture_output=True, timeout=120)
    value: dict[str, object] = json.loads(report.read_text())
    return value


def _env() -> dict[str, str]:
    import os

    env = dict(os.environ)
    env.pop("PYDANTIC_DISABLE_PLUGINS", None)
    return env


def test_a_one_callback_run_builds_only_its_events_models_and_loads_no_rich(
    tmp_path: Path,
) -> None:
    scenario = tmp_path / "one.yaml"
    scenario.write_text("name: one\nseed: 1\ncallbacks:\n  - status: SUCCESS\n")
    record = tmp_path / "run.jsonl"
    report = loaded_by(
        tmp_path,
        "run",
        str(scenario),
        "--target",
        "http://127.0.0.1:9/zego/callback",
        "--virtual",
        "--json",
        "--record",
        str(record),
    )
    modules = report["modules"]
    assert isinstance(modules, list)
    assert record.exists()  # the run did run
    event_modules = [m for m in modules if m.startswith("emulator.events.")]
    assert event_modules == [
        "emulator.events._registry",
        "emulator.events.base",
        "emulator.events.procedure",
    ]
    assert len(EVENT_NAMES) > 20  # the whole catalogue is registered all the same
    assert not [m for m in modules if m.split(".")[0] in ("rich", "faker", "aiohttp")]
    assert report["plugins"] == "__all__"
    # resume's and replay's modules (and the record reader they use) load only for them
    for module in ("emulator.run.resume", "emulator.run.replay", "emulator.record.reader"):
        assert module not in modules


def test_help_loads_neither_pydantic_models_nor_rich(tmp_path: Path) -> None:
    modules = loaded_by(tmp_path, "--help")["modules"]
    assert isinstance(modules, list)
    assert not [m for m in modules if m.startswith(("emulator.events", "rich", "aiohttp"))]


def test_the_scenario_call_timeout_is_the_zim_events_default() -> None:
    assert SCENARIO_CALL_TIMEOUT == ZIM_CALL_TIMEOUT
