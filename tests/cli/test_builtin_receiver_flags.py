"""Each command offers only the built-in receiver it has: ``send`` has one now; load mode
and ``--replay`` refuse ``--builtin-receiver`` in one line instead of ignoring it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from emulator.cli.main import main
from emulator.record.reader import read_record


def test_send_with_the_builtin_receiver_delivers_without_an_endpoint(tmp_path: Path) -> None:
    record = tmp_path / "send.jsonl"
    code = main(
        ["send", "--builtin-receiver", "--virtual", "--no-live", "--record", str(record),
         "--secret", "send-secret"]
    )  # fmt: skip
    assert code == 0
    lines = read_record(record)
    assert lines[0]["builtin_receiver"] is True
    assert [line["status"] for line in lines if line["type"] == "attempt"] == [200]


def test_send_without_a_target_offers_only_what_send_has(capsys: Any) -> None:
    assert main(["send", "--secret", "s"]) == 2
    error = capsys.readouterr().err
    assert "--builtin-receiver" in error
    assert "target: in the scenario" not in error  # send takes no scenario file


@pytest.mark.parametrize(
    "mode", [["--rate", "5", "--duration", "1"], ["--replay", "run.jsonl"]], ids=["load", "replay"]
)
def test_load_mode_and_replay_refuse_the_builtin_receiver(mode: list[str], capsys: Any) -> None:
    assert main(["run", *mode, "--builtin-receiver"]) == 2
    error = capsys.readouterr().err.strip().splitlines()
    assert len(error) == 1
    assert "--builtin-receiver goes with scenario files" in error[0]
