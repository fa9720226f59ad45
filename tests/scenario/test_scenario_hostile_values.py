"""Hostile values inside scenario files: each is exit 2 with one ``file:line: field:`` line.

Non-finite and absurd numbers, lone surrogates, explicit YAML tags on unreadable text,
YAML 1.1 base-60 numbers, misspelt / null / lookalike keys, FIFOs and other non-regular
files, a ``secret_env`` that holds what looks like the secret (never echoed), a ``rename``
that would lose or invent a field, and a 1xx ``respond`` status.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from emulator.errors import ScenarioError
from emulator.scenario.reader import load_scenario

ROOT = Path(__file__).resolve().parents[2]

HEAD = "name: hostile\ncallbacks:\n  - event: procedure\n"


def _error(path: Path) -> ScenarioError:
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    return caught.value


def _cli(
    *args: str, timeout: float = 60, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``python -m emulator ARGS`` in a fresh process (stdin closed)."""
    environment = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "emulator", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=environment,
        stdin=subprocess.DEVNULL,
        check=False,
    )


# --- numbers ----------------------------------------------------------------------------

TRANSCODE = HEAD + "    transcode:\n      - resolution: 720p\n"

NUMBER_CASES = {
    "yaml-inf": (TRANSCODE + "        duration: .inf\n", ".yaml", 6, "duration"),
    "yaml-nan": (TRANSCODE + "        duration: .nan\n", ".yaml", 6, "duration"),
    "yaml-1e400": (TRANSCODE + "        duration: 1e400\n", ".yaml", 6, "duration"),
    "yaml-huge-int": (
        TRANSCODE + "        video:\n          bitrate: " + "9" * 4000 + "\n",
        ".yaml",
        7,
        "video.bitrate",
    ),
    "json-infinity": (
        '{"name": "x",\n "callbacks": [{"event": "procedure",\n'
        ' "transcode": [{"resolution": "720p", "duration": Infinity}]}]}\n',
        ".json",
        3,
        "duration",
    ),
    "json-1e400": (
        '{"name": "x",\n "callbacks": [{"event": "procedure",\n'
        ' "transcode": [{"resolution": "720p", "duration": 1e400}]}]}\n',
        ".json",
        3,
        "duration",
    ),
}


@pytest.mark.parametrize("case", sorted(NUMBER_CASES))
def test_non_finite_or_absurd_number_is_refused_with_its_line_and_field(
    case: str, tmp_path: Path
) -> None:
    text, suffix, line, field = NUMBER_CASES[case]
    path = tmp_path / f"n{suffix}"
    path.write_text(text)
    error = _error(path)
    assert error.line == line, str(error)
    assert error.field is not None and error.field.endswith(field), str(error)
    assert "\n" not in str(error) and len(str(error)) < 400


def test_show_never_puts_infinity_on_the_wire(tmp_path: Path) -> None:
    path = tmp_path / "inf.yaml"
    path.write_text(TRANSCODE + "        duration: .inf\n")
    done = _cli("show", str(path), "--target", "http://127.0.0.1:9/cb", "--json")
    assert done.returncode == 2, done.stderr
    assert "Infinity" not in done.stdout
    assert "Traceback" not in done.stderr
    assert done.stderr.count("\n") == 1 and f"{path}:6: " in done.stderr


# --- text and tags ----------------------------------------------------------------------


def test_lone_surrogate_in_a_json_scenario_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    path.write_text('{"name": "x",\n "callbacks": [{"event": "procedure",\n "nonce": "a\\ud800"}]}')
    error = _error(path)  # libyaml refuses the escape; the JSON reader has no field paths
    assert error.line == 3, str(error)
    assert "surrogate" in error.message


def test_lone_surrogate_in_a_key_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "k.json"
    path.write_text('{"name": "x",\n "\\udc80": 1,\n "callbacks": [{"event": "procedure"}]}')
    error = _error(path)
    assert error.line == 2 and "surrogate" in error.message, str(error)


@pytest.mark.parametrize(
    ("tagged", "kind"),
    [("!!bool maybe", "bool"), ('!!int ""', "int"), ('!!float ""', "float"), ("!!int x1", "int")],
)
def test_explicit_tag_on_unreadable_text_is_refused(tagged: str, kind: str, tmp_path: Path) -> None:
    path = tmp_path / "t.yaml"
    path.write_text(f"name: x\nseed: {tagged}\ncallbacks:\n  - event: procedure\n")
    error = _error(path)
    assert error.line == 2 and error.field == "seed", str(error)
    assert f"as {kind}" in error.message


def test_yaml_base_60_number_is_refused_not_read_as_seconds(tmp_path: Path) -> None:
    path = tmp_path / "b.yaml"
    path.write_text(HEAD + "    delay: 1:30\n")
    error = _error(path)
    assert error.line == 4 and error.field == "callbacks[0].delay", str(error)
    assert "base-60" in error.message and "90" in error.message


def test_quoted_clock_text_is_still_text(tmp_path: Path) -> None:
    path = tmp_path / "q.yaml"
    path.write_text(HEAD + '    nonce: "1:30"\n')
    assert load_scenario(path).callbacks[0].nonce == "1:30"


# --- keys -------------------------------------------------------------------------------


def test_misspelt_required_key_says_did_you_mean_first(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text("name: x\ncalbacks:\n  - event: procedure\n")
    error = _error(path)
    assert error.field == "calbacks" and error.line == 2, str(error)
    assert error.message.startswith("unknown key 'calbacks'; did you mean 'callbacks'?")


def test_lookalike_key_names_the_foreign_letter(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("name: x\ncallb\u0430cks:\n  - event: procedure\n", encoding="utf-8")
    error = _error(path)
    assert error.line == 2, str(error)
    assert error.message.startswith("unknown key 'callb\u0430cks'")
    assert "did you mean 'callbacks'?" in error.message
    assert "U+0430" in error.message


@pytest.mark.parametrize("key", ["~", "null", "Null"])
def test_null_key_is_an_unknown_key_with_its_line(key: str, tmp_path: Path) -> None:
    path = tmp_path / "n.yaml"
    path.write_text(f"name: x\n{key}: 1\ncallbacks:\n  - event: procedure\n")
    error = _error(path)
    assert error.line == 2, str(error)
    assert error.message.startswith("unknown key"), str(error)
    assert "null" in error.message


def test_null_key_in_place_of_a_required_key_is_reported_first(tmp_path: Path) -> None:
    path = tmp_path / "n.yaml"
    path.write_text("name: x\n~:\n  - event: procedure\n")
    error = _error(path)
    assert error.line == 2 and error.message.startswith("unknown key"), str(error)


# --- secret_env -------------------------------------------------------------------------

SECRETISH = "9193cc662a4c0ec135ec71fb57194b38"


@pytest.mark.parametrize("value", [SECRETISH, "a" + SECRETISH[1:], "s3cr3t-" + SECRETISH])
def test_secret_env_holding_a_secret_is_refused_without_echoing_it(
    value: str, tmp_path: Path
) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(f'name: x\nsecret_env: "{value}"\ncallbacks:\n  - event: procedure\n')
    done = _cli("show", str(path), "--target", "http://127.0.0.1:9/cb")
    assert done.returncode == 2, done.stderr
    assert f"{path}:2: secret_env: " in done.stderr
    for chunk in (value[:8], value[8:16], value[-8:]):
        assert chunk not in done.stderr + done.stdout


def test_secret_env_naming_a_variable_still_works(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text("name: x\nsecret_env: MY_ZEGO_SECRET\ncallbacks:\n  - event: procedure\n")
    assert load_scenario(path).secret_env == "MY_ZEGO_SECRET"


# --- respond ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "line", "field"),
    [
        (HEAD + "    respond: [100]\n", 4, "callbacks[0].respond[0]"),
        (HEAD + "receiver:\n  responses: [200, 101]\n", 5, "receiver.responses[1]"),
    ],
)
def test_informational_status_is_not_a_final_answer(
    text: str, line: int, field: str, tmp_path: Path
) -> None:
    path = tmp_path / "r.yaml"
    path.write_text(text)
    error = _error(path)
    assert (error.line, error.field) == (line, field), str(error)
    assert "200" in error.message


# --- rename -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rename", "words"),
    [
        ("{task_id: file_id}", "already has a field 'file_id'"),
        ("{nosuch: other}", "no field 'nosuch'"),
    ],
)
def test_rename_that_loses_or_invents_a_field_is_exit_2(
    rename: str, words: str, tmp_path: Path
) -> None:
    path = tmp_path / "r.yaml"
    path.write_text(HEAD + f"    rename: {rename}\n")
    done = _cli("show", str(path), "--target", "http://127.0.0.1:9/cb")
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    last = done.stderr.strip().splitlines()[-1]
    assert f"{path}:4: callbacks[0].rename" in last and words in last


def test_a_plain_rename_still_renames(tmp_path: Path) -> None:
    path = tmp_path / "r.yaml"
    path.write_text(HEAD + "    rename: {file_id: fileId}\n")
    done = _cli("show", str(path), "--target", "http://127.0.0.1:9/cb", "--encoding", "form")
    assert done.returncode == 0, done.stderr
    assert "fileId=" in done.stdout and "&file_id=" not in done.stdout


# --- files that are not regular files ----------------------------------------------------


@pytest.mark.parametrize("command", ["show", "run"])
def test_fifo_as_a_scenario_is_exit_2_not_a_hang(command: str, tmp_path: Path) -> None:
    fifo = tmp_path / "scenario.yaml"
    os.mkfifo(fifo)
    done = _cli(command, str(fifo), "--target", "http://127.0.0.1:9/cb", timeout=60)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "not a regular file" in done.stderr, done.stderr


def test_device_as_a_scenario_is_not_a_regular_file() -> None:
    error = _error(Path("/dev/zero"))
    assert "not a regular file" in error.message
