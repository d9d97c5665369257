"""Shared fixtures: a plugin set without third-party entry points, and sample files."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from extractkit.plugins import Plugins, PluginSpec

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
CORPUS = SHARED / "corpus" / "public"
TEST_PLUGINS = Path(__file__).resolve().parent / "plugins"

os.environ.setdefault("OMP_THREAD_LIMIT", "1")


@pytest.fixture
def plugins() -> Plugins:
    """Builtins only: entry points of whatever else is installed are switched off."""
    return Plugins(PluginSpec(entry_points=False))


@pytest.fixture
def corpus() -> Path:
    """The public corpus of real files that sits beside the project."""
    if not CORPUS.is_dir():
        pytest.fail(f"the public corpus is missing at {CORPUS}; it must sit beside the project")
    return CORPUS


def run_cli(
    *args: str, cwd: Path | None = None, env: dict | None = None, timeout: float = 300, stdin: str | None = None
) -> subprocess.CompletedProcess:
    """Run the real ``extractkit`` command line in a subprocess."""
    environment = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "runner.cli", *args],
        cwd=cwd or REPO,
        env=environment,
        capture_output=True,
        text=True,
        timeout=timeout,
        input=stdin,
    )
