"""The master process: Locust's MasterRunner, the shares handed out, the summary at the end.

    python -m emulator.swarm master < plan-and-options.json

It binds (``--master-bind-host``/``--master-bind-port``; 127.0.0.1:5557 unless told), starts
its local workers if asked (``--workers N``), waits for ``--expect-workers`` to connect,
sends each its share (``zego_share``: the plan, share ``i`` of ``N``), then starts one
Locust user per worker. Each worker reports ``zego_done`` (its tally, after its last
statistics) once its share is delivered or lost; with every report in, the master ends the
run and prints Locust's tables (requests, percentiles, errors) and our summary —
callbacks, delivered, lost, attempts, retry lateness — and where the shards are.
``--csv``/``--html`` are Locust's own files; ``--web`` serves Locust's UI during the run
and after it, until Ctrl-C. Ctrl-C during the run stops the workers cleanly: each writes
an interrupted summary (``zego-emulator resume SHARD`` carries on).

Imported only in a process that gevent has patched (``python -m emulator.swarm``).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import Any

import gevent
import gevent.event
from locust.env import Environment
from locust.html import get_html_report
from locust.rpc.protocol import Message
from locust.runners import MasterRunner, WorkerNode
from locust.stats import (
    PERCENTILES_TO_REPORT,
    StatsCSVFileWriter,
    get_error_report_summary,
    get_percentile_stats_summary,
    get_stats_summary,
    stats_history,
)

from emulator.redact import without_password
from emulator.swarm.launch import MasterOptions, worker_command
from emulator.swarm.plan import SwarmPlan
from emulator.swarm.tally import describe, merge
from emulator.swarm.user import ZegoCallbackUser
from emulator.term.safe import json_text, safe
from emulator.term.safe import say as terminal_say

EXIT_OK, EXIT_INCOMPLETE, EXIT_BAD_INPUT, EXIT_INTERRUPTED = 0, 1, 2, 130
POLL_S = 0.05  # how often the master looks at its workers while it waits
STOP_GRACE_S = 10.0  # real seconds workers get to write their summaries after Ctrl-C


@dataclass
class Reports:
    """What the workers told the master: their tallies, or why they cannot take part."""

    ready: set[str] = field(default_factory=set)  # client ids that can take a share
    done: dict[str, dict[str, Any]] = field(default_factory=dict)  # client id -> tally
    failed: dict[str, str] = field(default_factory=dict)  # client id -> reason
    changed: gevent.event.Event = field(default_factory=gevent.event.Event)

    def on_ready(self, environment: Environment, msg: Message, **kwargs: Any) -> None:
        self.ready.add(msg.node_id)
        self.changed.set()

    def on_done(self, environment: Environment, msg: Message, **kwargs: Any) -> None:
        self.done[msg.node_id] = dict(msg.data or {})
        self.changed.set()

    def on_failed(self, environment: Environment, msg: Message, **kwargs: Any) -> None:
        self.failed[msg.node_id] = str((msg.data or {}).get("reason", "unknown"))
        self.changed.set()

    def settled(self, clients: list[WorkerNode]) -> bool:
        """Every worker of the run reported (done or failed)."""
        return all(c.id in self.done or c.id in self.failed for c in clients)


class Master:
    """One swarm run from the master's side (see module docstring)."""

    def __init__(self, plan: SwarmPlan, options: MasterOptions) -> None:
        self.plan = plan
        self.options = options
        self.environment = Environment(user_classes=[ZegoCallbackUser], catch_exceptions=True)
        self.runner: MasterRunner = self.environment.create_master_runner(
            options.bind_host, options.bind_port
        )
        self.port: int = self.runner.server.port
        self.reports = Reports()
        self.runner.register_message("zego_ready", self.reports.on_ready)
        self.runner.register_message("zego_done", self.reports.on_done)
        self.runner.register_message("zego_failed", self.reports.on_failed)
        self.interrupted = gevent.event.Event()
        self.local: list[subprocess.Popen[bytes]] = []
        self.csv: StatsCSVFileWriter | None = None
        self.csv_greenlet: gevent.Greenlet | None = None

    # --- the run ------------------------------------------------------------------------

    def run(self) -> int:
        """The whole run; the exit code."""
        options = self.options
        self.say(
            f"swarm master: listening on {options.bind_host}:{self.port}, waiting for "
            f"{options.expect_workers} worker{'s' if options.expect_workers > 1 else ''}"
        )
        gevent.signal_handler(signal.SIGINT, self.interrupted.set)
        gevent.signal_handler(signal.SIGTERM, self.interrupted.set)
        self._start_outputs()
        self._start_local_workers()
        clients = self._wait_for_workers()
        if clients is None:
            return self._end(EXIT_INTERRUPTED if self.interrupted.is_set() else EXIT_INCOMPLETE)
        self._hand_out(clients)
        code = self._wait_until_done(clients)
        return self._end(code, clients)

    def _start_outputs(self) -> None:
        options = self.options
        gevent.spawn(stats_history, self.runner)  # the charts of the HTML report and the UI
        if options.csv_prefix:
            folder = os.path.dirname(options.csv_prefix)
            if folder:
                os.makedirs(folder, exist_ok=True)
            self.csv = StatsCSVFileWriter(
                self.environment, PERCENTILES_TO_REPORT, options.csv_prefix, False
            )
            self.csv_greenlet = gevent.spawn(self.csv.stats_writer)
        if options.web:
            web_ui: Any = self.environment.create_web_ui(
                host=options.web_host,
                port=options.web_port,
                stats_csv_writer=self.csv,
                delayed_start=True,
            )
            web_ui.start()
            self.say(
                f"swarm master: Locust's web UI at http://{options.web_host}:{options.web_port}"
            )

    def _start_local_workers(self) -> None:
        command = worker_command("127.0.0.1", self.port, self.options.record_dir)
        for _ in range(self.options.local_workers):
            # their own session: Ctrl-C reaches the master, which stops them in order
            out = sys.stderr if self.options.json_summary else None  # --json: stdout is ours
            self.local.append(subprocess.Popen(command, start_new_session=True, stdout=out))

    def _wait_for_workers(self) -> list[WorkerNode] | None:
        """The first ``expect_workers`` ready workers, in the order they connected (ready:
        Locust's state, and our ``zego_ready`` said the worker listens for its share)."""
        want = self.options.expect_workers
        while True:
            ready = [c for c in self.runner.clients.ready if c.id in self.reports.ready]
            ready.sort(key=self._index)
            if len(ready) >= want:
                return ready[:want]
            if self.interrupted.is_set():
                return None
            dead = [p for p in self.local if p.poll() is not None]
            if dead:
                self.say(f"swarm master: a local worker exited early (exit {dead[0].returncode})")
                return None
            gevent.sleep(POLL_S)

    def _index(self, client: WorkerNode) -> int:
        """The 0-based order in which the worker first connected (Locust's worker index)."""
        runner: Any = self.runner  # get_worker_index is untyped
        return int(runner.get_worker_index(client.id))

    def _hand_out(self, clients: list[WorkerNode]) -> None:
        """Share ``i`` of ``N`` to each worker, then one user each (the share goes first)."""
        for index, client in enumerate(clients):
            share = {"index": index, "of": len(clients)}
            self.runner.send_message(
                "zego_share", {"plan": self.plan.to_message(), "share": share}, client.id
            )
        self.say(
            f"swarm master: {self.plan.total} callbacks at {self.plan.rate:g}/s for "
            f"{self.plan.duration:g} s over {len(clients)} worker{'' if len(clients) == 1 else 's'}"
            f" -> {without_password(self.plan.target)}"
        )
        runner: Any = self.runner  # start is untyped
        runner.start(len(clients), spawn_rate=len(clients))

    def _wait_until_done(self, clients: list[WorkerNode]) -> int:
        """Until every worker reported, one went away, or Ctrl-C (then stop them in order)."""
        while not self.reports.settled(clients):
            if self.interrupted.is_set():
                self._stop_workers(clients)
                return EXIT_INTERRUPTED
            gone = [c for c in clients if c.id not in self.runner.clients or c.state == "missing"]
            if gone:
                self.say(f"swarm master: {len(gone)} worker(s) went away before finishing")
                return EXIT_INCOMPLETE
            self.reports.changed.clear()
            self.reports.changed.wait(POLL_S * 4)
        return EXIT_BAD_INPUT if self.reports.failed else EXIT_OK

    def _stop_workers(self, clients: list[WorkerNode]) -> None:
        """Ask each worker to stop its share and report; wait a little for the reports."""
        self.say("swarm master: interrupted; stopping the workers")
        for client in clients:
            self.runner.send_message("zego_stop", None, client.id)
        deadline = time.monotonic() + STOP_GRACE_S
        while not self.reports.settled(clients) and time.monotonic() < deadline:
            self.reports.changed.clear()
            self.reports.changed.wait(POLL_S * 4)

    # --- the end ------------------------------------------------------------------------

    def _end(self, code: int, clients: list[WorkerNode] | None = None) -> int:
        self.runner.quit()  # workers get "quit" and exit
        for reason in self.reports.failed.values():
            terminal_say(
                f"zego-emulator swarm: error: a worker refused its share: {safe(reason)}",
                file=sys.stderr,
            )
        if clients is not None:
            self._print_tables()
        if self.options.html_path:
            self._write_html(self.options.html_path)
        if self.csv is not None:
            self._write_csv(self.csv)
        self._reap_local_workers()
        if self.options.web and code != EXIT_INTERRUPTED:
            self.say("swarm master: the run is over; the web UI stays up until Ctrl-C")
            self.interrupted.clear()
            self.interrupted.wait()
        return code

    def say(self, text: str) -> None:
        """A line for the person at the terminal, at once (on stderr with --json: stdout
        holds only the summary then)."""
        terminal_say(text, file=sys.stderr if self.options.json_summary else sys.stdout)

    def _print_tables(self) -> None:
        stats = self.runner.stats
        lines = [*get_stats_summary(stats, current=False), ""]
        lines += [*get_percentile_stats_summary(stats), ""]
        if stats.errors:
            lines += [*get_error_report_summary(stats), ""]
        reports = list(self.reports.done.values())
        total = merge(reports, rate=self.plan.rate * self.plan.speed)
        lines += describe(total)
        lines += [f"  shard {r.get('worker')}: {r.get('record')}" for r in _by_worker(reports)]
        self.say("\n".join(lines))
        if self.options.json_summary:
            total["shards"] = [str(r.get("record", "")) for r in _by_worker(reports)]
            terminal_say(json_text(total, indent=2))

    def _write_csv(self, csv: StatsCSVFileWriter) -> None:
        """The final statistics into Locust's CSV files (its writer rewrites them every
        second; stopped first, so that the last rows are the run's end)."""
        if self.csv_greenlet is not None:
            self.csv_greenlet.kill(block=True)
        for handle, write, writer in (
            (csv.requests_csv_filehandle, csv.requests_csv, csv.requests_csv_writer),
            (csv.failures_csv_filehandle, csv.failures_csv, csv.failures_csv_writer),
            (csv.exceptions_csv_filehandle, csv.exceptions_csv, csv.exceptions_csv_writer),
        ):
            handle.seek(0)
            write(writer)
            handle.truncate()
        csv.close_files()
        self.say(f"swarm master: Locust's CSV statistics: {self.options.csv_prefix}_stats.csv ...")

    def _write_html(self, path: str) -> None:
        folder = os.path.dirname(path)
        if folder:
            os.makedirs(folder, exist_ok=True)
        with open(path, "w", encoding="utf-8") as handle:
            render: Any = get_html_report  # untyped
            handle.write(render(self.environment, show_download_link=False))
        self.say(f"swarm master: Locust's HTML report: {path}")

    def _reap_local_workers(self) -> None:
        for process in self.local:
            try:
                process.wait(timeout=STOP_GRACE_S)
            except subprocess.TimeoutExpired:
                process.terminate()
                process.wait()


def _by_worker(reports: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(reports, key=lambda r: int(str(r.get("worker", "w0"))[1:] or 0))


def run_master(plan: SwarmPlan, options: MasterOptions) -> int:
    """Run the master side of a swarm; the exit code."""
    return Master(plan, options).run()
