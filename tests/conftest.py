"""Shared fixtures: a plugin set without third-party entry points, and the public corpus.

Helpers that are not fixtures (paths, running the CLI, builders, the test servers) live in ``tests/support/``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from extractkit.plugins import Plugins, PluginSpec

from support.paths import CORPUS

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
