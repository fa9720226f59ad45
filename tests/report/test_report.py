"""``zego-emulator report``: terminal summary, JSON and JUnit XML of real records.

Records are produced the real way: the Dispatcher and a Recorder deliver callbacks over
127.0.0.1 to an aiohttp receiver that answers from a script, in virtual time. The
``run`` and ``summary`` lines the runner would add are written here by hand.
"""

from __future__ import annotations

import asyncio
import json
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from emulator import cli
from emulator.callback.factory import CallbackFactory
from emulator.clock import VirtualClock
from emulator.delivery.dispatch import Delivery, Dispatcher
from emulator.errors import UsageError
from emulator.record.reader import read_record
from emulator.record.writer import Recorder
from emulator.report.html import schedule_ticks, write_html
from emulator.report.junit import render_junit, write_junit
from emulator.report.model import group_lines, load
from emulator.report.stats import percentile
from emulator.retry import RetryPolicy
from emulator.servers.start import start_server
from emulator.wire import Encoding, decode

SECRET = "report-test-secret"
Answer = int | str  # an HTTP status, "hang" (time out), or ("xss", status) via XSS_EXCERPT
XSS_EXCERPT = "<script>document.title='pwned'</script><img src=x onerror=alert(1)>]]>\x00\x07"


async def record_run(
    path: Path,
    scripts: Sequence[Sequence[Answer]],
    *,
    run_id: str = "run-1",
    scenario: str = "retry demo",
    expectations: Sequence[dict[str, Any]] = (),
    encodings: Sequence[Encoding] | None = None,
    summary: bool = True,
    seed: int = 7,
) -> list[dict[str, Any]]:
    """Deliver one callback per script to a real receiver and record it all in ``path``.

    A script lists the receiver's answers to that callback's requests in order (the last
    one repeats): an HTTP status, ``"hang"`` (no answer before the timeout) or ``"xss"``
    (a 500 whose body is :data:`XSS_EXCERPT`).
    """
    factory = CallbackFactory(seed=seed, app_id="1234567890")
    callbacks = [
        factory.callback(
            factory.procedure(status="SUCCESS"),
            SECRET,
            encoding=(encodings[index] if encodings else "form"),
        )
        for index in range(len(scripts))
    ]
    answers = {cb.task_id: list(script) for cb, script in zip(callbacks, scripts, strict=True)}

    async def receive(request: web.Request) -> web.StreamResponse:
        fields = decode(await request.read(), request.headers.get("Content-Type"))
        script = answers[fields["task_id"]]
        answer = script.pop(0) if len(script) > 1 else script[0]
        if answer == "hang":
            await asyncio.sleep(1.0)
            return web.Response(text="too late")
        if answer == "xss":
            return web.Response(status=500, text=XSS_EXCERPT)
        assert isinstance(answer, int)
        return web.Response(status=answer, text="ok" if answer < 300 else f"error {answer}")

    app = web.Application()
    app.router.add_post("/zego/callback", receive)
    async with await start_server(app) as server:
        target = f"{server.url}/zego/callback"
        with Recorder(path) as recorder:
            recorder.write(
                {
                    "type": "run",
                    "run_id": run_id,
                    "started_at": 1_700_000_000.0,
                    "scenario": scenario,
                    "target": target,
                    "encoding": "form",
                    "speed": None,
                    "version": "test",
                }
            )
            async with Dispatcher(
                policy=RetryPolicy(timeout=0.3),
                clock=VirtualClock(),
                recorder=recorder,
                run_id=run_id,
            ) as dispatcher:
                outcomes = await dispatcher.deliver_all([Delivery(cb, target) for cb in callbacks])
            if summary:
                recorder.write(
                    {
                        "type": "summary",
                        "run_id": run_id,
                        "callbacks": len(outcomes),
                        "delivered": sum(o.delivered for o in outcomes),
                        "lost": sum(o.lost for o in outcomes),
                        "attempts": sum(o.attempts for o in outcomes),
                        "expectations": list(expectations),
                    }
                )
    return read_record(path)


DEMO_SCRIPTS: list[list[Answer]] = [[200], [500, 500, 200], [503, "xss", "hang", 404, 502, 500]]
DEMO_EXPECTATIONS = [
    {"name": "delivered", "expected": 2, "observed": 2, "ok": True},
    {"name": "lost", "expected": 0, "observed": 1, "ok": False},
]


@pytest.fixture
async def demo_record(tmp_path: Path) -> Path:
    path = tmp_path / "demo.jsonl"
    await record_run(path, DEMO_SCRIPTS, expectations=DEMO_EXPECTATIONS)
    return path


def run_cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = cli.main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_report_json_counts_what_the_record_holds(
    demo_record: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run_cli(["report", str(demo_record), "--json"], capsys)
    assert code == 0
    data = json.loads(out)
    [run] = data["runs"]
    assert run["run_id"] == "run-1" and run["scenario"] == "retry demo"
    stats = run["stats"]
    assert stats["callbacks"] == 3 and stats["delivered"] == 2 and stats["lost"] == 1
    assert stats["attempts"] == 1 + 3 + 6
    assert stats["attempts_histogram"] == {"1": 1, "2": 0, "3": 1, "4": 0, "5": 0, "6": 1}
    assert stats["delivered_on_attempt"] == {"1": 1, "2": 0, "3": 1, "4": 0, "5": 0, "6": 0}
    assert stats["status_codes"] == {"200": 2, "404": 1, "500": 4, "502": 1, "503": 1}
    assert stats["errors"] == {"timeout": 1}
    latency = stats["latency_ms"]
    assert 0 < latency["p50"] <= latency["p95"] <= latency["p99"] <= latency["max"]
    assert latency["max"] >= 300  # the timed-out attempt waited out the 0.3 s timeout
    assert stats["lateness_ms"]["p50"] == 0 and stats["lateness_ms"]["p99"] == 0  # virtual
    assert run["expectations"] == DEMO_EXPECTATIONS and run["expectations_ok"] is False
    assert data["total"] == stats and data["expectations_failed"] == 1


def test_terminal_summary_shows_counts_answers_and_failed_expectations(
    demo_record: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run_cli(["report", str(demo_record)], capsys)
    assert code == 0
    assert "Callback delivery" in out and "Attempts per callback" in out
    delivery, rest = out.split("Attempts per callback")
    histogram, expectations = rest.split("Expectations")
    rows = {cells[0]: cells[1:] for cells in table_rows(delivery)}
    assert rows["callbacks"] == ["3"] and rows["delivered"] == ["2"] and rows["lost"] == ["1"]
    assert rows["attempts"] == ["10"]
    assert rows["status codes"] == ["200×2  404×1  500×4  502×1  503×1"]
    assert rows["errors"] == ["timeout×1"]
    assert len(rows["latency p50/p95/p99 ms"][0].split(" / ")) == 3
    assert [row[:3] for row in table_rows(histogram)] == [
        ["1", "1", "1"],
        ["2", "0", "0"],
        ["3", "1", "1"],
        ["4", "0", "0"],
        ["5", "0", "0"],
        ["6", "1", "0"],
    ]
    assert table_rows(expectations) == [
        ["delivered", "2", "2", "ok"],
        ["lost", "0", "1", "FAILED"],
    ]


def table_rows(text: str) -> list[list[str]]:
    """The body rows of a rich table printed without colour (``│ a │ b │``)."""
    return [
        [cell.strip() for cell in line.split("│")[1:-1]]
        for line in text.splitlines()
        if line.startswith("│")
    ]


def test_report_exits_0_on_a_failed_expectation_and_1_with_check(
    demo_record: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_cli(["report", str(demo_record)], capsys)[0] == 0
    assert run_cli(["report", str(demo_record), "--check"], capsys)[0] == 1


async def test_check_passes_when_every_expectation_held(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "ok.jsonl"
    held = [{"name": "delivered", "expected": 1, "observed": 1, "ok": True}]
    await record_run(path, [[200]], expectations=held)
    assert run_cli(["report", str(path), "--check"], capsys)[0] == 0


async def test_torn_last_line_is_skipped(
    demo_record: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    whole = demo_record.read_text(encoding="utf-8")
    torn = demo_record.with_name("torn.jsonl")
    last_start = whole.rstrip("\n").rfind("\n") + 1
    torn.write_text(whole[: last_start + 25], encoding="utf-8")  # summary line cut mid-way
    code, out, _ = run_cli(["report", str(torn), "--json"], capsys)
    assert code == 0
    [run] = json.loads(out)["runs"]
    assert run["stats"]["callbacks"] == 3 and run["stats"]["attempts"] == 10
    assert run["expectations"] == []  # the summary line was the torn one


async def test_interrupted_callbacks_count_as_no_outcome(
    demo_record: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = [line for line in read_record(demo_record) if line["type"] != "outcome"]
    cut = demo_record.with_name("cut.jsonl")
    cut.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    code, out, _ = run_cli(["report", str(cut), "--json"], capsys)
    stats = json.loads(out)["total"]
    assert code == 0 and stats["pending"] == 3 and stats["delivered"] == 0 and stats["lost"] == 0


async def test_several_records_merge_and_stay_apart_per_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first, second = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    await record_run(first, [[200], [500, 200]], run_id="run-a", scenario="first")
    await record_run(second, [[404]], run_id="run-b", scenario="second", seed=8)
    code, out, _ = run_cli(["report", str(first), str(second), "--json"], capsys)
    assert code == 0
    data = json.loads(out)
    assert [(run["run_id"], run["scenario"]) for run in data["runs"]] == [
        ("run-a", "first"),
        ("run-b", "second"),
    ]
    assert [run["stats"]["callbacks"] for run in data["runs"]] == [2, 1]
    assert data["total"]["callbacks"] == 3 and data["total"]["attempts"] == 1 + 2 + 6
    assert data["total"]["lost"] == 1 and data["runs"][1]["stats"]["status_codes"] == {"404": 6}
    code, out, _ = run_cli(["report", str(first), str(second)], capsys)
    assert code == 0 and "all runs" in out and "first" in out and "second" in out


def test_missing_or_foreign_record_is_bad_input_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_cli(["report", str(tmp_path / "nope.jsonl")], capsys)
    assert code == 2 and out == ""
    assert (
        err.strip()
        == f"zego-emulator report: error: record {tmp_path / 'nope.jsonl'} does not exist"
    )
    foreign = tmp_path / "notes.txt"
    foreign.write_text('hello\n{"a": 1}\n', encoding="utf-8")
    code, _, err = run_cli(["report", str(foreign)], capsys)
    assert code == 2 and "holds no record lines" in err and len(err.strip().splitlines()) == 1
    with pytest.raises(UsageError, match="is not a file"):
        load([tmp_path])


def test_unwritable_output_is_bad_input(
    demo_record: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    code, _, err = run_cli(
        ["report", str(demo_record), "--junit", str(blocker / "out.xml")], capsys
    )
    assert code == 2 and "cannot write" in err


def test_percentile_is_nearest_rank() -> None:
    values = [float(n) for n in range(1, 101)]
    assert percentile(values, 50) == 50
    assert percentile(values, 95) == 95
    assert percentile(values, 99) == 99
    assert percentile([3.0, 1.0, 2.0], 50) == 2
    assert percentile([7.0], 99) == 7
    assert percentile([], 50) is None


def test_schedule_axis_is_zegos_and_grows_for_longer_schedules() -> None:
    assert schedule_ticks(0) == [0, 2, 6, 14, 30, 62]
    assert schedule_ticks(62.4) == [0, 2, 6, 14, 30, 62]  # a late 6th request still fits
    assert schedule_ticks(200) == [0, 2, 6, 14, 30, 62, 126, 254]
    assert schedule_ticks(3, intervals=(1, 1, 1)) == [0, 1, 2, 3]


# --- JUnit ------------------------------------------------------------------------------


def junit_cases(xml_text: str) -> dict[str, ET.Element]:
    root = ET.fromstring(xml_text)
    assert root.tag == "testsuites"
    return {case.get("name", ""): case for case in root.iter("testcase")}


def test_junit_has_a_testcase_per_expectation_and_per_callback(
    demo_record: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "junit" / "report.xml"
    code, _, _ = run_cli(["report", str(demo_record), "--junit", str(out)], capsys)
    assert code == 0
    root = ET.parse(out).getroot()
    [suite] = root.findall("testsuite")
    assert suite.get("tests") == "5" and suite.get("failures") == "2"
    assert root.get("tests") == "5" and root.get("failures") == "2"
    cases = junit_cases(out.read_text(encoding="utf-8"))
    assert cases["expect delivered"].find("failure") is None
    failure = cases["expect lost"].find("failure")
    assert failure is not None and failure.get("message") == "expected 0, observed 1"
    by_id = {name.split()[0]: case for name, case in cases.items() if name.startswith("cb-")}
    assert sorted(by_id) == ["cb-000001", "cb-000002", "cb-000003"]
    assert by_id["cb-000001"].find("failure") is None
    assert by_id["cb-000002"].find("failure") is None
    lost = by_id["cb-000003"].find("failure")
    assert lost is not None and "lost after 6 attempts" in (lost.get("message") or "")
    log = by_id["cb-000002"].findtext("system-out") or ""
    assert "attempt 3 at +6.00 s: HTTP 200" in log
    assert float(by_id["cb-000002"].get("time", "0")) == pytest.approx(6.0, abs=0.5)
    xss_log = by_id["cb-000003"].findtext("system-out") or ""
    assert "<script>document.title='pwned'</script>" in xss_log  # text, parsed back intact


async def test_junit_lost_callback_passes_when_loss_was_expected(tmp_path: Path) -> None:
    path = tmp_path / "expected-loss.jsonl"
    held = [{"name": "lost", "expected": 1, "observed": 1, "ok": True}]
    await record_run(path, [[200], [500]], expectations=held)
    xml_text = render_junit(load([path]))
    cases = junit_cases(xml_text)
    assert [c for c in cases.values() if c.find("failure") is not None] == []
    assert len(cases) == 3


async def test_junit_without_summary_line_reports_no_failures(tmp_path: Path) -> None:
    path = tmp_path / "no-summary.jsonl"
    await record_run(path, [[500]], summary=False)
    out = write_junit(path, tmp_path / "j.xml")
    root = ET.parse(out).getroot()
    assert root.get("tests") == "1" and root.get("failures") == "0"


async def test_junit_marks_a_callback_without_outcome_skipped(demo_record: Path) -> None:
    lines = [
        line
        for line in read_record(demo_record)
        if not (line["type"] == "outcome" and line["callback_id"] == "cb-000002")
    ]
    cases = junit_cases(render_junit(group_lines(lines)))
    skipped = [name for name, case in cases.items() if case.find("skipped") is not None]
    assert [name.split()[0] for name in skipped] == ["cb-000002"]


def test_write_functions_accept_record_lines(demo_record: Path, tmp_path: Path) -> None:
    lines = read_record(demo_record)
    html_path = write_html(lines, tmp_path / "r.html")
    xml_path = write_junit([demo_record], tmp_path / "r.xml")
    assert html_path.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert len(junit_cases(xml_path.read_text(encoding="utf-8"))) == 5


async def test_write_junit_keeps_only_the_runs_asked_for(tmp_path: Path) -> None:
    path = tmp_path / "two-runs.jsonl"
    await record_run(path, [[200]], run_id="run-a")
    await record_run(path, [[200], [200]], run_id="run-b", seed=8)  # appended to the same file
    xml_path = write_junit(path, tmp_path / "b.xml", run_ids=["run-b"])
    suites = ET.parse(xml_path).getroot().findall("testsuite")
    assert [suite.get("name") for suite in suites] == ["retry demo (run-b)"]
    assert suites[0].get("tests") == "2"
    with pytest.raises(UsageError, match="no run run-c"):
        write_html(path, tmp_path / "c.html", run_ids=["run-c"])
