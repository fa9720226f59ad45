"""Per-callback verdicts (``expect:`` on a scenario entry) against receivers from ZEGO's docs.

A tampered callback expects ``refused`` without being told; a broken verdict fails the
run (exit 1) and is named on the console, in the record, in JUnit, in the HTML report.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from emulator.cli.main import main
from emulator.record.reader import read_record
from tests.check.receivers.doc_receiver import Bugs, DocReceiver, ServedInThread

SECRET = "verdict-callback-secret"
FORGED_AND_VALID = """\
name: forged and valid
callbacks:
  - tamper: bad_signature
  - status: SUCCESS
"""


@pytest.fixture(autouse=True)
def secret_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("ZEGO_CALLBACK_SECRET", SECRET)
    monkeypatch.chdir(tmp_path)


def scenario(tmp_path: Path, text: str) -> str:
    path = tmp_path / "scenario.yaml"
    path.write_text(text)
    return str(path)


def run(target: str, path: str, *extra: str) -> int:
    return main(["run", path, "--target", target, "--virtual", "--no-live", *extra])


def test_a_forged_callback_accepted_fails_the_run_naming_it_in_console_and_junit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    junit = tmp_path / "junit.xml"
    record = tmp_path / "run.jsonl"
    receiver = DocReceiver(SECRET, Bugs(verify_nothing=True))
    with ServedInThread(receiver.app()) as served:
        code = run(
            served.url,
            scenario(tmp_path, FORGED_AND_VALID),
            "--junit",
            str(junit),
            "--record",
            str(record),
        )
    assert code == 1
    out = capsys.readouterr().out
    assert (
        "expectation failed: callback cb-000001 (procedure): expected refused, accepted "
        "(200 on attempt 1): a callback with a forged signature must never get a 2xx"
    ) in out
    assert "cb-000002" not in "".join(line for line in out.splitlines() if "failed" in line)
    cases = {case.get("name", "").split()[0]: case for case in ET.parse(junit).iter("testcase")}
    failure = cases["cb-000001"].find("failure")
    assert failure is not None and failure.get("type") == "expect"
    assert "expected refused, accepted" in failure.get("message", "")
    assert cases["cb-000002"].find("failure") is None
    lines = read_record(record)
    outcomes = {line["callback_id"]: line for line in lines if line["type"] == "outcome"}
    assert (outcomes["cb-000001"]["expect"], outcomes["cb-000001"]["verdict"]) == (
        "refused",
        "fail",
    )
    assert (outcomes["cb-000002"]["expect"], outcomes["cb-000002"]["verdict"]) == ("any", "pass")
    summary = lines[-1]
    assert summary["ok"] is False and summary["verdicts"] == {"pass": 1, "fail": 1}
    assert [item["callback_id"] for item in summary["failed_callbacks"]] == ["cb-000001"]


def test_the_same_scenario_passes_against_a_receiver_that_refuses_the_forgery(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    receiver = DocReceiver(SECRET)
    with ServedInThread(receiver.app()) as served:
        assert run(served.url, scenario(tmp_path, FORGED_AND_VALID)) == 0
    assert "expectation failed" not in capsys.readouterr().out
    assert len(receiver.processed) == 1  # the valid one; the forgery refused six times


def test_expect_accepted_fails_against_a_receiver_with_the_wrong_secret(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = "callbacks:\n  - status: FAILED\n    expect: accepted\n"
    with ServedInThread(DocReceiver("another-secret").app()) as served:
        assert run(served.url, scenario(tmp_path, text), "--json") == 1
    captured = capsys.readouterr()
    summary = json.loads(captured.out)
    [failed] = summary["failed_callbacks"]
    assert failed["expect"] == "accepted"
    assert failed["why"].startswith("expected accepted, never acknowledged: 401, 401, 401")
    assert "callback cb-000001 (procedure): expected accepted" in captured.err  # --json: stderr


def test_an_explicit_expect_overrides_the_tamper_default(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = "callbacks:\n  - tamper: stale_timestamp\n    expect: any\n  - expect: lost\n"
    receiver = DocReceiver(SECRET, Bugs(verify_nothing=True))
    with ServedInThread(receiver.app()) as served:
        assert run(served.url, scenario(tmp_path, text)) == 1  # the second was delivered
    out = capsys.readouterr().out
    assert "callback cb-000002 (procedure): expected lost, acknowledged (200 on attempt 1)" in out
    assert "cb-000001 (procedure)" not in out


def test_refused_needs_an_answer_a_timeout_is_not_a_refusal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = "retry: {intervals: [], timeout: 0.2}\ncallbacks:\n  - tamper: missing_signature\n"
    with ServedInThread(DocReceiver(SECRET).app()) as served:
        assert run(served.url, scenario(tmp_path, text)) == 0
        assert run("http://127.0.0.1:9/nothing-listens", scenario(tmp_path, text)) == 1
    assert "got no answer (connection_refused)" in capsys.readouterr().out


def test_report_shows_the_failed_callback_and_check_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    record = tmp_path / "run.jsonl"
    html = tmp_path / "report.html"
    with ServedInThread(DocReceiver(SECRET, Bugs(verify_nothing=True)).app()) as served:
        run(served.url, scenario(tmp_path, FORGED_AND_VALID), "--record", str(record))
    capsys.readouterr()
    assert main(["report", str(record), "--check", "--html", str(html)]) == 1
    out = capsys.readouterr().out
    assert "expectation failed: callback cb-000001 (procedure): expected refused" in out
    page = html.read_text()
    assert 'class="timeline delivered broken"' in page
    assert '<span class="badge broken">expected refused</span>' in page


def test_a_bad_expect_value_is_bad_input_naming_file_line_and_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = scenario(tmp_path, "callbacks:\n  - status: SUCCESS\n    expect: maybe\n")
    assert run("http://127.0.0.1:9/", path) == 2
    err = capsys.readouterr().err
    assert "scenario.yaml:3: callbacks[0].expect:" in err and "accepted" in err
    assert "Traceback" not in err


def test_junit_with_replay_is_bad_input_pointing_at_report(
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = ["run", "--replay", "x.jsonl", "--target", "http://127.0.0.1:9/", "--junit", "j.xml"]
    assert main(argv) == 2
    assert "zego-emulator report RECORD --junit FILE" in capsys.readouterr().err
