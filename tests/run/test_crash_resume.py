"""Crash safety and ``resume``: a killed run loses no finished attempt and can be finished.

The subprocess tests run the real CLI (``python -m emulator run``) against a receiver
served by the test's own event loop. The receiver hangs on the 3rd request of each
callback, so at the moment it has seen that request the emulator is provably idle with
attempts 1-2 finished and recorded — a deterministic moment to SIGKILL or Ctrl-C it.
No timed asserts: waits poll for a state with a generous deadline.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import ssl
import sys
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import trustme
from scripted import ScriptedReceiver

from emulator.cli.main import main
from emulator.clock import VirtualClock
from emulator.record.reader import read_record, read_runs
from emulator.run.resume import ResumeOptions, resume_run
from emulator.run.runner import execute
from emulator.scenario.model import Scenario
from emulator.settings import RunOptions, Secret
from emulator.signing import verify_fields
from emulator.term.commands import resume_command
from emulator.wire import decode

SECRET = "crash-resume-secret-5f1e0c"
DEADLINE = 60.0  # seconds to wait for a state before failing (never reached when healthy)
Answer = Callable[[str, int], int | None]  # (task_id, request number) -> status, None = hang

SCENARIO = """\
name: crash and resume
seed: 11
callbacks:
  - event: procedure
    task_id: task-lost
  - event: procedure
    task_id: task-delivered
  - event: procedure
    task_id: task-late
    delay: 300   # 30 s at --speed 10: never due before the kill
expect:
  callbacks: 3
  delivered: 2
  lost: 1
"""


def fail_twice_then_hang(task_id: str, number: int) -> int | None:
    return 500 if number <= 2 else None


def lose_one_deliver_others(task_id: str, number: int) -> int | None:
    """After the restart: task-lost fails for ever, the others are accepted."""
    return 500 if task_id == "task-lost" else 200


async def wait_for(condition: Callable[[], bool], what: str) -> None:
    """Poll until ``condition`` holds; fail (not flake) only if it never does."""
    loop = asyncio.get_running_loop()
    give_up = loop.time() + DEADLINE
    while not condition():
        assert loop.time() < give_up, f"gave up waiting for {what}"
        await asyncio.sleep(0.02)


async def emulator(
    cwd: Path, *args: str
) -> asyncio.subprocess.Process:  # python -m emulator, its output piped
    env = dict(os.environ, ZEGO_CALLBACK_SECRET=SECRET, PYTHONUNBUFFERED="1")
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "emulator",
        *args,
        cwd=cwd,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def run_until_hung(tmp_path: Path, receiver: ScriptedReceiver) -> asyncio.subprocess.Process:
    """Start ``run`` and return once attempts 1-2 of the first two callbacks are finished."""
    (tmp_path / "crash.yaml").write_text(SCENARIO)
    process = await emulator(
        tmp_path,
        "run",
        "crash.yaml",
        "--target",
        receiver.url,
        "--speed",
        "10",
        "--timeout",
        "120",
        "--record",
        "run.jsonl",
        "--no-live",
    )
    await wait_for(
        lambda: receiver.count("task-lost") == 3 and receiver.count("task-delivered") == 3,
        "the 3rd request of both callbacks",
    )
    return process


def by_callback(lines: list[dict[str, Any]], kind: str) -> dict[str, list[dict[str, Any]]]:
    """Lines of one type grouped by task id."""
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for line in lines:
        if line["type"] == kind:
            grouped[line["task_id"]].append(line)
    return grouped


def assert_finished_attempts_recorded(lines: list[dict[str, Any]]) -> None:
    """After the kill: run line, 3 callback lines, attempts 1-2 of two callbacks, no more."""
    assert lines[0]["type"] == "run"
    assert lines[0]["speed"] == 10
    assert sorted(line["task_id"] for line in lines if line["type"] == "callback") == [
        "task-delivered",
        "task-late",
        "task-lost",
    ]
    attempts = by_callback(lines, "attempt")
    for task_id in ("task-lost", "task-delivered"):
        assert [a["attempt"] for a in attempts[task_id]] == [1, 2]
        assert [a["status"] for a in attempts[task_id]] == [500, 500]
        assert attempts[task_id][0]["offset_s"] == 0
        assert attempts[task_id][1]["gap_s"] >= 2 - 0.01
    assert "task-late" not in attempts
    assert not any(line["type"] in ("outcome", "summary") for line in lines)


def assert_resumed_to_the_end(lines: list[dict[str, Any]], receiver: ScriptedReceiver) -> None:
    """After resume: every schedule ran on from where it stood, the summary covers it all."""
    attempts = by_callback(lines, "attempt")
    outcomes = by_callback(lines, "outcome")
    assert [a["attempt"] for a in attempts["task-lost"]] == [1, 2, 3, 4, 5, 6]
    assert [a["attempt"] for a in attempts["task-delivered"]] == [1, 2, 3]
    assert [a["attempt"] for a in attempts["task-late"]] == [1]
    assert [a["status"] for a in attempts["task-lost"]] == [500] * 6
    assert [a["status"] for a in attempts["task-delivered"]] == [500, 500, 200]
    for task_id, schedule in (("task-lost", [2, 4, 8, 16, 32]), ("task-delivered", [2, 4])):
        gaps = [a["gap_s"] for a in attempts[task_id][1:]]
        assert all(gap >= want - 0.01 for gap, want in zip(gaps, schedule, strict=True))
        offsets = [a["offset_s"] for a in attempts[task_id]]
        assert offsets == sorted(offsets)
    assert [(o["delivered"], o["attempts"]) for o in outcomes["task-lost"]] == [(False, 6)]
    assert [(o["delivered"], o["attempts"]) for o in outcomes["task-delivered"]] == [(True, 3)]
    assert [(o["delivered"], o["attempts"]) for o in outcomes["task-late"]] == [(True, 1)]
    assert any(line["type"] == "resume" for line in lines)
    summary = lines[-1]
    assert summary["type"] == "summary"
    assert (summary["callbacks"], summary["delivered"], summary["lost"]) == (3, 2, 1)
    assert summary["attempts"] == 10
    assert summary["pending"] == 0
    assert summary["interrupted"] is False
    assert summary["ok"] is True
    assert all(result["ok"] for result in summary["expectations"])
    # resume re-sends the very bytes recorded: one body per callback, ever
    callback_bodies = {
        line["task_id"]: line["body"].encode() for line in lines if line["type"] == "callback"
    }
    for task_id in receiver.counts:
        bodies = receiver.bodies_of(task_id)
        assert set(bodies) == {callback_bodies[task_id]}
    # the hung 3rd request never finished, so it was sent again: 6 + 1 and 3 + 1
    assert (receiver.count("task-lost"), receiver.count("task-delivered")) == (7, 4)
    assert all(SECRET not in json.dumps(line) for line in lines)


async def test_sigkill_keeps_every_finished_attempt_and_resume_finishes_the_run(
    tmp_path: Path,
) -> None:
    async with ScriptedReceiver(answer=fail_twice_then_hang, per_task=True) as receiver:
        process = await run_until_hung(tmp_path, receiver)
        process.kill()
        await process.communicate()
        assert process.returncode == -signal.SIGKILL
        record = tmp_path / "run.jsonl"
        killed = read_record(record)
        assert len(killed) == len(record.read_text().splitlines())  # no torn line
        assert_finished_attempts_recorded(killed)

        receiver.answer = lose_one_deliver_others
        resumed = await emulator(tmp_path, "resume", "run.jsonl", "--speed", "1000")
        stdout, stderr = await resumed.communicate()
    assert resumed.returncode == 0, stderr.decode()
    assert b"Traceback" not in stdout + stderr
    lines = read_record(record)
    assert lines[: len(killed)] == killed  # appended, nothing rewritten
    assert_resumed_to_the_end(lines, receiver)
    assert b"finished" in stdout


async def test_sigint_stops_gracefully_with_summary_and_exit_130_then_resumes(
    tmp_path: Path,
) -> None:
    async with ScriptedReceiver(answer=fail_twice_then_hang, per_task=True) as receiver:
        process = await run_until_hung(tmp_path, receiver)
        process.send_signal(signal.SIGINT)
        stdout, stderr = await asyncio.wait_for(process.communicate(), DEADLINE)
        assert process.returncode == 130, stderr.decode()
        assert b"Traceback" not in stdout + stderr
        record = tmp_path / "run.jsonl"
        stopped = read_record(record)
        summary = stopped[-1]
        assert summary["type"] == "summary"
        assert summary["interrupted"] is True
        assert summary["pending"] == 3
        assert summary["max_attempts"] == 2  # two requests finished, none is an outcome yet
        assert_finished_attempts_recorded(stopped[:-1])

        receiver.answer = lose_one_deliver_others
        resumed = await emulator(tmp_path, "resume", "run.jsonl", "--virtual", "--json")
        stdout, stderr = await resumed.communicate()
    assert resumed.returncode == 0, stderr.decode()
    lines = read_record(record)
    assert lines[: len(stopped)] == stopped
    assert_resumed_to_the_end(lines, receiver)
    assert json.loads(stdout) == lines[-1]
    # virtual time: the gaps after the first resumed request are exactly ZEGO's
    lost = by_callback(lines, "attempt")["task-lost"]
    assert [a["gap_s"] for a in lost[3:]] == [8, 16, 32]


# --- in-process: records cut at chosen points ---------------------------------------------


async def full_record(tmp_path: Path, url: str, entries: list[dict[str, Any]]) -> Path:
    """A complete virtual-time record of ``entries`` delivered to ``url``."""
    scenario = Scenario.model_validate({"name": "cut", "seed": 3, "callbacks": entries})
    path = tmp_path / "full.jsonl"
    options = RunOptions(
        target=url, secret=Secret(SECRET, "test"), virtual=True, record=path, live=False
    )
    await execute(scenario, options)
    return path


def cut(source: Path, keep: Callable[[dict[str, Any]], bool], torn: str = "") -> Path:
    """The record as a crash would have left it: only the lines ``keep`` says, + a torn one."""
    lines = [json.dumps(line) for line in read_record(source) if keep(line)]
    path = source.with_name("cut.jsonl")
    path.write_text("\n".join(lines) + "\n" + torn)
    return path


async def test_resume_after_cut_mid_schedule_with_torn_last_line(tmp_path: Path) -> None:
    async with ScriptedReceiver(answer=lambda task, n: 500, per_task=True) as receiver:
        full = await full_record(tmp_path, receiver.url, [{"task_id": "t1"}])
        record = cut(
            full,
            lambda line: (
                line["type"] in ("run", "callback")
                or (line["type"] == "attempt" and line["attempt"] <= 3)
            ),
            torn='{"type":"attempt","run_id":"x","callb',
        )
        receiver.answer = lambda task, n: 200
        state = read_runs(record)[0]
        result = await resume_run(state, record, ResumeOptions(clock=VirtualClock()))
    lines = read_record(record)
    attempts = [line for line in lines if line["type"] == "attempt"]
    assert [a["attempt"] for a in attempts] == [1, 2, 3, 4]
    assert attempts[-1]["status"] == 200
    assert attempts[-1]["gap_s"] >= 8 - 0.01  # the gap after attempt 3, downtime included
    assert result.summary == lines[-1]
    assert (result.summary["delivered"], result.summary["attempts"]) == (1, 4)
    assert receiver.count("t1") == 6 + 1  # the full run's six, then the resumed one
    assert '"callb\n' in record.read_text()  # the torn line is ended, ours start afresh


async def test_duplicates_a_kill_kept_from_starting_are_resumed_after_their_callback(
    tmp_path: Path,
) -> None:
    """Cut after the original's 2nd attempt: its two duplicates had not started."""
    async with ScriptedReceiver(
        answer=lambda task, n: 500 if n <= 2 else 200, per_task=True
    ) as receiver:
        full = await full_record(tmp_path, receiver.url, [{"task_id": "t1", "duplicates": 2}])
        in_run_order = [line["callback_id"] for line in read_record(full) if "callback_id" in line]

        def before_the_kill(line: dict[str, Any]) -> bool:
            if line["type"] == "attempt":
                return line["callback_id"] == "cb-000001" and line["attempt"] <= 2
            return line["type"] in ("run", "callback")

        record = cut(full, before_the_kill)
        state = read_runs(record)[0]
        assert state.pending == ["cb-000001", "cb-000001-dup1", "cb-000001-dup2"]
        result = await resume_run(state, record, ResumeOptions(clock=VirtualClock()))
    # the callback lines of a chain are recorded when it starts, before any attempt
    assert in_run_order[:3] == ["cb-000001", "cb-000001-dup1", "cb-000001-dup2"]
    attempts = [
        (line["callback_id"], line["attempt"], line["status"])
        for line in read_record(record)
        if line["type"] == "attempt"
    ]
    assert attempts == [
        ("cb-000001", 1, 500),
        ("cb-000001", 2, 500),
        ("cb-000001", 3, 200),  # the original finishes first...
        ("cb-000001-dup1", 1, 200),  # ...then each duplicate, in turn
        ("cb-000001-dup2", 1, 200),
    ]
    assert (result.summary["callbacks"], result.summary["delivered"]) == (3, 3)
    assert result.summary["pending"] == 0


async def resigning_record(tmp_path: Path, url: str) -> Path:
    """A run re-signing each attempt, cut after its 2nd attempt."""
    scenario = Scenario.model_validate(
        {"name": "resign", "seed": 3, "callbacks": [{"task_id": "t1"}],
         "retry": {"resign_each_attempt": True}}
    )  # fmt: skip
    path = tmp_path / "full.jsonl"
    options = RunOptions(
        target=url, secret=Secret(SECRET, "test"), virtual=True, record=path, live=False
    )
    await execute(scenario, options)
    assert read_record(path)[0]["resign_each_attempt"] is True
    return cut(
        path,
        lambda line: (
            line["type"] in ("run", "callback")
            or (line["type"] == "attempt" and line["attempt"] <= 2)
        ),
    )


async def test_resume_of_a_run_that_resigned_each_attempt_resigns_its_retries(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ZEGO_CALLBACK_SECRET", raising=False)
    async with ScriptedReceiver(answer=lambda task, n: 500, per_task=True) as receiver:
        record = await resigning_record(tmp_path, receiver.url)
        sent_before = list(receiver.bodies_of("t1"))  # the full run's six
        receiver.answer = lambda task, n: 200
        state = read_runs(record)[0]
        options = ResumeOptions(clock=VirtualClock(), secret=SECRET)
        result = await resume_run(state, record, options)
    resumed_bodies = receiver.bodies_of("t1")[len(sent_before) :]
    assert (result.summary["delivered"], result.summary["attempts"]) == (1, 3)
    assert len(resumed_bodies) == 1  # attempt 3, re-signed
    fields = decode(resumed_bodies[0], "application/json")  # json: the default since issue 15
    assert verify_fields(fields, SECRET)  # signed with the run's secret...
    recorded = {(f["timestamp"], f["nonce"]) for f in (decode(b) for b in sent_before)}
    assert (fields["timestamp"], fields["nonce"]) not in recorded  # ...afresh
    resume_line = next(line for line in read_record(record) if line["type"] == "resume")
    assert resume_line["resigned"] is True
    assert SECRET not in record.read_text()


async def test_resume_refuses_a_secret_that_did_not_sign_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    monkeypatch.setenv("ZEGO_CALLBACK_SECRET", "not-the-runs-secret")
    async with ScriptedReceiver(answer=lambda task, n: 500, per_task=True) as receiver:
        record = await resigning_record(tmp_path, receiver.url)
        seen = receiver.count("t1")
        code = await asyncio.to_thread(
            main, ["resume", str(record), "--virtual", "--secret", "wrong-too"]
        )
        assert receiver.count("t1") == seen  # nothing was sent
    assert code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1  # one line, no traceback
    assert "neither --secret, ZEGO_CALLBACK_SECRET nor the development secret" in err
    assert "wrong-too" not in err and "not-the-runs-secret" not in err


async def test_resume_writes_missing_outcomes_without_sending(tmp_path: Path) -> None:
    """Killed after the deciding attempt but before its outcome line: nothing to re-send."""
    async with ScriptedReceiver(
        answer=lambda task, n: 200 if task == "ok" else 500, per_task=True
    ) as receiver:
        full = await full_record(tmp_path, receiver.url, [{"task_id": "ok"}, {"task_id": "bad"}])
        record = cut(full, lambda line: line["type"] not in ("outcome", "summary"))
        before = (receiver.count("ok"), receiver.count("bad"))
        code = await asyncio.to_thread(resume_command, str(record), ResumeOptions(virtual=True))
    assert code == 0
    assert (receiver.count("ok"), receiver.count("bad")) == before == (1, 6)
    outcomes = by_callback(read_record(record), "outcome")
    assert [(o["delivered"], o["attempts"]) for o in outcomes["ok"]] == [(True, 1)]
    assert [(o["delivered"], o["attempts"]) for o in outcomes["bad"]] == [(False, 6)]


async def test_resume_target_override_sends_elsewhere(tmp_path: Path) -> None:
    async with (
        ScriptedReceiver(answer=lambda task, n: 500, per_task=True) as first,
        ScriptedReceiver(answer=lambda task, n: 200, per_task=True) as second,
    ):
        full = await full_record(tmp_path, first.url, [{"task_id": "t"}])
        record = cut(
            full,
            lambda line: (
                line["type"] in ("run", "callback")
                or (line["type"] == "attempt" and line["attempt"] == 1)
            ),
        )
        options = ResumeOptions(virtual=True, target=second.url)
        code = await asyncio.to_thread(resume_command, str(record), options)
    assert code == 0
    assert (first.count("t"), second.count("t")) == (6, 1)


async def test_resume_of_a_finished_record_changes_nothing(tmp_path: Path, capsys: Any) -> None:
    async with ScriptedReceiver(answer=lambda task, n: 200, per_task=True) as receiver:
        record = await full_record(tmp_path, receiver.url, [{"task_id": "t"}])
        before = record.read_bytes()
        code = await asyncio.to_thread(resume_command, str(record), ResumeOptions(virtual=True))
    assert code == 0
    assert record.read_bytes() == before
    assert "nothing to resume" in capsys.readouterr().out


def test_resume_of_a_file_that_is_not_a_record_is_exit_2(tmp_path: Path, capsys: Any) -> None:
    not_record = tmp_path / "notes.jsonl"
    not_record.write_text('{"hello": 1}\nnot json at all\n')
    assert main(["resume", str(not_record)]) == 2
    assert main(["resume", str(tmp_path / "missing.jsonl")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 2
    assert "Traceback" not in err


async def test_resume_over_https_trusts_the_ca_bundle_given(tmp_path: Path) -> None:
    ca = trustme.CA()
    bundle = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server_tls)
    async with ScriptedReceiver(answer=lambda task, n: 500, per_task=True) as plain:
        full = await full_record(tmp_path, plain.url, [{"task_id": "t"}])
    record = cut(
        full,
        lambda line: (
            line["type"] in ("run", "callback")
            or (line["type"] == "attempt" and line["attempt"] == 1)
        ),
    )
    secure = ScriptedReceiver(answer=lambda task, n: 200, per_task=True, tls=server_tls)
    async with secure:
        target = secure.url
        untrusted = ResumeOptions(virtual=True, target=target)
        trusted = ResumeOptions(virtual=True, target=target, ca_bundle=str(bundle))
        state = read_runs(record)[0]
        refused = await resume_run(state, record, untrusted)
        assert (refused.summary["lost"], secure.count("t")) == (1, 0)  # tls errors, then lost
        record = cut(full, lambda line: line["type"] in ("run", "callback"))
        accepted = await resume_run(read_runs(record)[0], record, trusted)
    assert (accepted.summary["delivered"], secure.count("t")) == (1, 1)
    errors = {line["error"] for line in read_record(record) if line["type"] == "attempt"}
    assert errors == {None}


def test_resume_with_an_unusable_ca_bundle_is_exit_2(tmp_path: Path, capsys: Any) -> None:
    record = tmp_path / "run.jsonl"
    record.write_text('{"type":"run","run_id":"r"}\n')
    assert main(["resume", str(record), "--ca-bundle", str(tmp_path / "missing.pem")]) == 2
    assert "--ca-bundle" in capsys.readouterr().err


async def test_resume_of_a_builtin_receiver_run_says_its_receiver_is_gone(
    tmp_path: Path, capsys: Any
) -> None:
    """A --builtin-receiver run's receiver ends with the run: resuming it against the
    recorded URL would lose every retry (and an always-failing expectation would "hold"
    by coincidence). resume says so, exit 2, unless told where to send instead."""
    scenario = Scenario.model_validate(
        {
            "name": "builtin",
            "callbacks": [{"task_id": "t"}],
            "receiver": {"responses": [500]},
        }
    )
    options = RunOptions(
        secret=Secret(SECRET, "test"),
        virtual=True,
        record=tmp_path / "full.jsonl",
        live=False,
        builtin_receiver=True,
    )
    await execute(scenario, options)
    assert read_record(tmp_path / "full.jsonl")[0]["builtin_receiver"] is True
    record = cut(
        tmp_path / "full.jsonl",
        lambda line: (
            line["type"] in ("run", "callback")
            or (line["type"] == "attempt" and line["attempt"] == 1)
        ),
    )
    code = await asyncio.to_thread(main, ["resume", str(record), "--virtual"])
    assert code == 2
    error = capsys.readouterr().err
    assert len(error.strip().splitlines()) == 1
    assert "built-in receiver" in error and "--target" in error
    assert [line["type"] for line in read_record(record)].count("attempt") == 1  # nothing sent
    async with ScriptedReceiver(answer=lambda task, n: 200, per_task=True) as receiver:
        options_elsewhere = ResumeOptions(virtual=True, target=receiver.url)
        code = await asyncio.to_thread(resume_command, str(record), options_elsewhere)
    assert code == 0
    assert receiver.count("t") == 1


async def test_resume_takes_expect_from_the_record_not_a_path_relative_to_the_cwd(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    """The run line's plan holds the scenario: resuming from another directory (where the
    scenario's relative path means nothing) still checks its expectations."""
    project, elsewhere = tmp_path / "project", tmp_path / "elsewhere"
    project.mkdir()
    elsewhere.mkdir()
    (project / "one.yaml").write_text(
        "name: one\ncallbacks:\n  - task_id: t\nexpect:\n  delivered: 1\n  attempts: 2\n"
    )
    async with ScriptedReceiver(statuses=[500, 200], per_task=True) as receiver:
        monkeypatch.chdir(project)
        code = await asyncio.to_thread(
            main,
            ["run", "one.yaml", "--target", receiver.url, "--virtual", "--no-live",
             "--secret", SECRET, "--record", str(tmp_path / "full.jsonl")],
        )  # fmt: skip
        assert code == 0
        record = cut(
            tmp_path / "full.jsonl",
            lambda line: (
                line["type"] in ("run", "callback")
                or (line["type"] == "attempt" and line["attempt"] == 1)
            ),
        )
        monkeypatch.chdir(elsewhere)  # "one.yaml" does not exist here
        capsys.readouterr()
        code = await asyncio.to_thread(main, ["resume", str(record), "--virtual", "--json"])
    assert code == 0
    summary = read_record(record)[-1]
    assert {item["name"]: item["ok"] for item in summary["expectations"]} == {
        "delivered": True,
        "attempts": True,
    }
