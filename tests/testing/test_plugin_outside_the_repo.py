"""The pytest plugin in a project of its own (not this repo, whose pyproject configures
pytest-asyncio): using the ``zego`` fixture brings no pytest-asyncio deprecation warning,
and a project's own ``asyncio_default_fixture_loop_scope`` still wins."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TEST = """\
import pytest

@pytest.mark.asyncio
async def test_uses_the_zego_fixture(zego):
    assert zego is not None
"""


def run_pytest(project: Path) -> subprocess.CompletedProcess[str]:
    (project / "test_outside.py").write_text(TEST)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-W", "always", "-m", "pytest", "-p", "no:cacheprovider", "-q", "-rw"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_the_plugin_brings_no_loop_scope_warning_to_a_project_that_set_none(
    tmp_path: Path,
) -> None:
    done = run_pytest(tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "asyncio_default_fixture_loop_scope" not in done.stdout + done.stderr


def test_a_projects_own_loop_scope_wins(tmp_path: Path) -> None:
    (tmp_path / "pytest.ini").write_text("[pytest]\nasyncio_default_fixture_loop_scope = module\n")
    done = run_pytest(tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    verbose = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--co"],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert "asyncio_default_fixture_loop_scope=module" in verbose.stdout
