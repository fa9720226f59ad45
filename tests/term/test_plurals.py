"""One of a thing is not "1 callbacks": the line output counts in words that agree."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from emulator.cli.main import main

ROOT = Path(__file__).resolve().parents[2]
ONE = str(ROOT / "scenarios" / "first-try-success.yaml")
THREE = str(ROOT / "scenarios" / "demo.yaml")


def test_one_callback_is_said_in_the_singular(tmp_path: Path, capsys: Any) -> None:
    record = str(tmp_path / "one.jsonl")
    args = ["--builtin-receiver", "--virtual", "--no-live", "--secret", "s", "--record", record]
    assert main(["run", ONE, *args]) == 0
    out = capsys.readouterr().out
    assert "(1 callback)" in out and "1 callbacks" not in out
    assert main(["show", ONE, "--secret", "s"]) == 0
    shown = capsys.readouterr().out
    assert ": 1 request\n" in shown


def test_several_callbacks_are_said_in_the_plural(capsys: Any) -> None:
    assert main(["show", THREE, "--secret", "s"]) == 0
    assert "requests\n" in capsys.readouterr().out.splitlines(keepends=True)[0]
