"""``zego-emulator swarm``: a master and worker processes against a receiver of this test.

Locust and gevent never enter this process (gevent's monkey-patching would break the
asyncio tests): every swarm process is a subprocess, the receiver runs on this test's
event loop. The receiver judges callbacks from ZEGO's documentation (sha1 of the sorted
secret, timestamp and nonce), not with our verifier. Retry gaps are checked on the
recorded ``gap_s`` (emulated seconds) with a tolerance; nothing here times itself.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import re
import signal
import sys
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aiohttp import web

from emulator.record.reader import read_record
from emulator.servers.start import RunningServer, start_server

SECRET = "swarm-test-secret-81c2"
DEADLINE = 120.0  # seconds to wait for a state before failing (never reached when healthy)
ZEGO_GAPS = [2.0, 4.0, 8.0, 16.0, 32.0]
Script = Callable[[int, int], int]  # (task's arrival index, request number) -> status


def zego_signature(secret: str, timestamp: str, nonce: str) -> str:
    """ZEGO's callback signature, as its docs give it: sha1 of the three strings sorted."""
    return hashlib.sha1("".join(sorted([secret, timestamp, nonce])).encode()).hexdigest()


class Receiver:
    """Answers by ``script(arrival index of the task, request number)``; checks signatures."""

    def __init__(self, script: Script) -> None:
        self.script = script
        self.requests: dict[str, int] = {}  # task id -> requests seen
        self.order: dict[str, int] = {}  # task id -> arrival index
        self.bad_signatures = 0
        self.app = web.Application()
        self.app.router.add_post("/zego/callback", self._handle)
        self.server: RunningServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return self.server.url + "/zego/callback"

    async def _handle(self, request: web.Request) -> web.Response:
        fields = json.loads(await request.read())
        timestamp, nonce = str(fields["timestamp"]), str(fields["nonce"])
        if fields.get("signature") != zego_signature(SECRET, timestamp, nonce):
            self.bad_signatures += 1
            return web.Response(status=401, text="bad signature")
        task_id = str(fields["task_id"])
        index = self.order.setdefault(task_id, len(self.order))
        self.requests[task_id] = self.requests.get(task_id, 0) + 1
        status = self.script(index, self.requests[task_id])
        return web.json_response({"code": 0 if status == 200 else 1}, status=status)

    async def __aenter__(self) -> Receiver:
        self.server = await start_server(self.app)
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        assert self.server is not None
        await self.server.stop()


async def swarm(cwd: Path, *args: str) -> asyncio.subprocess.Process:
    """``python -m emulator swarm ARGS`` with the test's secret, output piped."""
    env = dict(os.environ, ZEGO_CALLBACK_SECRET=SECRET, PYTHONUNBUFFERED="1")
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "emulator",
        "swarm",
        *args,
        cwd=cwd,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def emulator(*args: str) -> asyncio.subprocess.Process:
    """``python -m emulator ARGS`` (report, resume), output piped."""
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "emulator",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def finish(process: asyncio.subprocess.Process) -> tuple[int, str, str]:
    """Wait for a process; code, stdout, stderr. One that outlives the deadline gets Ctrl-C
    (a swarm command then stops its own processes), then, if it must, SIGKILL."""
    waiting = asyncio.ensure_future(process.communicate())
    try:
        out, err = await asyncio.wait_for(asyncio.shield(waiting), DEADLINE)
    except TimeoutError:
        process.send_signal(signal.SIGINT)
        try:
            out, err = await asyncio.wait_for(asyncio.shield(waiting), 20)
        except TimeoutError:
            process.kill()
            out, err = await waiting
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def read_port(master: asyncio.subprocess.Process) -> tuple[int, list[str]]:
    """The port the master printed it listens on (it was told to take any free one)."""
    assert master.stdout is not None
    seen: list[str] = []
    while True:
        line = (await asyncio.wait_for(master.stdout.readline(), DEADLINE)).decode()
        assert line, f"the master ended before listening: {seen}"
        seen.append(line)
        found = re.search(r"listening on 127\.0\.0\.1:(\d+)", line)
        if found:
            return int(found.group(1)), seen


def shards(record_dir: Path) -> dict[str, list[dict[str, Any]]]:
    """Each shard's lines, by worker label (w1, w2, ...)."""
    found = {}
    for path in sorted(record_dir.glob("*.jsonl")):
        lines = read_record(path)
        found[lines[0]["swarm"]["worker"]] = lines
    return found


def of_type(lines: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [line for line in lines if line["type"] == kind]


def attempts_by_task(lines: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for attempt in of_type(lines, "attempt"):
        grouped[attempt["task_id"]].append(attempt)
    return grouped


def assert_gaps_follow_zego(attempts: list[dict[str, Any]]) -> None:
    """Retry ``n`` went out ZEGO's gap ``n`` (emulated s) after the request before it: never
    earlier, and well before the next gap would be due (the tolerance is 50%)."""
    assert [a["attempt"] for a in attempts] == list(range(1, len(attempts) + 1))
    assert attempts[0]["offset_s"] == 0 and attempts[0]["gap_s"] is None
    for attempt, want in zip(attempts[1:], ZEGO_GAPS, strict=False):
        assert want - 0.01 <= attempt["gap_s"] < want * 1.5, (attempt, want)
    offsets = [a["offset_s"] for a in attempts]
    assert offsets == sorted(offsets)


def fail_every_third_first_request(index: int, number: int) -> int:
    """Every 3rd task's first request gets a 500; every 7th task's first two do."""
    if index % 7 == 6:
        return 500 if number <= 2 else 200
    return 500 if index % 3 == 2 and number == 1 else 200


async def test_master_and_two_workers_send_rate_times_duration_retried_on_zego_gaps(
    tmp_path: Path,
) -> None:
    rate, duration, speed = 20, 3, 5  # 60 callbacks in 0.6 s of real time
    async with Receiver(fail_every_third_first_request) as receiver:
        master = await swarm(
            tmp_path,
            "--master",
            "--expect-workers",
            "2",
            "--master-bind-port",
            "0",
            "--target",
            receiver.url,
            "--rate",
            str(rate),
            "--duration",
            str(duration),
            "--speed",
            str(speed),
            "--encoding",
            "json",
            "--seed",
            "5",
            "--csv",
            "locust/stats",
            "--html",
            "locust/report.html",
        )
        port, _ = await read_port(master)
        workers = [
            await swarm(
                tmp_path,
                "--worker",
                "--master-host",
                "127.0.0.1",
                "--master-port",
                str(port),
                "--record-dir",
                "shards",
            )
            for _ in range(2)
        ]
        code, out, err = await finish(master)
        worker_results = [await finish(worker) for worker in workers]
    assert code == 0, err
    assert [result[0] for result in worker_results] == [0, 0], worker_results

    found = shards(tmp_path / "shards")
    assert sorted(found) == ["w1", "w2"]
    total = rate * duration
    callbacks = {label: of_type(lines, "callback") for label, lines in found.items()}
    assert sum(len(lines) for lines in callbacks.values()) == total
    assert all(abs(len(lines) - total / 2) <= 1 for lines in callbacks.values())
    ids = [line["callback_id"] for lines in callbacks.values() for line in lines]
    assert len(set(ids)) == total  # shards never share a callback id
    task_ids = {line["task_id"] for lines in callbacks.values() for line in lines}
    assert len(task_ids) == total  # nor a task id (each worker fakes its own)
    for label, lines in found.items():
        run = lines[0]
        assert run["type"] == "run" and run["run_id"].endswith(f"-{label}")
        assert run["swarm"]["of"] == 2 and run["speed"] == speed
        summary = lines[-1]
        assert summary["type"] == "summary" and summary["interrupted"] is False
        assert summary["delivered"] == len(callbacks[label]) and summary["lost"] == 0

    # every failed first request was retried at ZEGO's gaps, scaled by --speed
    assert receiver.bad_signatures == 0
    retried = 0
    for lines in found.values():
        for task_id, attempts in attempts_by_task(lines).items():
            index = receiver.order[task_id]
            want = 3 if index % 7 == 6 else 2 if index % 3 == 2 else 1
            assert len(attempts) == want == receiver.requests[task_id], task_id
            assert [a["status"] for a in attempts] == [500] * (want - 1) + [200]
            assert_gaps_follow_zego(attempts)
            retried += want > 1
    assert retried >= total // 3

    # the master printed Locust's tables and our summary
    attempts_sent = sum(receiver.requests.values())
    assert re.search(r"Type\s+Name\s+# reqs\s+# fails", out), out
    assert re.search(rf"POST\s+procedure attempt 1\s+{total}\s", out), out
    assert re.search(rf"Aggregated\s+{attempts_sent}\s", out), out
    assert "Response time percentiles" in out and "Error report" in out
    assert "HTTP 500" in out
    assert f"swarm: 2 workers, {total} callbacks, {total} delivered, 0 lost" in out
    assert f"attempts {attempts_sent}:" in out and "retry lateness p50" in out
    stats_csv = (tmp_path / "locust" / "stats_stats.csv").read_text()
    assert "procedure attempt 2" in stats_csv
    assert "procedure attempt 1" in (tmp_path / "locust" / "report.html").read_text()

    # the shards merge into one report, a row per worker
    paths = [str(path) for path in sorted((tmp_path / "shards").glob("*.jsonl"))]
    code, report_out, err = await finish(await emulator("report", "--json", *paths))
    assert code == 0, err
    merged = json.loads(report_out)
    assert [run["worker"] for run in merged["runs"]] == ["w1", "w2"]
    assert merged["total"]["callbacks"] == merged["total"]["delivered"] == total
    assert merged["total"]["attempts"] == attempts_sent
    assert merged["total"]["lost"] == 0
    code, report_text, err = await finish(await emulator("report", *paths))
    assert code == 0, err
    assert "swarm w1" in report_text and "swarm w2" in report_text


def lose_every_fourth(index: int, number: int) -> int:
    return 500 if index % 4 == 3 else 200


async def test_local_workers_lose_a_callback_after_five_retries(tmp_path: Path) -> None:
    async with Receiver(lose_every_fourth) as receiver:
        process = await swarm(
            tmp_path,
            "--target",
            receiver.url,
            "--rate",
            "8",
            "--duration",
            "1",
            "--speed",
            "10",
            "--workers",
            "2",
            "--encoding",
            "json",
            "--record-dir",
            "shards",
            "--json",
        )
        code, out, err = await finish(process)
    assert code == 0, err
    found = shards(tmp_path / "shards")
    assert sorted(found) == ["w1", "w2"]
    summary = json.loads(out)  # --json: stdout holds only our summary
    assert (summary["callbacks"], summary["delivered"], summary["lost"]) == (8, 6, 2)
    assert summary["retries"] == 10 and summary["retry_lateness"]["max"] is not None
    assert len(summary["shards"]) == 2
    assert all((tmp_path / shard).is_file() for shard in summary["shards"])
    lost = 0
    for lines in found.values():
        outcomes = {line["task_id"]: line for line in of_type(lines, "outcome")}
        for task_id, attempts in attempts_by_task(lines).items():
            if receiver.order[task_id] % 4 == 3:
                assert len(attempts) == 6 and outcomes[task_id]["lost"] is True
                assert_gaps_follow_zego(attempts)
                lost += 1
            else:
                assert len(attempts) == 1 and outcomes[task_id]["delivered"] is True
    assert lost == 2
    assert "swarm: 2 workers, 8 callbacks, 6 delivered, 2 lost" in err  # the tables: stderr
    assert re.search(r"POST\s+procedure attempt 6\s+2\s", err), err


def refuse_odd_tasks(index: int, number: int) -> int:
    return 500 if index % 2 == 1 else 200


async def test_an_interrupted_shard_is_resumed_to_the_end(tmp_path: Path) -> None:
    async with Receiver(refuse_odd_tasks) as receiver:
        process = await swarm(
            tmp_path,
            "--target",
            receiver.url,
            "--rate",
            "4",
            "--duration",
            "1",
            "--workers",
            "1",
            "--encoding",
            "json",
            "--record-dir",
            "shards",
        )
        loop = asyncio.get_running_loop()
        give_up = loop.time() + DEADLINE
        while len(receiver.requests) < 4:  # every callback's first request went out
            assert loop.time() < give_up, "gave up waiting for the first requests"
            await asyncio.sleep(0.02)
        process.send_signal(signal.SIGINT)  # retries are 2 s away: they are pending
        code, out, err = await finish(process)
        assert code == 130, err
        (lines,) = shards(tmp_path / "shards").values()
        assert lines[-1]["type"] == "summary" and lines[-1]["interrupted"] is True
        assert len(of_type(lines, "outcome")) == 2  # the two accepted ones
        shard = next((tmp_path / "shards").glob("*.jsonl"))
        assert f"zego-emulator resume {shard.relative_to(tmp_path)}" in out

        code, resume_out, err = await finish(await emulator("resume", str(shard), "--speed", "20"))
    assert code == 0, err
    assert "finished: 4 callbacks, 2 delivered, 2 lost" in resume_out, resume_out
    lines = read_record(shard)
    outcomes = {line["task_id"]: line for line in of_type(lines, "outcome")}
    assert len(outcomes) == 4
    for task_id, attempts in attempts_by_task(lines).items():
        if receiver.order[task_id] % 2 == 1:
            assert [a["attempt"] for a in attempts] == [1, 2, 3, 4, 5, 6]
            assert receiver.requests[task_id] == 6
            assert outcomes[task_id]["lost"] is True
        else:
            assert receiver.requests[task_id] == 1 and outcomes[task_id]["delivered"] is True
    assert lines[-1]["type"] == "summary" and lines[-1]["resumed"] is True
    assert lines[-1]["delivered"] == 2 and lines[-1]["lost"] == 2


def test_the_gevent_processes_import_none_of_our_asyncio_modules() -> None:
    probe = """
import inspect, json, sys
import emulator.swarm.master, emulator.swarm.worker
ours = [name for name in sys.modules if name == "emulator" or name.startswith("emulator.")]
coroutines = [
    name for name in ours
    if getattr(sys.modules[name], "__file__", None)
    and "async def" in inspect.getsource(sys.modules[name])
]
stacks = [name for name in ("aiohttp", "httptools") if name in sys.modules]
print(json.dumps({"ours": ours, "coroutines": coroutines, "stacks": stacks}))
"""
    import subprocess

    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=DEADLINE
    )
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    assert "emulator.swarm.worker" in found["ours"]  # the probe did look
    assert found["coroutines"] == []  # no module of ours with an async def
    assert found["stacks"] == []
    assert not [
        name
        for name in found["ours"]
        if name.startswith(
            ("emulator.delivery.d", "emulator.delivery.t", "emulator.run", "emulator.servers")
        )
    ]


def refuse_everything(index: int, number: int) -> int:
    return 500


async def test_each_event_family_keeps_its_own_retry_profile(tmp_path: Path) -> None:
    (tmp_path / "families.yaml").write_text(
        "name: two families\ncallbacks:\n  - event: procedure\n  - event: cloud_recording\n"
    )
    async with Receiver(refuse_everything) as receiver:
        process = await swarm(
            tmp_path,
            "families.yaml",
            "--target",
            receiver.url,
            "--rate",
            "4",
            "--duration",
            "1",
            "--speed",
            "20",
            "--workers",
            "1",
            "--encoding",
            "json",
            "--record-dir",
            "shards",
        )
        code, out, err = await finish(process)
    assert code == 0, err
    (lines,) = shards(tmp_path / "shards").values()
    assert lines[0]["retry_profile"] == "rtc" and lines[0]["scenario"] == "two families"
    events = {line["task_id"]: line["event"] for line in of_type(lines, "callback")}
    retry = {line["event"]: line.get("retry") for line in of_type(lines, "callback")}
    assert retry["procedure"] is None  # the run's own policy
    assert retry["cloud_recording"]["profile"] == "cloud-recording"
    for task_id, attempts in attempts_by_task(lines).items():
        # rtc retries a 500 five times; cloud-recording retries only when no answer came
        assert len(attempts) == (6 if events[task_id] == "procedure" else 1), task_id
        assert receiver.requests[task_id] == len(attempts)
    assert "swarm: 1 worker, 4 callbacks, 0 delivered, 4 lost" in out
