"""Fault-injection extractors that allocate memory without bound.

``fault-memory*`` files: the extractor itself appends 1 MiB blocks, every page
written, until the memory watchdog or the address-space limit stops it.
``fault-burst*`` files: one 4 GiB allocation whose pages are never touched, so
resident memory stays small and only the address-space limit refuses it (without
that limit it succeeds and the extractor returns a result). ``fault-memtree*`` files: two grandchild processes each grow
slowly (a little over 100 MB a second) and record their pids, so only a
watchdog that adds up the whole process tree notices the total.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from extractkit import hookimpl
from extractkit.interfaces import Extractor
from extractkit.models import Document, ExtractionResult, ExtractOptions

PID_DIR_ENV = "EXTRACTKIT_FAULT_PID_DIR"


def record_pids(options: ExtractOptions, document: Document, pids: list[int]) -> None:
    """Write ``pids`` to ``<pid dir>/<document name>.pid`` (see ``fault_hang.py``)."""
    value = options.extra.get("fault_pid_dir") or os.environ.get(PID_DIR_ENV)
    if not value:
        return
    directory = Path(value)
    directory.mkdir(parents=True, exist_ok=True)
    partial = directory / f".{document.name}.pid.partial"
    partial.write_text("".join(f"{pid}\n" for pid in pids))
    partial.rename(directory / f"{document.name}.pid")


MIB = 1024 * 1024
BURST_BYTES = 4 * 1024 * MIB

GROWER = """
import time
blocks = []
while True:
    try:
        blocks.append(bytearray(b"\\x01") * (8 * 1024 * 1024))
    except MemoryError:
        time.sleep(1)
    time.sleep(0.06)
"""


class MemoryHogExtractor(Extractor):
    """Allocates 1 MiB blocks, touching every page, until something stops it."""

    name = "fault_memory"
    mime_types = ("text/plain",)
    priority = 0

    def accepts(self, document: Document) -> bool:
        """Only files named ``fault-memory*``."""
        return document.name.startswith("fault-memory")

    def extract(self, document: Document) -> ExtractionResult:
        """Never returns normally."""
        blocks = []
        while True:
            blocks.append(bytearray(b"\x01") * MIB)


class MemoryBurstExtractor(Extractor):
    """Asks for 4 GiB at once without touching it."""

    name = "fault_memory_burst"
    mime_types = ("text/plain",)
    priority = 0

    def accepts(self, document: Document) -> bool:
        """Only files named ``fault-burst*``."""
        return document.name.startswith("fault-burst")

    def extract(self, document: Document) -> ExtractionResult:
        """Returns only when nothing limits the address space."""
        block = bytes(BURST_BYTES)
        return ExtractionResult(text=f"allocated {len(block)} bytes", extractor=self.name)


class MemoryTreeExtractor(Extractor):
    """Starts two grandchildren that each grow, so the tree as a whole passes the cap."""

    name = "fault_memory_tree"
    mime_types = ("text/plain",)
    priority = 0

    def accepts(self, document: Document) -> bool:
        """Only files named ``fault-memtree*``."""
        return document.name.startswith("fault-memtree")

    def extract(self, document: Document) -> ExtractionResult:
        """Never returns."""
        growers = [subprocess.Popen([sys.executable, "-c", GROWER]) for _ in range(2)]
        record_pids(self.options, document, [grower.pid for grower in growers])
        while True:
            time.sleep(1)


@hookimpl
def register_extractors(register):
    """Register the memory-hungry extractors."""
    register(MemoryHogExtractor)
    register(MemoryBurstExtractor)
    register(MemoryTreeExtractor)
