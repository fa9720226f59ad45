"""report: ``zego-emulator report`` over many runs (linear?) and a huge record (bounded?).

Two measurements, each in a fresh child process (``python -m bench.report --child ...``):

* **runs**: the time to report a record of 2,000 and of 20,000 one-callback runs (run,
  callback, attempt, outcome and summary line each), against the time to ``json.loads``
  every line of the same file in the same child. Linear means the 20,000-run report takes
  about 10x the 2,000-run one; the ratio to ``json.loads`` says what reading costs beyond
  parsing.
* **lines**: the peak RSS (``VmHWM``) of reporting an 80,000- and an 800,000-line record
  (one run; each callback a ``callback`` line, six ``attempt`` lines and an ``outcome``
  line). Bounded means the two peaks are about the same.

The records are written with the record format's own line writers
(:mod:`emulator.record.lines`), as a run would write them.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import ROOT, Figure, Result, child_env, command

TARGET = "http://127.0.0.1:8080/zego/callback"
RUNS = (2_000, 20_000)
LINES = (80_000, 800_000)
QUICK_RUNS = (20, 200)
QUICK_LINES = (800, 8_000)


def write_runs(path: Path, runs: int) -> None:
    """A record of ``runs`` one-callback runs (five lines each)."""
    from emulator.callback.model import Callback
    from emulator.delivery.results import Outcome
    from emulator.record.lines import attempt_text, callback_text, outcome_text

    with path.open("w", encoding="utf-8") as out:
        for index in range(runs):
            run_id = f"run-{index:06d}"
            out.write(json.dumps(_run_line(run_id, f"scenario {index % 50}", 1)) + "\n")
            callback = Callback("cb-000001", "procedure", f"task-{index}", {"a": "1"}, "form")
            out.write(f"{callback_text(callback, TARGET, 0.0, run_id)}\n")
            attempt = _attempt(run_id, "cb-000001", f"task-{index}", 1, 200)
            out.write(attempt_text(attempt) + "\n")
            out.write(outcome_text(Outcome("cb-000001", "procedure", "", True, [attempt], run_id)))
            out.write("\n" + json.dumps(_summary(run_id, 1, 1)) + "\n")


def write_lines(path: Path, lines: int) -> None:
    """A one-run record of about ``lines`` lines: each callback 1 + 6 + 1 lines."""
    from emulator.callback.model import Callback
    from emulator.delivery.results import Attempt, Outcome
    from emulator.record.lines import attempt_text, callback_text, outcome_text

    callbacks = max(1, lines // 8)
    run_id = "big-run"
    with path.open("w", encoding="utf-8") as out:
        out.write(json.dumps(_run_line(run_id, "big", callbacks)) + "\n")
        for index in range(callbacks):
            callback_id = f"cb-{index + 1:06d}"
            task = f"task-{index}"
            body = {"event": "procedure", "task_id": task, "signature": "0" * 40}
            callback = Callback(callback_id, "procedure", task, body, "json")
            out.write(f"{callback_text(callback, TARGET, 0.0, run_id)}\n")
            history: list[Attempt] = []
            for number in range(1, 7):
                status = 200 if number == 6 and index % 2 else 500
                history.append(_attempt(run_id, callback_id, task, number, status))
                out.write(attempt_text(history[-1]) + "\n")
            delivered = history[-1].status == 200
            outcome = Outcome(callback_id, "procedure", task, delivered, history, run_id)
            out.write(outcome_text(outcome) + "\n")
        out.write(json.dumps(_summary(run_id, callbacks, callbacks * 6)) + "\n")


def _attempt(run_id: str, callback_id: str, task: str, number: int, status: int) -> object:
    from emulator.delivery.results import Attempt

    offset = float((0, 2, 6, 14, 30, 62)[number - 1])
    return Attempt(
        callback_id=callback_id,
        event="procedure",
        task_id=task,
        attempt=number,
        scheduled_at=1_700_000_000.0 + offset,
        sent_at=1_700_000_000.0 + offset + 0.0015,
        offset_s=offset,
        gap_s=None if number == 1 else offset - (0, 2, 6, 14, 30, 62)[number - 2],
        status=status,
        error=None,
        latency_ms=1.25 + number / 10,
        response_excerpt="ok" if status == 200 else "error 500: try again later",
        run_id=run_id,
    )


def _run_line(run_id: str, scenario: str, callbacks: int) -> dict[str, object]:
    return {
        "type": "run",
        "run_id": run_id,
        "started_at": 1_700_000_000.0,
        "scenario": scenario,
        "target": TARGET,
        "encoding": "form",
        "speed": None,
        "version": "bench",
        "virtual": True,
        "callbacks": callbacks,
        "intervals": [2.0, 4.0, 8.0, 16.0, 32.0],
        "timeout": 5.0,
    }


def _summary(run_id: str, callbacks: int, attempts: int) -> dict[str, object]:
    return {
        "type": "summary",
        "run_id": run_id,
        "callbacks": callbacks,
        "delivered": callbacks,
        "lost": 0,
        "attempts": attempts,
        "expectations": [{"name": "delivered", "expected": callbacks, "observed": callbacks,
                          "ok": True}],
    }  # fmt: skip


def _peak_rss_mb() -> float:
    """This process's peak resident set (VmHWM), in MB."""
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(mode: str, record: Path) -> dict[str, float]:
    """In this process: report ``record`` (terminal output into a buffer); the figures."""
    import importlib

    from emulator.cli.main import main

    for module in ("emulator.term.report", "rich.table", "rich.box", "rich.text"):
        importlib.import_module(module)  # imports are not what is measured
    started = time.perf_counter()
    with record.open(encoding="utf-8") as handle:
        for line in handle:
            json.loads(line)
    parsed = time.perf_counter() - started
    started = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()) as out:
        code = main(["report", str(record)])
    reported = time.perf_counter() - started
    if code != 0:
        raise SystemExit(f"report exited {code}")
    return {"json_s": parsed, "report_s": reported, "rss_mb": _peak_rss_mb(),
            "out_chars": float(len(out.getvalue()))}  # fmt: skip


def _in_child(mode: str, record: Path) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, "-m", "bench.report", "--child", mode, str(record)],
        cwd=ROOT,
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"bench.report child failed: {done.stderr.strip()[-400:]}")
    figures: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def run(quick: bool = False) -> Result:
    """Both measurements; ``quick``: tiny sizes."""
    runs = QUICK_RUNS if quick else RUNS
    lines = QUICK_LINES if quick else LINES
    result = Result("report", command("report", *(["--quick"] if quick else [])))
    with tempfile.TemporaryDirectory(prefix="bench-report-") as tmp:
        timed = []
        for count in runs:
            record = Path(tmp) / f"runs-{count}.jsonl"
            write_runs(record, count)
            timed.append(_in_child("runs", record))
            record.unlink()
        small, large = timed
        for count, figures in zip(runs, timed, strict=True):
            result.add(
                Figure(
                    f"report {count:,} runs",
                    figures["report_s"],
                    "s",
                    against="json.loads of the same lines",
                    ratio=figures["report_s"] / max(figures["json_s"], 1e-9),
                )
            )
        result.add(
            Figure(
                f"{runs[1]:,} vs {runs[0]:,} runs (time)",
                large["report_s"] / max(small["report_s"], 1e-9),
                "x",
                target=f"linear: ~{runs[1] / runs[0]:.0f}x, under {2 * runs[1] / runs[0]:.0f}x",
                ok=large["report_s"] / max(small["report_s"], 1e-9) < 2 * runs[1] / runs[0],
            )
        )
        peaks = []
        for count in lines:
            record = Path(tmp) / f"lines-{count}.jsonl"
            write_lines(record, count)
            peaks.append(_in_child("lines", record))
            record.unlink()
        for count, figures in zip(lines, peaks, strict=True):
            result.add(Figure(f"peak RSS, report of {count:,} lines", figures["rss_mb"], "MB"))
            result.add(Figure(f"time, report of {count:,} lines", figures["report_s"], "s"))
        result.add(
            Figure(
                f"{lines[1]:,} vs {lines[0]:,} lines (peak RSS)",
                peaks[1]["rss_mb"] / max(peaks[0]["rss_mb"], 1e-9),
                "x",
                target="bounded: ~1x, under 1.5x",
                ok=peaks[1]["rss_mb"] / max(peaks[0]["rss_mb"], 1e-9) < 1.5,
            )
        )
    result.notes.append(
        "each size in a fresh child; the baseline is json.loads of every line in that child"
    )
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--child", nargs=2, metavar=("MODE", "RECORD"))
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child[0], Path(args.child[1]))))
    else:
        print(run().text())
