"""Fault-injection extractors that never finish (one sleeps, one burns CPU) or finish late.

They claim ``text/plain`` (and PDF, for the slow one) with priority 0 but accept
only files whose name starts with ``fault-hang``, ``fault-spin`` or ``fault-slow``,
so every other file goes to the real extractors. ``fault-hang`` also leaves a temp
file, starts a ``sleep 1000`` grandchild and writes its pid to
``<pid dir>/<file name>.pid``, so a test can prove the whole process group was
killed and nothing was left behind. ``fault-slow`` sleeps
``ExtractOptions.extra["fault_sleep_seconds"]`` (default 3) and then succeeds.
The pid directory comes from ``ExtractOptions.extra["fault_pid_dir"]`` or the
``EXTRACTKIT_FAULT_PID_DIR`` environment variable.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from pathlib import Path

from extractkit import hookimpl
from extractkit.interfaces import Extractor
from extractkit.models import Document, ExtractionResult, ExtractOptions

PID_DIR_ENV = "EXTRACTKIT_FAULT_PID_DIR"


def pid_dir(options: ExtractOptions) -> Path | None:
    """Where fault plugins record the pids of the processes they start."""
    value = options.extra.get("fault_pid_dir") or os.environ.get(PID_DIR_ENV)
    return Path(value) if value else None


def record_pids(options: ExtractOptions, document: Document, pids: list[int]) -> None:
    """Write ``pids`` (one a line) to ``<pid dir>/<document name>.pid``, atomically."""
    directory = pid_dir(options)
    if directory is None:
        return
    directory.mkdir(parents=True, exist_ok=True)
    partial = directory / f".{document.name}.pid.partial"
    partial.write_text("".join(f"{pid}\n" for pid in pids))
    partial.rename(directory / f"{document.name}.pid")


class HangingExtractor(Extractor):
    """Starts a long ``sleep`` grandchild, then sleeps forever itself."""

    name = "fault_hang"
    mime_types = ("text/plain",)
    priority = 0

    def accepts(self, document: Document) -> bool:
        """Only files named ``fault-hang*``."""
        return document.name.startswith("fault-hang")

    def extract(self, document: Document) -> ExtractionResult:
        """Never returns."""
        handle, _ = tempfile.mkstemp(suffix=".hang")
        os.close(handle)
        grandchild = subprocess.Popen(["sleep", "1000"])
        record_pids(self.options, document, [os.getpid(), grandchild.pid])
        while True:
            time.sleep(1)


class SpinningExtractor(Extractor):
    """Burns CPU forever, so only a CPU or wall-clock limit stops it."""

    name = "fault_spin"
    mime_types = ("text/plain",)
    priority = 0

    def accepts(self, document: Document) -> bool:
        """Only files named ``fault-spin*``."""
        return document.name.startswith("fault-spin")

    def extract(self, document: Document) -> ExtractionResult:
        """Never returns."""
        counter = 0
        while True:
            counter += 1


class SlowExtractor(Extractor):
    """Takes a fixed time, then returns a result: for testing time budgets."""

    name = "fault_slow"
    mime_types = ("text/plain", "application/pdf")
    priority = 0

    def accepts(self, document: Document) -> bool:
        """Only files named ``fault-slow*``."""
        return document.name.startswith("fault-slow")

    def extract(self, document: Document) -> ExtractionResult:
        """Sleep, then succeed."""
        seconds = float(self.options.extra.get("fault_sleep_seconds", 3))
        time.sleep(seconds)
        return ExtractionResult(text=f"slept {seconds:g} s", extractor=self.name)


@hookimpl
def register_extractors(register):
    """Register the hanging and spinning extractors."""
    register(HangingExtractor)
    register(SpinningExtractor)
    register(SlowExtractor)
