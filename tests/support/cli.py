"""Run the real ``extractkit`` command line in a subprocess, as a user would."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from support.paths import REPO


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
