"""``zego-emulator check`` on the command line: exit codes, the case named, --json, files.

The receivers are written from ZEGO's docs (``receivers/doc_receiver.py``), served from a
thread while ``main()`` runs its own event loop.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest

from emulator.check import all_cases
from emulator.cli.main import main
from tests.check.receivers.doc_receiver import Bugs, DocReceiver, ServedInThread

SECRET = "cli-check-callback-secret"


@pytest.fixture(autouse=True)
def secret_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZEGO_CALLBACK_SECRET", SECRET)
    monkeypatch.delenv("ZEGO_SERVER_SECRET", raising=False)


def served(bugs: Bugs | None = None, secret: str = SECRET) -> ServedInThread:
    return ServedInThread(DocReceiver(secret, bugs or Bugs()).app())


@pytest.fixture
def correct() -> Iterator[ServedInThread]:
    with served() as receiver:
        yield receiver


def test_a_correct_receiver_exits_0_and_every_case_passes(
    correct: ServedInThread, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check", "--target", correct.url]) == 0
    out = capsys.readouterr().out
    assert f"{len(all_cases())} cases: {len(all_cases())} passed, 0 warned, 0 failed" in out
    assert not [line for line in out.splitlines() if line.startswith(("FAIL", "WARN"))]


@pytest.mark.parametrize(
    ("bugs", "secret", "case_id"),
    [
        (Bugs(verify_nothing=True), SECRET, "signature.forged"),
        (Bugs(), "the-wrong-secret", "procedure.success"),
        (Bugs(numeric_sort=True), SECRET, "vector.string-sort"),
        (Bugs(crash_on_empty_extra_params=True), SECRET, "procedure.failed-empty-extra-params"),
    ],
    ids=["verifies-nothing", "wrong-secret", "numeric-sort", "crash-on-empty-extra-params"],
)
def test_a_buggy_receiver_exits_1_naming_the_failing_case(
    bugs: Bugs, secret: str, case_id: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with served(bugs, secret) as receiver:
        assert main(["check", "--target", receiver.url]) == 1
    out = capsys.readouterr().out
    lines = out.splitlines()
    failed = next(i for i, line in enumerate(lines) if line.startswith(f"FAIL  {case_id} "))
    assert lines[failed + 1].strip().startswith(f"{case_id}#1: ")  # the callback and why
    assert lines[failed + 2].strip().startswith("usually: ")


def test_json_prints_every_case_with_id_title_verdict_why_evidence(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with served(Bugs(crash_on_empty_extra_params=True)) as receiver:
        assert main(["check", "--target", receiver.url, "--json"]) == 1
    payload = json.loads(capsys.readouterr().out)
    assert payload["passed"] is False
    assert [case["id"] for case in payload["cases"]] == [case.id for case in all_cases()]
    for case in payload["cases"]:
        assert {"id", "title", "verdict", "why", "evidence"} <= set(case)
        assert case["verdict"] in ("pass", "warn", "fail")
        for probe in case["evidence"]:
            assert probe["request"]["fields"] and probe["answers"]
            assert {"status", "error", "latency_ms"} <= set(probe["answers"][0])
    verdicts = {case["id"]: case["verdict"] for case in payload["cases"]}
    assert verdicts["procedure.failed-empty-extra-params"] == "fail"
    assert list(verdicts.values()).count("fail") == 1


def test_several_encodings_send_each_case_in_each(
    correct: ServedInThread, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["check", "--target", correct.url, "--json", "--encoding", "form"]
    assert main([*argv, "--encoding", "json", "--case", "procedure.success"]) == 0
    [case] = json.loads(capsys.readouterr().out)["cases"]
    encodings = [probe["request"]["encoding"] for probe in case["evidence"]]
    assert encodings == ["form", "json"]
    assert case["evidence"][0]["request"]["content_type"] == "application/x-www-form-urlencoded"


def test_case_and_skip_filter_the_suite(
    correct: ServedInThread, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["check", "--target", correct.url, "--json", "--case", "signature.forged"]
    assert main([*argv, "--case", "vector.string-sort"]) == 0
    ids = [case["id"] for case in json.loads(capsys.readouterr().out)["cases"]]
    assert ids == ["signature.forged", "vector.string-sort"]
    assert main(["check", "--target", correct.url, "--json", "--skip", "signature.forged"]) == 0
    ids = [case["id"] for case in json.loads(capsys.readouterr().out)["cases"]]
    assert "signature.forged" not in ids and len(ids) == len(all_cases()) - 1


@pytest.mark.parametrize(
    ("argv", "named"),
    [
        (["--case", "signature.forgd"], "--case signature.forgd: no such case"),
        (["--skip", "nope"], "--skip nope: no such case"),
        (["--encoding", "xml"], "--encoding"),
        (["--timeout", "0"], "--timeout"),
    ],
)
def test_bad_input_exits_2_with_one_line_naming_it(
    argv: list[str], named: str, capsys: pytest.CaptureFixture[str]
) -> None:
    try:
        code = main(["check", "--target", "http://127.0.0.1:9/cb", *argv])
    except SystemExit as exit_:  # argparse's own flag errors
        code = int(exit_.code or 0)
    assert code == 2
    err = capsys.readouterr().err
    assert named in err and "Traceback" not in err
    assert len([line for line in err.splitlines() if "error" in line]) == 1


@pytest.mark.parametrize("target", [None, "ftp://127.0.0.1/cb", "http:///cb"])
def test_a_missing_or_bad_target_exits_2(
    target: str | None, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check", *(["--target", target] if target else [])]) == 2
    assert "--target" in capsys.readouterr().err


def test_list_prints_every_case_id_and_title(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == [case.id for case in all_cases()]
    assert main(["check", "--list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert {"id", "title", "why", "hint"} <= set(listed[0])


def test_junit_and_html_name_the_failing_probe(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    junit, html = tmp_path / "check.xml", tmp_path / "check.html"
    with served(Bugs(verify_nothing=True)) as receiver:
        argv = ["check", "--target", receiver.url, "--junit", str(junit), "--html", str(html)]
        assert main(argv) == 1
    root = ET.parse(junit).getroot()
    failures = {
        case.get("name", "").split()[0]: failure
        for case in root.iter("testcase")
        if (failure := case.find("failure")) is not None
    }
    assert set(failures) == {
        "signature.forged#1",
        "signature.missing#1",
        "signature.stale#1",
        "signature.future#1",
        "signature.server-secret#1",
    }
    message = failures["signature.forged#1"].get("message", "")
    assert "expected refused, accepted (200 on attempt 1)" in message
    page = html.read_text()
    assert 'data-callback-id="signature.forged#1"' in page
    assert page.count('class="why" data-verdict="fail"') == 5
    assert f"wrote {junit}" in capsys.readouterr().out


def test_the_emulators_receive_command_defaults_pass(capsys: pytest.CaptureFixture[str]) -> None:
    """``receive`` as ``zego-emulator receive`` starts it (its defaults), judged by check."""
    from emulator.servers.receiver import Receiver

    receiver = Receiver(SECRET)  # the defaults receive uses: max-age 300, replay 200
    with ServedInThread(receiver.app()) as served_receiver:
        assert main(["check", "--target", served_receiver.url, "--encoding", "form"]) == 0
