"""Record files: every line flushed as it happens, a killed run loses nothing it finished.

The kill test runs the real command (``python -m emulator run``) against a failing aiohttp
receiver in this test, SIGKILLs it between two retries, and compares the record with
the receiver's own log of the requests it answered.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path

import pytest
from aiohttp import web
from hypothesis import given, settings
from hypothesis import strategies as st

from emulator.delivery.results import ATTEMPT_ERRORS, Attempt, Outcome
from emulator.jsontext import finite_or_null
from emulator.record.lines import attempt_record, attempt_text, outcome_record, outcome_text
from emulator.record.reader import read_record, read_records
from emulator.record.writer import FLUSH_AT, Recorder
from emulator.servers.start import start_server
from emulator.settings import default_record_path

SECRET = "record-test-secret-d41c9e"


def attempt(number: int) -> Attempt:
    return Attempt(
        callback_id="cb-000001",
        event="procedure",
        task_id="t1",
        attempt=number,
        scheduled_at=1.0,
        sent_at=1.0,
        offset_s=0.0,
        gap_s=None,
        status=500,
        error=None,
        latency_ms=1.0,
        response_excerpt="",
        run_id="r1",
    )


def test_each_line_is_readable_as_soon_as_it_is_written(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "run.jsonl"
    with Recorder(path) as recorder:
        recorder.write({"type": "run", "run_id": "r1"})
        assert read_record(path) == [{"type": "run", "run_id": "r1"}]
        recorder.attempt(attempt(1))
        lines = read_record(path)
        assert [line["type"] for line in lines] == ["run", "attempt"]
        assert lines[1] == attempt_record(attempt(1))


async def test_in_a_loop_the_lines_of_one_pass_reach_the_file_when_the_pass_ends(
    tmp_path: Path,
) -> None:
    path = tmp_path / "run.jsonl"
    with Recorder(path) as recorder:
        recorder.write({"type": "run", "n": 1})
        recorder.attempt(attempt(1))
        assert path.read_bytes() == b""  # still the same pass of the loop
        await asyncio.sleep(0)  # the pass ends: one write
        assert [line["type"] for line in read_record(path)] == ["run", "attempt"]
        recorder.write({"type": "big", "pad": "x" * FLUSH_AT})
        assert read_record(path)[-1]["type"] == "big"  # too big to hold: written at once
        recorder.write({"type": "last"})
    assert read_record(path)[-1] == {"type": "last"}  # close writes what is pending


def test_reader_tolerates_a_torn_last_line(tmp_path: Path) -> None:
    path = tmp_path / "run.jsonl"
    with Recorder(path) as recorder:
        recorder.write({"type": "run", "run_id": "r1"})
        recorder.attempt(attempt(1))
    with path.open("a", encoding="utf-8") as handle:
        handle.write('{"type":"attempt","run_id":"r1","callback_id":"cb-0')  # killed mid-write
    lines = read_record(path)
    assert [line["type"] for line in lines] == ["run", "attempt"]


def test_reader_skips_blank_and_garbled_lines_and_reads_several_files(tmp_path: Path) -> None:
    first, second = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    first.write_text('{"type":"run","n":1}\n\nnot json\n[1,2]\n{"type":"summary","n":1}\n')
    second.write_text('{"type":"run","n":2}\n')
    assert [line["n"] for line in read_records([first, second])] == [1, 1, 2]


def test_default_record_path_is_runs_utc_time_and_scenario_slug() -> None:
    path = default_record_path("Receiver fails twice, then accepts!", now=0)
    assert path == Path("runs/19700101T000000Z-receiver-fails-twice-then-accepts.jsonl")
    assert default_record_path("***", now=0).name == "19700101T000000Z-run.jsonl"


def typed(value: object) -> object:
    """A record value with its type, so that 1 and 1.0 (or 1 and True) do not compare equal."""
    if isinstance(value, dict):
        return [(key, typed(item)) for key, item in value.items()]
    return (type(value).__name__, value)


texts = st.text()
times = st.one_of(
    st.floats(),  # inf and nan included: those lines go through the encoder (as null)
    st.floats(1e9, 2e9),  # Unix times, as dispatch writes them
    st.floats(0, 100),
    st.integers(0, 10**6),  # an int where a float is declared: written as the int it is
)
attempts = st.builds(
    Attempt,
    callback_id=texts,
    event=texts,
    task_id=texts,
    attempt=st.integers(1, 6),
    scheduled_at=times,
    sent_at=times,
    offset_s=times,
    gap_s=st.none() | times,
    status=st.none() | st.integers(100, 599),
    error=st.none() | st.sampled_from(ATTEMPT_ERRORS),
    latency_ms=times,
    response_excerpt=texts,
    run_id=texts,
)


@settings(max_examples=500, deadline=None)
@given(attempt=attempts)
def test_attempt_line_is_its_record_dict_as_json(attempt: Attempt) -> None:
    line = json.loads(attempt_text(attempt))
    # JSON has no Infinity or NaN (issue 18): a non-finite number is written as null
    expected = finite_or_null(attempt_record(attempt))
    assert typed(line) == typed(json.loads(json.dumps(expected)))


@settings(max_examples=200, deadline=None)
@given(
    history=st.lists(attempts, max_size=6),
    delivered=st.booleans(),
    run_id=texts,
    callback_id=texts,
)
def test_outcome_line_is_its_record_dict_as_json(
    history: list[Attempt], delivered: bool, run_id: str, callback_id: str
) -> None:
    outcome = Outcome(callback_id, "procedure", "t1", delivered, history, run_id)
    line = json.loads(outcome_text(outcome))
    assert typed(line) == typed(json.loads(json.dumps(outcome_record(outcome))))


@pytest.mark.parametrize("size", [10, 100_000])
def test_each_line_reaches_the_file_in_one_piece_before_write_returns(
    tmp_path: Path, size: int
) -> None:
    path = tmp_path / "run.jsonl"
    with Recorder(path) as recorder:
        for number in (1, 2):
            recorder.write({"type": "run", "note": "é" * size, "n": number})
            assert path.read_bytes().endswith(b'"n":%d}\n' % number)
        recorder.outcome(Outcome("cb-000001", "procedure", "t1", True, [attempt(1)], "r1"))
        assert read_record(path)[-1] == {
            "type": "outcome",
            "run_id": "r1",
            "callback_id": "cb-000001",
            "event": "procedure",
            "task_id": "t1",
            "delivered": True,
            "lost": False,
            "attempts": 1,
            "final_status": 500,
        }


async def test_sigkill_mid_schedule_keeps_every_attempt_the_receiver_answered(
    tmp_path: Path,
) -> None:
    answered: list[str] = []  # the body of every request answered

    async def handle(request: web.Request) -> web.Response:
        body = await request.read()
        answered.append(body.decode())
        return web.Response(status=503)

    app = web.Application()
    app.router.add_post("/zego/callback", handle)
    scenario = tmp_path / "failing.yaml"
    scenario.write_text("name: killed run\ncallbacks:\n  - repeat: 3\n")
    record = tmp_path / "killed.jsonl"
    async with await start_server(app) as server:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "emulator", "run", str(scenario),
            "--target", f"{server.url}/zego/callback",
            "--speed", "5",  # gaps 0.4, 0.8, 1.6, 3.2, 6.4 real seconds
            "--record", str(record), "--no-live",
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env={**os.environ, "ZEGO_CALLBACK_SECRET": SECRET},
        )  # fmt: skip
        try:
            # 3 callbacks x 3 requests answered; the 4th requests are 1.6 s later
            for _ in range(600):
                if len(answered) >= 9:
                    break
                await asyncio.sleep(0.02)
            await asyncio.sleep(0.4)  # let the client write the 9th attempt line
            process.send_signal(signal.SIGKILL)
            stdout, stderr = await process.communicate()
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
    assert process.returncode == -signal.SIGKILL
    assert len(answered) == 9, stderr.decode()
    lines = read_record(record)
    attempts = [line for line in lines if line["type"] == "attempt"]
    assert len(attempts) == len(answered)
    assert sorted((line["callback_id"], line["attempt"]) for line in attempts) == sorted(
        (f"cb-00000{n}", a) for n in (1, 2, 3) for a in (1, 2, 3)
    )
    assert all(line["status"] == 503 for line in attempts)
    assert lines[0]["type"] == "run"
    assert not [line for line in lines if line["type"] in ("outcome", "summary")]
    # a torn last line on top of a killed run is still read
    with record.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(attempts[-1])[:40])
    assert read_record(record) == lines
    for text in (record.read_text(), stdout.decode(), stderr.decode()):
        assert SECRET not in text
