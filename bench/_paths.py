"""Put the checkout and its ``tests/`` folder on ``sys.path`` for the benchmarks, which run outside pytest.

``import _paths`` first thing in a script run as ``python bench/NAME.py`` (its folder, ``bench/``, is then
on the path): afterwards ``bench.*`` and the project import from this checkout, and the test helpers as the
tests import them under pytest's ``pythonpath = ["tests"]`` (``from support.aws_stack import ...``,
``from truth.cer import ...``, ``from hostile.generate import ...``). Child processes a benchmark starts
get the same through :func:`child_environment`.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TESTS = REPO / "tests"
SEARCH_PATH = (str(TESTS), str(REPO))

for folder in reversed(SEARCH_PATH):
    if folder not in sys.path:
        sys.path.insert(0, folder)


def child_environment() -> dict[str, str]:
    """This process's environment with ``PYTHONPATH`` led by the same folders, for ``python -c`` children."""
    inherited = os.environ.get("PYTHONPATH")
    return {**os.environ, "PYTHONPATH": os.pathsep.join([*SEARCH_PATH, *([inherited] if inherited else [])])}
