"""Hand-edited or corrupt records: ``resume``, ``report`` (every output) and ``run --replay``
end with exit 2 and one line naming the record, the line and the field — never a
traceback or a hang. Garbled lines (not JSON) are skipped and counted, never silently.

The record is a real one: ``zego-emulator run`` against a scripted receiver on 127.0.0.1
(each task refused once, then accepted), cut after the first attempts and finished with
``zego-emulator resume``, so it holds every line kind (run, callback, attempt, outcome,
resume, summary). Each test mutates one field of one line of it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from scripted import ScriptedReceiver, ThreadedReceiver

from emulator.cli.main import main

SCENARIO = """\
name: corrupt records
seed: 3
callbacks:
  - status: SUCCESS
    transcode:
      - resolution: 540p
  - event: stream_create
"""
KINDS = ("run", "callback", "attempt", "outcome", "resume", "summary")
NAN, HUGE, SURROGATE = "NaN", "1e300", '"\\ud800"'


@pytest.fixture(scope="module")
def receiver() -> Iterator[ThreadedReceiver]:
    with ThreadedReceiver(ScriptedReceiver(statuses=(500, 200), per_task=True)) as served:
        yield served


@pytest.fixture(scope="module")
def real_record(tmp_path_factory: pytest.TempPathFactory, receiver: ThreadedReceiver) -> Path:
    """A record of a real run, cut after the first attempts and resumed: every line kind."""
    folder = tmp_path_factory.mktemp("corrupt")
    scenario = folder / "scenario.yaml"
    scenario.write_text(SCENARIO, encoding="utf-8")
    full = folder / "full.jsonl"
    args = ["--target", receiver.url, "--virtual", "--no-live", "--record", str(full)]
    assert main(["run", str(scenario), *args]) == 0
    lines = [json.loads(text) for text in full.read_text(encoding="utf-8").splitlines()]
    cut = [line for line in lines if line["type"] in ("run", "callback")]
    cut += [line for line in lines if line["type"] == "attempt" and line["attempt"] == 1]
    record = folder / "record.jsonl"
    record.write_text("".join(json.dumps(line) + "\n" for line in cut), encoding="utf-8")
    assert main(["resume", str(record), "--virtual", "--target", receiver.url]) == 0
    kinds = {json.loads(text)["type"] for text in record.read_text().splitlines()}
    assert kinds == set(KINDS)
    return record


def first_of(record: Path, kind: str) -> tuple[int, dict[str, Any]]:
    """The line number and value of the first line of a kind."""
    for number, text in enumerate(record.read_text(encoding="utf-8").splitlines(), 1):
        line = json.loads(text)
        if line["type"] == kind:
            return number, line
    raise AssertionError(f"no {kind} line")


def with_line(record: Path, number: int, text: str, out: Path) -> Path:
    """A copy of ``record`` whose line ``number`` is ``text``."""
    lines = record.read_text(encoding="utf-8").splitlines()
    lines[number - 1] = text
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return out


def wrong_type(value: object) -> str:
    """JSON of a value of another type: an object, or text where an object belongs."""
    return '"text"' if isinstance(value, dict) else '{"x": 1}'


def commands(record: Path, target: str, folder: Path) -> list[tuple[str, list[str]]]:
    """(name in the error prefix, argv) of every command that reads a record."""
    return [
        ("resume", ["resume", str(record), "--virtual", "--target", target]),
        ("report", ["report", str(record)]),
        ("report", ["report", str(record), "--json"]),
        ("report", ["report", str(record), "--html", str(folder / "r.html")]),
        ("report", ["report", str(record), "--junit", str(folder / "r.xml")]),
        ("run", ["run", "--replay", str(record), "--target", target, "--virtual"]),
    ]


def assert_refused(
    capsys: pytest.CaptureFixture[str], record: Path, target: str, where: str, folder: Path
) -> None:
    """Every command: exit 2 and one stderr line ``zego-emulator CMD: error: WHERE...``."""
    for name, argv in commands(record, target, folder):
        code = main(argv)
        captured = capsys.readouterr()
        lines = captured.err.strip().splitlines()
        assert code == 2, (argv, captured.err)
        assert len(lines) == 1, (argv, captured.err)
        assert lines[0].startswith(f"zego-emulator {name}: error: {where}"), (argv, lines[0])
        assert "Traceback" not in captured.err + captured.out


def mutations(record: Path) -> Iterator[tuple[str, str, str]]:
    """(kind, field, JSON text) for every field of the first line of every kind."""
    for kind in KINDS:
        _, line = first_of(record, kind)
        for key, value in line.items():
            if key == "type":
                continue
            for bad in (wrong_type(value), NAN, HUGE, SURROGATE):
                if bad == SURROGATE and isinstance(value, dict | list):
                    continue  # covered by the nested cases below
                yield kind, key, bad


def replace_value(text: str, key: str, bad: str) -> str:
    """The line's JSON text with ``key``'s value replaced by raw JSON text ``bad``."""
    line = json.loads(text)
    marker = "\u0000MARK\u0000"
    line[key] = marker
    return json.dumps(line).replace(json.dumps(marker), bad)


def test_every_field_of_every_line_kind_mutated_is_exit_2_naming_line_and_field(
    real_record: Path,
    receiver: ThreadedReceiver,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    lines = real_record.read_text(encoding="utf-8").splitlines()
    tried = 0
    for kind, key, bad in mutations(real_record):
        number, _ = first_of(real_record, kind)
        bad_line = replace_value(lines[number - 1], key, bad)
        record = with_line(real_record, number, bad_line, tmp_path / "bad.jsonl")
        where = f"{record}:{number}: {key}"
        assert_refused(capsys, record, receiver.url, where, tmp_path)
        tried += 1
    assert tried > 150  # every field of six line kinds, four ways


@pytest.mark.parametrize(
    ("kind", "key", "value", "field"),
    [
        ("run", "intervals", "[NaN]", "intervals[0]"),  # hung resume and replay
        ("run", "intervals", "[1e300]", "intervals[0]"),
        ("run", "intervals", '["2"]', "intervals[0]"),
        ("run", "started_at", "1e300", "started_at: not a finite time"),  # crashed --html
        ("run", "started_at", "1e400", "started_at"),  # JSON's own infinity
        ("run", "started_at", "-Infinity", "started_at"),
        ("run", "callbacks", "1" * 5000, "line"),  # more digits than Python reads
        ("summary", "expectations", '[{"name": "lost", "ok": "yes"}]', "expectations[0].ok"),
        ("summary", "expectations", '[{"name": "lost", "expected": NaN}]', "expectations[0]"),
        ("callback", "content_type", '"text/plain\\udfff"', "content_type"),
        ("attempt", "decision", '{"a": [1, NaN]}', "decision.a[1]"),
        ("run", "plan", '{"scenario": {"name": "\\ud83d"}}', "plan.scenario.name"),
    ],
    ids=lambda value: str(value)[:24],
)
def test_nested_and_numeric_edge_cases_name_the_field(
    real_record: Path,
    receiver: ThreadedReceiver,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    kind: str,
    key: str,
    value: str,
    field: str,
) -> None:
    number, _ = first_of(real_record, kind)
    text = real_record.read_text(encoding="utf-8").splitlines()[number - 1]
    record = with_line(real_record, number, replace_value(text, key, value), tmp_path / "b.jsonl")
    where = f"{record}:{number}: " + ("" if field == "line" else field)
    assert_refused(capsys, record, receiver.url, where, tmp_path)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[1, 2]", "expected a JSON object, got a list"),
        ('"a string"', "expected a JSON object, got text"),
        ("null", "expected a JSON object, got null"),
        ('{"run_id": "x"}', "type: missing"),
        ('{"type": 7}', "type: expected text"),
    ],
)
def test_a_line_that_is_not_a_record_line_is_exit_2(
    real_record: Path,
    receiver: ThreadedReceiver,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    text: str,
    message: str,
) -> None:
    lines = real_record.read_text(encoding="utf-8").splitlines()
    lines.insert(3, text)
    record = tmp_path / "odd.jsonl"
    record.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert_refused(capsys, record, receiver.url, f"{record}:4: {message}", tmp_path)


def test_a_line_that_is_not_utf8_is_exit_2(
    real_record: Path, receiver: ThreadedReceiver, tmp_path: Path, capsys: Any
) -> None:
    data = real_record.read_bytes().split(b"\n")
    data[2] = data[2].replace(b'"callback_id"', b'"callback_\xffid"', 1)
    record = tmp_path / "bytes.jsonl"
    record.write_bytes(b"\n".join(data))
    assert_refused(capsys, record, receiver.url, f"{record}:3: not UTF-8 text", tmp_path)


def test_garbled_middle_lines_and_a_torn_last_line_are_counted_and_said(
    real_record: Path, receiver: ThreadedReceiver, tmp_path: Path, capsys: Any
) -> None:
    lines = real_record.read_text(encoding="utf-8").splitlines()
    # a resumable copy: the summary and outcomes dropped
    kept = [text for text in lines if json.loads(text)["type"] not in ("summary", "outcome")]
    kept.insert(2, "not json at all {")
    kept.insert(5, '{"type": "attempt", "run_id"')
    record = tmp_path / "garbled.jsonl"
    record.write_text("\n".join(kept) + '\n{"type":"outcome","run_id":"x","callb', encoding="utf-8")
    total = len(kept) + 1
    notice = (
        f"{record}: skipped 2 garbled lines (not JSON) and a torn last line (a write cut "
        f"short): line 3, 6, {total}"
    )
    assert main(["report", str(record), "--json"]) == 0
    captured = capsys.readouterr()
    assert captured.err.strip() == notice
    skipped = json.loads(captured.out)["skipped_lines"]
    assert skipped == {
        "garbled": 2,
        "torn": 1,
        "records": [{"record": str(record), "garbled": 2, "torn": 1, "lines": [3, 6, total]}],
    }
    assert main(["report", str(record)]) == 0
    assert capsys.readouterr().err.strip() == notice
    replayed = tmp_path / "replayed.jsonl"
    argv = ["run", "--replay", str(record), "--target", receiver.url, "--virtual"]
    assert main([*argv, "--record", str(replayed)]) == 0
    assert capsys.readouterr().err.strip() == notice
    assert main(["resume", str(record), "--virtual", "--target", receiver.url]) == 0
    assert capsys.readouterr().err.strip() == notice


def test_a_clean_record_reports_no_skipped_lines(real_record: Path, capsys: Any) -> None:
    assert main(["report", str(real_record), "--json"]) == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    assert json.loads(captured.out)["skipped_lines"] == {"garbled": 0, "torn": 0, "records": []}


def test_nan_intervals_end_resume_at_once_in_a_fresh_process(
    real_record: Path, receiver: ThreadedReceiver, tmp_path: Path
) -> None:
    """The hang of ``intervals: [NaN]``, as a user meets it: a bounded child process."""
    lines = [
        text
        for text in real_record.read_text(encoding="utf-8").splitlines()
        if json.loads(text)["type"] not in ("summary", "outcome")
    ]
    lines[0] = replace_value(lines[0], "intervals", "[NaN, 2]")
    record = tmp_path / "nan.jsonl"
    record.write_text("\n".join(lines) + "\n", encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "emulator", "resume", str(record), "--virtual"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert done.stderr.strip() == (
        f"zego-emulator resume: error: {record}:1: intervals[0]: NaN is not a number JSON allows"
    )
