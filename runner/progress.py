"""What a person sees on a terminal during a local batch: one progress bar, log lines above it, failures after.

Log records are written *above* the bar (the bar line is cleared, the record
printed, the bar redrawn), as ``tqdm.write`` does, so warnings never stack
partial bars. Failed documents are remembered for a short list at the end.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from typing import TextIO

from extractkit.models import Failure, Outcome
from extractkit.processing import describe_failure

BAR_WIDTH = 28
#: How many failures the list after the run shows before "… and N more".
FAILURES_SHOWN = 20


class ProgressBar:
    """Redraws one status line on standard error after each document.

    The bar shown last is :attr:`ProgressBar.active` until it finishes, so log
    handlers can write above it.
    """

    active: ProgressBar | None = None

    def __init__(self, total: int | None, stream: TextIO = sys.stderr) -> None:
        self.total = total
        self.stream = stream
        self.done = 0
        self.failed = 0
        self.started = time.monotonic()
        self._lock = threading.RLock()
        self._drawn = False
        ProgressBar.active = self

    def update(self, outcome: Outcome) -> None:
        """Count one finished document and redraw."""
        with self._lock:
            self.done += 1
            self.failed += outcome.failure is not None
            self._draw()

    def write(self, line: str) -> None:
        """Print a line above the bar: clear the bar, print, redraw it."""
        with self._lock:
            if self._drawn:
                self.stream.write("\r\x1b[2K")
            self.stream.write(line.rstrip("\n") + "\n")
            if self._drawn:
                self._draw()
            else:
                self.stream.flush()

    def _draw(self) -> None:
        rate = self.done / max(time.monotonic() - self.started, 1e-6)
        if self.total:
            filled = int(BAR_WIDTH * min(self.done, self.total) / self.total)
            bar = "#" * filled + "." * (BAR_WIDTH - filled)
            line = f"[{bar}] {self.done}/{self.total} documents"
        else:
            line = f"{self.done} documents"
        line += f", {self.failed} failed, {rate:.1f}/s"
        self.stream.write("\r\x1b[2K" + line)
        self.stream.flush()
        self._drawn = True

    def finish(self) -> None:
        """End the status line."""
        with self._lock:
            if self._drawn:
                self.stream.write("\n")
                self.stream.flush()
            self._drawn = False
            if ProgressBar.active is self:
                ProgressBar.active = None


class TerminalLogHandler(logging.Handler):
    """Log lines for a person: ``LEVEL <where>: <reason>: <message>``, written above the progress bar.

    A per-document record (one with a ``uri`` field) names the document's full
    location once; other records print their message.
    """

    def __init__(self, stream: TextIO = sys.stderr) -> None:
        super().__init__()
        self.stream = stream
        #: Every failed document logged through this handler, for the list after the run.
        self.failures = FailureList()

    def format(self, record: logging.LogRecord) -> str:
        """One short line for the record."""
        failure = getattr(record, "failure_record", None)
        if isinstance(failure, Failure):
            text = describe_failure(failure)
        else:
            text = record.getMessage()
            uri = getattr(record, "uri", None)
            reason = getattr(record, "reason", None)
            if isinstance(uri, str) and reason:
                text = describe_failure(_failure_for_log(uri, str(reason), text))
        if record.exc_info and record.levelno >= logging.ERROR:
            exc = record.exc_info[1]
            text += f" ({type(exc).__name__}: {exc})" if exc else ""
        return f"{record.levelname} {text}"

    def emit(self, record: logging.LogRecord) -> None:
        """Write the record above the bar, or plainly when there is none."""
        try:
            uri, reason = getattr(record, "uri", None), getattr(record, "reason", None)
            if getattr(record, "status", None) == "failed" and isinstance(uri, str) and reason:
                self.failures.add(_failure_for_log(uri, str(reason), record.getMessage()))
            line = self.format(record)
            bar = ProgressBar.active
            if bar is not None:
                bar.write(line)
            else:
                self.stream.write(line + "\n")
                self.stream.flush()
        except Exception:
            self.handleError(record)


def _failure_for_log(uri: str, reason: str, logged: str) -> Failure:
    # The worker logs "<reason>: <message>"; keep only the message so the reason is not said twice.
    message = logged[len(reason) + 2 :] if logged.startswith(f"{reason}: ") else logged
    return Failure("", uri, "", "", "", reason, message)


class FailureList:
    """Remembers the failed documents of a run, for a short list after it."""

    def __init__(self) -> None:
        self.failures: list[Failure] = []
        self._lock = threading.Lock()

    def add(self, failure: Failure) -> None:
        """Remember one failed document."""
        with self._lock:
            self.failures.append(failure)

    def lines(self, limit: int = FAILURES_SHOWN) -> list[str]:
        """``failed: <where>: <reason>: <message>`` lines, sorted by location, at most ``limit`` of them."""
        ordered = sorted(self.failures, key=lambda failure: failure.uri)
        lines = [f"failed: {describe_failure(failure)}" for failure in ordered[:limit]]
        if len(ordered) > limit:
            lines.append(f"… and {len(ordered) - limit} more failures (see the sink or the failure log)")
        return lines
