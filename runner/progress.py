"""A one-line progress bar on a terminal, for local batches."""

from __future__ import annotations

import sys
import threading
import time
from typing import TextIO

from extractkit.models import Outcome

BAR_WIDTH = 28


class ProgressBar:
    """Redraws one status line on standard error after each document."""

    def __init__(self, total: int | None, stream: TextIO = sys.stderr) -> None:
        self.total = total
        self.stream = stream
        self.done = 0
        self.failed = 0
        self.started = time.monotonic()
        self._lock = threading.Lock()

    def update(self, outcome: Outcome) -> None:
        """Count one finished document and redraw."""
        with self._lock:
            self.done += 1
            self.failed += outcome.failure is not None
            self._draw()

    def _draw(self) -> None:
        rate = self.done / max(time.monotonic() - self.started, 1e-6)
        if self.total:
            filled = int(BAR_WIDTH * min(self.done, self.total) / self.total)
            bar = "#" * filled + "." * (BAR_WIDTH - filled)
            line = f"[{bar}] {self.done}/{self.total} documents"
        else:
            line = f"{self.done} documents"
        line += f", {self.failed} failed, {rate:.1f}/s"
        self.stream.write("\r" + line.ljust(78))
        self.stream.flush()

    def finish(self) -> None:
        """End the status line."""
        with self._lock:
            if self.done:
                self.stream.write("\n")
                self.stream.flush()
