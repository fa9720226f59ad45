"""Load mode honours ``expect:`` (run-level and per callback) and its thresholds
``--max-lost N`` / ``--max-p99-ms MS``: a broken one exits 1 and is named."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from aiohttp import web

from emulator.cli.main import main
from emulator.record.reader import read_record
from emulator.servers.start import start_server
from emulator.settings import RunOptions, Secret
from emulator.term.commands import load_command
from tests.check.receivers.doc_receiver import Bugs, DocReceiver, ServedInThread

SECRET = "load-expect-callback-secret"


@pytest.fixture(autouse=True)
def secret_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("ZEGO_CALLBACK_SECRET", SECRET)
    monkeypatch.chdir(tmp_path)


def answering(status: int, delay: float = 0.0) -> web.Application:
    """An app answering every request ``status`` after ``delay`` seconds."""

    async def handle(request: web.Request) -> web.Response:
        await request.read()
        if delay:
            await asyncio.sleep(delay)
        return web.Response(status=status)

    app = web.Application()
    app.router.add_post("/zego/callback", handle)
    return app


def load(target: str, *extra: str) -> list[str]:
    return ["run", "--rate", "20", "--duration", "1", "--virtual", "--target", target, *extra]


def test_max_lost_fails_a_load_run_that_loses_more(capsys: pytest.CaptureFixture[str]) -> None:
    with ServedInThread(answering(500)) as served:
        assert main(load(served.url, "--max-lost", "3")) == 1
        assert main(load(served.url, "--max-lost", "20")) == 0  # all 20 lost: within
    out = capsys.readouterr().out
    assert "expectation failed: max_lost: at most 3, observed 20" in out


def test_max_p99_fails_a_receiver_slower_than_it(capsys: pytest.CaptureFixture[str]) -> None:
    with ServedInThread(answering(200, delay=0.2)) as served:  # every answer takes >= 200 ms
        argv = ["run", "--rate", "5", "--duration", "1", "--target", served.url, "--json"]
        assert main([*argv, "--max-p99-ms", "50"]) == 1
    captured = capsys.readouterr()
    summary = json.loads(captured.out)
    [threshold] = summary["expectations"]
    assert threshold["name"] == "max_p99_ms" and threshold["ok"] is False
    assert threshold["expected"] == 50 and threshold["observed"] >= 200
    assert "expectation failed: max_p99_ms: at most 50, observed" in captured.err


def test_a_generous_p99_threshold_holds(capsys: pytest.CaptureFixture[str]) -> None:
    with ServedInThread(answering(200)) as served:
        assert main(load(served.url, "--max-p99-ms", "60000", "--max-lost", "0")) == 0
    assert "expectation failed" not in capsys.readouterr().out


def test_load_mode_judges_each_callback_by_its_entry(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scenario = tmp_path / "mixed.yaml"
    scenario.write_text("callbacks:\n  - status: SUCCESS\n  - tamper: bad_signature\n")
    junit = tmp_path / "load.xml"
    with ServedInThread(DocReceiver(SECRET, Bugs(verify_nothing=True)).app()) as served:
        assert main([*load(served.url, str(scenario)), "--junit", str(junit)]) == 1
    out = capsys.readouterr().out
    assert "expectation failed: callback cb-000002 (procedure): expected refused, accepted" in out
    assert "... and 0 more" not in out
    assert junit.read_text().count('<failure type="expect"') == 10  # every other of 20
    with ServedInThread(DocReceiver(SECRET).app()) as served:  # refuses the forgeries
        assert main(load(served.url, str(scenario))) == 0


def test_load_mode_checks_the_scenarios_expect_block(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scenario = tmp_path / "none-lost.yaml"
    scenario.write_text("callbacks:\n  - status: SUCCESS\nexpect:\n  lost: 0\n")
    with ServedInThread(answering(503)) as served:
        assert main(load(served.url, str(scenario))) == 1
    assert "expectation failed: lost: expected 0, observed 20" in capsys.readouterr().out


def test_thresholds_without_load_mode_are_bad_input(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "x.yaml", "--max-lost", "1"]) == 2
    assert "--max-lost and --max-p99-ms go with --rate" in capsys.readouterr().err


def test_load_mode_gives_each_entry_its_own_familys_retry_profile(tmp_path: Path) -> None:
    # procedure retries on ZEGO's RTC schedule; a Cloud Recording callback takes a non-2xx
    # answer as final (its family's profile), as `run` sends them
    async def serve_and_load() -> int:
        async def refuse(request: web.Request) -> web.Response:
            await request.read()
            return web.Response(status=500, text="no")

        app = web.Application()
        app.router.add_post("/cb", refuse)
        async with await start_server(app) as server:
            scenario = tmp_path / "families.yaml"
            scenario.write_text(
                f"name: families\ntarget: {server.url}/cb\nseed: 2\n"
                "callbacks:\n  - event: procedure\n  - event: cloud_recording\n"
            )
            options = RunOptions(
                secret=Secret(SECRET, "test"), virtual=True, record=tmp_path / "r.jsonl"
            )
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(
                None,
                lambda: load_command(options, rate=2, duration=1, scenario_paths=[str(scenario)]),
            )

    asyncio.run(serve_and_load())
    lines = read_record(tmp_path / "r.jsonl")
    attempts: dict[str, list[float]] = {}
    for line in lines:
        if line["type"] == "attempt":
            attempts.setdefault(str(line["event"]), []).append(float(line["offset_s"]))
    assert attempts["procedure"] == [0.0, 2.0, 6.0, 14.0, 30.0, 62.0]
    assert attempts["cloud_recording"] == [0.0]
    retry = {line["event"]: line.get("retry") for line in lines if line["type"] == "callback"}
    assert retry["procedure"] is None  # the run's own policy
    assert isinstance(retry["cloud_recording"], dict)
    assert retry["cloud_recording"]["profile"] == "cloud-recording"
