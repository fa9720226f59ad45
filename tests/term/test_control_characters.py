"""Control characters in a scenario's name or a record never reach the terminal raw: an
ESC or BEL from a file would retitle, recolour or clear the user's terminal."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from emulator.cli.main import main
from emulator.redact import without_controls

EVIL = "evil\x1b]0;pwned\x07\x1b[31mred\x1b[2J"


def test_without_controls_escapes_every_control_character() -> None:
    assert without_controls("plain name") == "plain name"
    assert without_controls(EVIL) == "evil\\x1b]0;pwned\\x07\\x1b[31mred\\x1b[2J"


def test_run_and_report_print_a_hostile_name_escaped(tmp_path: Path, capsys: Any) -> None:
    scenario = tmp_path / "evil.yaml"
    scenario.write_text('name: "evil\\e]0;pwned\\a\\e[31mred\\e[2J"\ncallbacks:\n  - {}\n')
    record = tmp_path / "evil.jsonl"
    args = ["--builtin-receiver", "--virtual", "--no-live", "--secret", "s"]
    assert main(["run", str(scenario), *args, "--record", str(record)]) == 0
    assert main(["report", str(record)]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\x07" not in out
    assert out.count("evil\\x1b]0;pwned") >= 3  # the run line, its table, the report
