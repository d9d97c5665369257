"""The demo samples that ``make run`` generates (``examples/make_samples.py``), built where a test wants them."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from types import ModuleType

from .paths import REPO

EXAMPLES = REPO / "examples"


def sample_maker() -> ModuleType:
    """``examples/make_samples.py`` as a module (it lives outside the packages)."""
    sys.path.insert(0, str(EXAMPLES))
    try:
        return importlib.import_module("make_samples")
    finally:
        sys.path.remove(str(EXAMPLES))


def demo_invoice(folder: Path) -> tuple[Path, str]:
    """The scanned demo invoice built in ``folder``, and its exact text."""
    maker = sample_maker()
    scan = next(path for path in maker.build(folder) if path.name == "invoice-scan.png")
    return scan, "\n".join(maker.SCAN_LINES)
