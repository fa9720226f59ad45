"""The HTML report says which numbers are emulated seconds and which are real milliseconds,
and does not show a lateness of 0.0 for a virtual-time run (it had no real waits)."""

from __future__ import annotations

from pathlib import Path

from emulator.cli.main import main

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = str(ROOT / "scenarios" / "retry-then-success.yaml")


def html_of(tmp_path: Path, *clock: str) -> str:
    record, page = tmp_path / "run.jsonl", tmp_path / "report.html"
    run = ["run", SCENARIO, "--builtin-receiver", "--no-live", "--secret", "s", *clock]
    assert main([*run, "--record", str(record)]) == 0
    assert main(["report", str(record), "--html", str(page)]) == 0
    return page.read_text()


def test_the_attempt_table_names_its_units(tmp_path: Path) -> None:
    page = html_of(tmp_path, "--virtual")
    for header in ("at (emulated s)", "gap (emulated s)", "latency (real ms)", "late (real ms)"):
        assert f">{header}</th>" in page


def test_a_virtual_run_shows_no_lateness(tmp_path: Path) -> None:
    page = html_of(tmp_path, "--virtual")
    assert page.count("<td>n/a (virtual time)</td>") == 3  # one per request
    assert "n/a (virtual time)" in page.split("schedule lateness", 1)[1][:400]


def test_a_scaled_run_shows_its_lateness_in_ms(tmp_path: Path) -> None:
    page = html_of(tmp_path, "--speed", "200")
    assert "n/a (virtual time)" not in page
