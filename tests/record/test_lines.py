"""The record format has one home (emulator/record/lines.py), and it is the README's.

The README's record table lists each line kind's keys; a real run's lines must carry every
one of them: the keys ``record.lines`` declares for that kind, in order, then only
the optional keys it declares.
"""

from __future__ import annotations

import re
from pathlib import Path

from scripted import ScriptedReceiver

from emulator.record import lines
from emulator.record.reader import read_record
from emulator.run.runner import execute
from emulator.scenario.model import Scenario
from emulator.settings import RunOptions, Secret

README = Path(__file__).resolve().parents[2] / "README.md"
DECLARED = {
    "run": lines.RUN_KEYS,
    "callback": lines.CALLBACK_KEYS,
    "attempt": lines.ATTEMPT_KEYS,
    "outcome": lines.OUTCOME_KEYS,
    "summary": lines.SUMMARY_KEYS,
}


def readme_keys() -> dict[str, set[str]]:
    """Line kind -> the keys the README's record table names (not values in parentheses)."""
    text = README.read_text(encoding="utf-8")
    table = text[text.index("| line | when | fields |") :].split("\n\n", 1)[0]
    found: dict[str, set[str]] = {}
    for row in table.splitlines()[2:]:
        cells = [cell.strip() for cell in row.strip("|").split("|")]
        kind = cells[0].strip("`")
        fields = cells[2]
        while "(" in fields:  # drop parenthesised notes: value lists, nested keys
            fields = re.sub(r"\([^()]*\)", "", fields)
        found[kind] = set(re.findall(r"`([a-z_]+)`", fields))
    return found


def test_the_readme_documents_every_line_kind_and_lines_declares_its_keys() -> None:
    documented = readme_keys()
    assert set(documented) == set(DECLARED)
    for kind, keys in documented.items():
        known = set(DECLARED[kind]) | set(lines.OPTIONAL_KEYS[kind])
        assert keys <= known, (kind, keys - known)
        assert "run_id" in DECLARED[kind] and DECLARED[kind][0] == "type"


async def test_a_real_record_has_exactly_the_declared_keys_of_each_line(tmp_path: Path) -> None:
    record = tmp_path / "run.jsonl"
    scenario = Scenario.model_validate(
        {"name": "keys", "callbacks": [{"repeat": 2}], "expect": {"delivered": 2}}
    )
    async with ScriptedReceiver(statuses=[500, 200], per_task=True) as receiver:
        options = RunOptions(
            target=receiver.url, virtual=True, record=record, secret=Secret("s", "test")
        )
        result = await execute(scenario, options)
    assert result.exit_code == 0
    seen: set[str] = set()
    for line in read_record(record):
        kind = line["type"]
        seen.add(kind)
        declared = list(DECLARED[kind])
        assert list(line)[: len(declared)] == declared, kind
        assert set(list(line)[len(declared) :]) <= set(lines.OPTIONAL_KEYS[kind]), kind
        assert line["run_id"] == result.run_id
    assert seen == set(DECLARED)
