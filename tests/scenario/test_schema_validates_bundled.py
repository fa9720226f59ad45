"""``zego-emulator schema`` says what the loader accepts: every bundled scenario and every
scenario example in the README validates against it with a real JSON Schema validator
(jsonschema, Draft 2020-12), and every property carries a description."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from emulator.scenario.reader import load_scenario

ROOT = Path(__file__).resolve().parents[2]
BUNDLED = sorted((ROOT / "scenarios").glob("*.yaml"))


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    done = subprocess.run(
        [sys.executable, "-m", "emulator", "schema"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    schema = json.loads(done.stdout)
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def problems(validator: jsonschema.Draft202012Validator, data: Any) -> list[str]:
    return [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(data)
    ]


@pytest.mark.parametrize("path", BUNDLED, ids=lambda path: path.name)
def test_every_bundled_scenario_validates_against_the_schema(
    path: Path, validator: jsonschema.Draft202012Validator
) -> None:
    load_scenario(path)  # the emulator accepts it ...
    assert problems(validator, yaml.safe_load(path.read_text())) == []  # ... and so does the schema


def readme_scenarios() -> list[tuple[int, str]]:
    """The README's ```yaml blocks that are whole scenarios or top-level fragments."""
    text = (ROOT / "README.md").read_text()
    blocks = []
    for match in re.finditer(r"```yaml\n(.*?)```", text, flags=re.S):
        line = text.count("\n", 0, match.start()) + 2
        blocks.append((line, match.group(1)))
    return blocks


@pytest.mark.parametrize(
    "line, text", readme_scenarios(), ids=lambda v: f"README:{v}" if isinstance(v, int) else ""
)
def test_every_readme_scenario_example_validates(
    line: int, text: str, validator: jsonschema.Draft202012Validator
) -> None:
    data = yaml.safe_load(text)
    assert isinstance(data, dict), f"README.md:{line}: not a mapping"
    if "callbacks" not in data and not {"sessions", "calls"} & set(data):
        data = {**data, "callbacks": [{"event": "procedure"}]}  # a fragment of a scenario
    assert problems(validator, data) == [], f"README.md:{line}"


def test_every_property_of_the_schema_is_described(
    validator: jsonschema.Draft202012Validator,
) -> None:
    undescribed: list[str] = []

    def walk(node: Any, where: str) -> None:
        if isinstance(node, dict):
            for name, prop in node.get("properties", {}).items():
                if "description" not in prop:
                    undescribed.append(f"{where}.{name}")
            for value in node.values():
                walk(value, where)
        elif isinstance(node, list):
            for item in node:
                walk(item, where)

    for name, definition in validator.schema.get("$defs", {}).items():
        walk(definition, name)
    walk({k: v for k, v in validator.schema.items() if k != "$defs"}, "scenario")
    assert undescribed == []


def test_a_number_where_the_loader_takes_one_is_allowed_by_the_schema(
    validator: jsonschema.Draft202012Validator,
) -> None:
    data = {"callbacks": [{"event": "compose", "code": 70000}]}
    assert problems(validator, data) == []
