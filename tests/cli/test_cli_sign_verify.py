"""``zego-emulator sign`` / ``verify`` and every command's ``--help``."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import pytest

from emulator.callback.factory import CallbackFactory
from emulator.callback.model import Tamper
from emulator.cli.main import build_parser, main
from emulator.term.capture import MAX_BODY_BYTES
from emulator.wire import ENCODINGS, Encoding

SECRET = "cli-test-secret"


@pytest.fixture(autouse=True)
def _no_secret_in_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ZEGO_CALLBACK_SECRET", raising=False)
    monkeypatch.delenv("ZEGO_SERVER_SECRET", raising=False)


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def captured(tmp_path: Path, encoding: Encoding = "form", tamper: Tamper = "none") -> Path:
    factory = CallbackFactory(seed=21)
    model = factory.procedure(transcode=[{"resolution": "720p"}])
    _, body = factory.callback(model, SECRET, encoding, tamper=tamper).body()
    path = tmp_path / f"{encoding}-{tamper}.body"
    path.write_bytes(body)
    return path


# --- sign ---------------------------------------------------------------------------------


def test_sign_prints_zegos_worked_example_exactly() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "emulator", "sign", "--secret", "secret",
         "--timestamp", "1470820198", "--nonce", "123412"],
        capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout == "5bd59fd62953a8059fb7eaba95720f66d19e4517\n"
    assert "secret" not in result.stdout.replace("5bd59", "")


def test_sign_api_prints_zegos_md5_example(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(
        ["sign", "--api", "--app-id", "12345", "--nonce", "4fd24687296dd9f3",
         "--secret", "9193cc662a4c0ec135ec71fb57194b38", "--timestamp", "1615186943"],
        capsys,
    )  # fmt: skip
    assert (code, out) == (0, "43e5cfcca828314675f91b001390566a\n")
    assert "9193cc662a4c0ec135ec71fb57194b38" not in err


def test_sign_takes_the_secret_from_the_environment(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ZEGO_CALLBACK_SECRET", "secret")
    code, out, err = run_cli(["sign", "--timestamp", "1470820198", "--nonce", "123412"], capsys)
    assert (code, out) == (0, "5bd59fd62953a8059fb7eaba95720f66d19e4517\n")
    assert err == ""


def test_sign_api_without_app_id_is_bad_input(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(["sign", "--api", "--timestamp", "1", "--nonce", "n"], capsys)
    assert code == 2 and out == ""
    assert err.strip().splitlines()[-1] == "zego-emulator sign: error: sign --api needs --app-id"


# --- help ---------------------------------------------------------------------------------


def subcommands() -> list[str]:
    parser = build_parser()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return sorted(action.choices)
    raise AssertionError("the parser has no subcommands")


def test_main_help_lists_every_subcommand(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert "usage: zego-emulator" in out
    for name in subcommands():
        assert name in out


@pytest.mark.parametrize("command", subcommands())
def test_every_subcommand_help_exits_0_and_explains_itself(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as info:
        main([command, "--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: zego-emulator {command}")
    assert "--help" in out


def test_subcommands_include_the_contracts_commands() -> None:
    contract = {
        "run",
        "send",
        "show",
        "receive",
        "demo",
        "api",
        "report",
        "sign",
        "verify",
        "schema",
    }
    assert contract <= set(subcommands())


# --- verify: valid, wrong, missing ----------------------------------------------------------


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_verify_accepts_a_valid_capture_and_prints_it(
    encoding: Encoding, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = captured(tmp_path, encoding)
    code, out, err = run_cli(["verify", "--secret", SECRET, str(path)], capsys)
    assert code == 0, err
    assert "procedure — on-demand transcoding finished" in out
    assert "signature  valid" in out
    assert "1280x720 h264" in out
    assert f"encoding   {encoding}" in out
    assert SECRET not in out + err


def test_verify_with_the_wrong_secret_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run_cli(["verify", "--secret", "other", str(captured(tmp_path))], capsys)
    assert code == 1
    assert "signature  INVALID" in out


@pytest.mark.parametrize(
    ("tamper", "state"), [("bad_signature", "invalid"), ("missing_signature", "missing")]
)
def test_verify_json_says_why_a_signature_fails(
    tamper: Tamper, state: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = captured(tmp_path, "json", tamper)
    code, out, _ = run_cli(["verify", "--secret", SECRET, "--json", str(path)], capsys)
    result = json.loads(out)
    assert code == 1
    assert (result["valid"], result["signature"], result["encoding"]) == (False, state, "json")
    assert result["fields"]["event"] == "procedure"


def test_verify_json_of_a_valid_capture(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = captured(tmp_path, "json-urlencoded")
    code, out, _ = run_cli(["verify", "--secret", SECRET, "--json", str(path)], capsys)
    result = json.loads(out)
    assert code == 0
    assert (result["valid"], result["signature"], result["encoding"]) == (
        True,
        "valid",
        "json-urlencoded",
    )
    extra = json.loads(result["fields"]["extra_params"])
    assert extra["media"]["transcode"][0]["video"]["width"] == 1280


def test_verify_max_age_flags_a_stale_timestamp(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = captured(tmp_path, "form", "stale_timestamp")
    assert run_cli(["verify", "--secret", SECRET, str(path)], capsys)[0] == 0
    code, out, _ = run_cli(["verify", "--secret", SECRET, "--max-age", "300", str(path)], capsys)
    assert code == 1
    assert "stale" in out


def test_verify_reads_stdin_through_the_console_script(tmp_path: Path) -> None:
    body = captured(tmp_path, "form").read_bytes()
    result = subprocess.run(
        [sys.executable, "-m", "emulator", "verify", "--content-type",
         "application/x-www-form-urlencoded", "-"],
        input=body, capture_output=True, check=False, timeout=60,
        env={"ZEGO_CALLBACK_SECRET": SECRET, "PATH": ""},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert b"signature  valid" in result.stdout
    assert result.stderr == b""


# --- verify: malformed input -> exit 2, one line, no traceback -------------------------------


def assert_one_line_error(code: int, out: str, err: str, says: str) -> None:
    assert code == 2
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("zego-emulator verify: error: ")
    assert says in lines[0]
    assert "Traceback" not in err


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_verify_truncated_body_is_bad_input(
    encoding: Encoding, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = captured(tmp_path, encoding)
    body = path.read_bytes()
    for cut in (len(body) - 30, len(body) // 2, 5):
        path.write_bytes(body[:cut])
        code, out, err = run_cli(["verify", "--secret", SECRET, str(path)], capsys)
        assert_one_line_error(code, out, err, "body")


@pytest.mark.parametrize(
    ("body", "extra_args", "says"),
    [
        (b"<callback/>", ["--content-type", "text/xml"], "unsupported content type 'text/xml'"),
        (None, ["--content-type", "text/xml"], "unsupported content type"),
        (bytes(range(256)) * 4, [], "not UTF-8"),
        (b"\x00\x01\x02garbage\xff", ["--content-type", "application/json"], "not UTF-8"),
        (b"", [], "empty"),
        (b"   \n", [], "empty"),
        (b"hello world", [], "not form-urlencoded"),
        (b"q=search&page=2", [], "not a callback"),
        (b'{"q": "search"}', ["--content-type", "application/json"], "not a callback"),
        (b"[1, 2, 3]", ["--content-type", "application/json"], "expected an object"),
    ],
)
def test_verify_malformed_input_is_one_clear_line(
    body: bytes | None,
    extra_args: list[str],
    says: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = captured(tmp_path) if body is None else tmp_path / "body"
    if body is not None:
        path.write_bytes(body)
    code, out, err = run_cli(["verify", "--secret", SECRET, *extra_args, str(path)], capsys)
    assert_one_line_error(code, out, err, says)


def test_verify_wrong_content_type_for_the_body_is_bad_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    form = captured(tmp_path, "form")
    code, out, err = run_cli(["verify", "--content-type", "application/json", str(form)], capsys)
    assert_one_line_error(code, out, err, "not JSON")
    json_body = captured(tmp_path, "json")
    code, out, err = run_cli(
        ["verify", "--content-type", "application/x-www-form-urlencoded", str(json_body)], capsys
    )
    assert code == 2 and out == "" and "Traceback" not in err


def test_verify_missing_file_and_directory_are_bad_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_cli(["verify", str(tmp_path / "nope.body")], capsys)
    assert_one_line_error(code, out, err, "No such file")
    code, out, err = run_cli(["verify", str(tmp_path)], capsys)
    assert_one_line_error(code, out, err, "is a directory")


def test_verify_refuses_a_body_over_the_size_cap(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "huge.body"
    path.write_bytes(b"a=" + b"x" * MAX_BODY_BYTES)
    code, out, err = run_cli(["verify", str(path)], capsys)
    assert_one_line_error(code, out, err, "larger than 10 MiB")


def test_verify_escapes_control_characters_from_the_body(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "body"
    path.write_bytes(b"event=procedure&appid=%1B%5B31mred&timestamp=1&nonce=2&status=SUCCESS"
                     b"&task_id=t&file_id=f&extra_params=")  # fmt: skip
    code, out, _ = run_cli(["verify", "--secret", SECRET, str(path)], capsys)
    assert code == 1  # no signature
    assert "\x1b" not in out
    assert "\\x1b[31mred" in out
    assert "signature  MISSING" in out
