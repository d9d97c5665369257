"""Counters and a latency histogram for a run: documents, pages, OCR pages, failures."""

from __future__ import annotations

import bisect
import statistics
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from .models import Outcome

#: Upper bounds (seconds) of the latency histogram's buckets.
LATENCY_BUCKETS: tuple[float, ...] = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, float("inf"))


@dataclass
class RunStats:
    """Thread-safe counters for one run."""

    documents: int = 0
    indexed: int = 0
    deleted: int = 0
    pages: int = 0
    ocr_pages: int = 0
    failures: Counter = field(default_factory=Counter)
    failures_by_class: Counter = field(default_factory=Counter)
    latency_buckets: list[int] = field(default_factory=lambda: [0] * len(LATENCY_BUCKETS))
    latencies: list[float] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def record(self, outcome: Outcome) -> None:
        """Count one finished document."""
        with self._lock:
            self.documents += 1
            self.latency_buckets[bisect.bisect_left(LATENCY_BUCKETS, outcome.seconds)] += 1
            self.latencies.append(outcome.seconds)
            if outcome.result is not None:
                self.indexed += 1
                self.pages += len(outcome.result.pages)
                self.ocr_pages += outcome.result.ocr_pages
            elif outcome.failure is not None:
                self.failures[outcome.failure.reason] += 1
                self.failures_by_class[outcome.failure.failure_class] += 1

    def record_delete(self) -> None:
        """Count one document removed from the index."""
        with self._lock:
            self.deleted += 1

    @property
    def failed(self) -> int:
        """How many documents ended as failures."""
        return sum(self.failures.values())

    @property
    def elapsed(self) -> float:
        """Seconds since the run started."""
        return time.monotonic() - self.started

    def snapshot(self) -> dict[str, Any]:
        """A JSON-ready copy of every counter."""
        with self._lock:
            latencies = sorted(self.latencies)
            return {
                "documents": self.documents,
                "indexed": self.indexed,
                "deleted": self.deleted,
                "pages": self.pages,
                "ocr_pages": self.ocr_pages,
                "failed": sum(self.failures.values()),
                "failures": dict(self.failures),
                "failures_by_class": dict(self.failures_by_class),
                "latency_seconds": {
                    "median": round(statistics.median(latencies), 4) if latencies else None,
                    "p95": round(latencies[int(0.95 * (len(latencies) - 1))], 4) if latencies else None,
                    "buckets": {
                        ("+Inf" if bound == float("inf") else str(bound)): count
                        for bound, count in zip(LATENCY_BUCKETS, self.latency_buckets, strict=True)
                    },
                },
                "elapsed_seconds": round(self.elapsed, 3),
            }

    def latency_line(self) -> str:
        """One human line: the per-document latency median, p95 and histogram."""
        snapshot = self.snapshot()["latency_seconds"]
        if snapshot["median"] is None:
            return "latency: no documents"
        buckets = " ".join(f"<={bound}s:{count}" for bound, count in snapshot["buckets"].items() if count)
        return f"latency: median {snapshot['median']:.3f} s, p95 {snapshot['p95']:.3f} s; {buckets}"

    def summary_line(self) -> str:
        """One human line: documents, pages, failures, time."""
        failures = ", ".join(f"{reason}={count}" for reason, count in sorted(self.failures.items()))
        text = (
            f"{self.documents} documents ({self.indexed} indexed, {self.failed} failed), "
            f"{self.pages} pages ({self.ocr_pages} OCR), {self.elapsed:.1f} s"
        )
        return text + (f"; failures: {failures}" if failures else "")
