"""Generate as you send: a run generates each callback just ahead of its first request.

The record's ``run`` line holds the plan (scenario, seeds, epoch, size) before the first
request, so a run killed with most callbacks not even generated yet loses nothing:
``resume`` regenerates them byte for byte. The receivers here are the standard library's
HTTP server, and they judge signatures the way ZEGO's docs say (sha1 of the sorted secret,
timestamp and nonce) — not with the emulator's verifier.
"""

from __future__ import annotations

import hashlib
import http.server
import json
import os
import signal
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from emulator.cli.main import main
from emulator.record.reader import read_record
from emulator.run.planner import PlanSeeds, plan_run
from emulator.scenario.model import Scenario
from emulator.settings import RunOptions, Secret, resolve

ROOT = Path(__file__).resolve().parents[2]
SECRET = "lookahead-secret-5c1e"
WAIT = 120.0  # seconds a test waits for an event before it fails (a hang guard, no timing)


def zego_signature(secret: str, timestamp: str, nonce: str) -> str:
    """ZEGO's callback signature (docs: sort secret, timestamp, nonce; join; sha1 hex)."""
    return hashlib.sha1("".join(sorted([secret, timestamp, nonce])).encode()).hexdigest()


class Receiver:
    """A threaded stdlib HTTP server: answers 200 to the first ``answered`` requests, then
    holds every later one until :meth:`release`; keeps every body."""

    def __init__(self, answered: int | None = None) -> None:
        self.answered = answered
        self.bodies: list[bytes] = []
        self.lock = threading.Lock()
        self.reached = threading.Event()  # ``answered`` requests arrived
        self.gate = threading.Event()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with outer.lock:
                    outer.bodies.append(body)
                    count = len(outer.bodies)
                if outer.answered is not None and count >= outer.answered:
                    outer.reached.set()
                    if count > outer.answered:
                        outer.gate.wait(WAIT)
                try:
                    self.send_response(200)
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"ok")
                except OSError:  # the run was killed meanwhile
                    self.close_connection = True

            def log_message(self, *args: Any) -> None:
                pass

        class Server(http.server.ThreadingHTTPServer):
            def handle_error(self, request: Any, client_address: Any) -> None:
                pass  # a connection the killed run dropped

        self.server = Server(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/zego/callback"

    def release(self) -> None:
        self.gate.set()

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(autouse=True)
def in_tmp(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("ZEGO_CALLBACK_SECRET", SECRET)
    monkeypatch.chdir(tmp_path)


def regenerated(run: dict[str, Any]) -> dict[str, bytes]:
    """callback id -> body, regenerated from a run line's plan (what resume does)."""
    plan = run["plan"]
    scenario = Scenario.model_validate(plan["scenario"])
    seeds = PlanSeeds.from_record(plan)
    options = RunOptions(target=run["target"], secret=Secret(SECRET, "test"))
    settings = seeds.apply(resolve(options, scenario, quiet=True))
    planned, _ = plan_run(scenario, settings, seeds.factory(), epoch=seeds.epoch)
    return {
        item.delivery.callback.callback_id: item.delivery.callback.body()[1] for item in planned
    }


def signed_the_zego_way(body: bytes) -> bool:
    fields = json.loads(body)
    expected = zego_signature(SECRET, str(fields["timestamp"]), str(fields["nonce"]))
    return bool(fields["signature"] == expected)


def task_bodies(bodies: dict[str, bytes]) -> dict[str, bytes]:
    """task id -> body (a callback and its duplicates share both)."""
    return {json.loads(body)["task_id"]: body for body in bodies.values()}


MIXED = (
    "name: look-ahead\n"
    "concurrency: 20\n"
    "callbacks:\n"
    "  - repeat: 2500\n"
    "  - {event: compose, duplicates: 1, repeat: 200}\n"
    "  - {event: snapshot, delay: 2, repeat: 300}\n"
)


def test_a_run_killed_mid_burst_holds_few_generated_callbacks_and_resume_sends_every_one(
    tmp_path: Path,
) -> None:
    """SIGKILL a 3,200-callback run while its receiver holds requests 501 on: only the
    callbacks just ahead of the sent ones were generated (their callback lines); resume
    regenerates the rest, and every planned callback arrives, signed, byte for byte."""
    scenario = tmp_path / "mixed.yaml"
    scenario.write_text(MIXED)
    record = tmp_path / "run.jsonl"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    with Receiver(answered=500) as first:
        argv = ["run", str(scenario), "--target", first.url, "--record", str(record)]
        child = subprocess.Popen(
            [sys.executable, "-m", "emulator", *argv, "--no-live", "--json"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            assert first.reached.wait(WAIT), "the run never reached 500 requests"
            child.send_signal(signal.SIGKILL)
            child.wait(WAIT)
        finally:
            if child.poll() is None:
                child.kill()
                child.wait()
        first.release()
        sent_first = list(first.bodies)
    before = read_record(record)
    run = before[0]
    planned = regenerated(run)
    size = 2500 + 2 * 200 + 300
    assert run["type"] == "run" and run["plan"]["size"] == size == len(planned)
    announced = [line for line in before if line["type"] == "callback"]
    # generated just ahead: 500 answered + 20 held + at most the look-ahead (256) and a
    # batch of chains; an up-front plan would have announced all 3,200 at once
    assert 500 <= len(announced) < 1000
    for line in announced:  # what the run generated is what resume regenerates
        assert line["body"].encode() == planned[line["callback_id"]]
    with Receiver() as second:
        resume = ["resume", str(record), "--target", second.url, "--virtual", "--json"]
        assert main(resume) == 0
        sent_second = list(second.bodies)
    by_task = task_bodies(planned)
    arrived = [*sent_first, *sent_second]
    assert all(signed_the_zego_way(body) for body in arrived)
    for body in arrived:  # byte for byte the planned body of its task
        assert body == by_task[json.loads(body)["task_id"]]
    assert {json.loads(body)["task_id"] for body in arrived} == by_task.keys()
    lines = read_record(record)
    outcomes = Counter(line["callback_id"] for line in lines if line["type"] == "outcome")
    assert outcomes.keys() == planned.keys() and set(outcomes.values()) == {1}
    summary = lines[-1]
    assert (summary["type"], summary["pending"], summary["ok"]) == ("summary", 0, True)
    assert summary["callbacks"] == summary["delivered"] == size


SESSIONS = (
    "name: look-ahead sessions\n"
    "seed: 11\n"
    "callbacks:\n"
    "  - repeat: 40\n"
    "  - {event: compose, duplicates: 2, expect: accepted}\n"
    "  - {event: snapshot, delay: 0.5, repeat: 3}\n"
    "calls:\n"
    "  - {caller: alice, callees: [bob, carol], answers: [accept, silent], timeout: 30}\n"
    "sessions:\n"
    "  - {users: 2, republish: 1, end: logout}\n"
)


@pytest.mark.parametrize("order", ["as_listed", "zego-documented", "reversed", "shuffled"])
def test_a_streamed_run_sends_what_its_plan_regenerates_whatever_the_order(
    tmp_path: Path, order: str
) -> None:
    """A run (streamed for as_listed and zego-documented, planned up front for reversed and
    shuffled) records and sends exactly the bodies its plan regenerates, each to one
    outcome, in the delivery order the plan gives."""
    scenario = tmp_path / "mixed.yaml"
    scenario.write_text(f"{SESSIONS}order: {order}\n")
    record = tmp_path / "run.jsonl"
    with Receiver() as receiver:
        argv = ["run", str(scenario), "--target", receiver.url, "--virtual", "--json"]
        assert main([*argv, "--record", str(record)]) == 0
        arrived = list(receiver.bodies)
    lines = read_record(record)
    planned = regenerated(lines[0])
    callbacks = [line for line in lines if line["type"] == "callback"]
    assert {line["callback_id"]: line["body"].encode() for line in callbacks} == planned
    assert set(arrived) == set(planned.values())  # at least once each (a retry may resend)
    outcomes = Counter(line["callback_id"] for line in lines if line["type"] == "outcome")
    assert outcomes.keys() == planned.keys() and set(outcomes.values()) == {1}
    assert all(signed_the_zego_way(body) for body in arrived)
    seeds = PlanSeeds.from_record(lines[0]["plan"])
    plan_scenario = Scenario.model_validate(lines[0]["plan"]["scenario"])
    options = RunOptions(target=receiver.url, secret=Secret(SECRET, "test"))
    settings = seeds.apply(resolve(options, plan_scenario, quiet=True))
    order_planned, _ = plan_run(plan_scenario, settings, seeds.factory(), epoch=seeds.epoch)
    first_ids = [item.delivery.callback.callback_id for item in order_planned]
    # the callback lines go in the record in delivery order (duplicates at their chain's start)
    assert [line["callback_id"] for line in callbacks] == first_ids
    summary = lines[-1]
    assert summary["ok"] is True and summary["callbacks"] == len(planned)


def ids_of(chains: Iterator[Any]) -> list[str]:
    return [item.delivery.callback.callback_id for chain in chains for item in chain]


def test_the_planner_knows_its_size_and_truth_before_generating_anything(
    tmp_path: Path,
) -> None:
    """The skeleton (size, truth) is there before the first callback is generated, and the
    chains it then hands out are the eager plan's, in its order."""
    from emulator.run.planner import Planner

    scenario = Scenario.model_validate(
        {
            "name": "skeleton",
            "callbacks": [{"repeat": 3, "duplicates": 1}, {"event": "compose"}],
            "sessions": [{"users": 1, "end": "logout"}],
        }
    )
    options = RunOptions(target="http://127.0.0.1:9/cb", secret=Secret(SECRET, "test"))
    seeds = PlanSeeds(seed=5, nonce_seed=6, app_id=None, epoch=1_800_000_000)
    settings = seeds.apply(resolve(options, scenario, quiet=True))
    planner = Planner(scenario, settings, seeds.factory(), epoch=seeds.epoch)
    assert planner.streams and planner.truth is not None
    assert planner.factory.next_callback_id() == "cb-000001"  # nothing generated yet
    planner = Planner(scenario, settings, seeds.factory(), epoch=seeds.epoch)
    eager, truth = plan_run(scenario, settings, seeds.factory(), epoch=seeds.epoch)
    assert planner.size == len(eager) == 3 * 2 + 1 + 6
    assert planner.truth == truth
    streamed = list(planner.chains())
    assert ids_of(iter(streamed)) == [item.delivery.callback.callback_id for item in eager]
    assert [item.delivery.callback.body() for chain in streamed for item in chain] == [
        item.delivery.callback.body() for item in eager
    ]
    with pytest.raises(RuntimeError):
        next(planner.chains())
