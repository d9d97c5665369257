"""Building the package prints no setuptools deprecation warning (``project.license`` is an SPDX string)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib

import pytest

from support.paths import REPO


@pytest.mark.slow
def test_wheel_builds_without_deprecation_warnings(tmp_path):
    tree = tmp_path / "src"
    tree.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, tree)
    for package in ("extractkit", "extractkit_plugins", "runner"):
        shutil.copytree(REPO / package, tree / package, ignore=shutil.ignore_patterns("__pycache__"))
    completed = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w", str(tmp_path / "w"), "."],
        cwd=tree,
        capture_output=True,
        text=True,
        timeout=300,
    )
    output = completed.stdout + completed.stderr
    assert completed.returncode == 0, output
    assert "Deprecat" not in output and "deprecat" not in output, output
    assert list((tmp_path / "w").glob("extractkit-*.whl"))
    license_value = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["license"]
    assert license_value == "Apache-2.0"
