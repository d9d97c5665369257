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


def percentile(values: list[float], fraction: float) -> float | None:
    """The ``fraction`` quantile (0.95 for p95) with linear interpolation between closest ranks.

    This is numpy's default ("linear") and ``statistics.quantiles(method="inclusive")``:
    the value at rank ``fraction * (n - 1)`` of the sorted list, interpolated.
    """
    if not values:
        return None
    ordered = sorted(values)
    rank = fraction * (len(ordered) - 1)
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


@dataclass
class RunStats:
    """Thread-safe counters for one run."""

    documents: int = 0
    indexed: int = 0
    deleted: int = 0
    #: Documents skipped because the sink already holds them unchanged (same size, time and content).
    unchanged: int = 0
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

    def record_unchanged(self) -> None:
        """Count one document skipped because it is unchanged since the sink stored it."""
        with self._lock:
            self.documents += 1
            self.unchanged += 1

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
                "unchanged": self.unchanged,
                "pages": self.pages,
                "ocr_pages": self.ocr_pages,
                "failed": sum(self.failures.values()),
                "failures": dict(self.failures),
                "failures_by_class": dict(self.failures_by_class),
                "latency_seconds": {
                    "median": round(statistics.median(latencies), 4) if latencies else None,
                    "p95": round(percentile(latencies, 0.95), 4) if latencies else None,  # type: ignore[arg-type]
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
        buckets = " ".join(
            (f">{LATENCY_BUCKETS[-2]:g}s:{count}" if bound == "+Inf" else f"<={bound}s:{count}")
            for bound, count in snapshot["buckets"].items()
            if count
        )
        return f"latency: median {snapshot['median']:.3f} s, p95 {snapshot['p95']:.3f} s; {buckets}"

    def summary_line(self, *, stopped: str | None = None, left: int | None = None) -> str:
        """One human line: documents, pages, failures, time; and whether the run was stopped early.

        ``stopped`` says why the run ended before its source was drained ("by signal SIGINT");
        ``left`` is how many items were never processed, when the source knows.
        """
        failures = ", ".join(f"{reason}={count}" for reason, count in sorted(self.failures.items()))
        parts = [f"{self.indexed} indexed", f"{self.failed} failed"]
        if self.unchanged:
            parts.append(f"{self.unchanged} unchanged")
        if self.deleted:
            parts.append(f"{self.deleted} deleted")
        text = (
            f"{self.documents} documents ({', '.join(parts)}), "
            f"{self.pages} pages ({self.ocr_pages} OCR), {self.elapsed:.1f} s"
        )
        text += f"; failures: {failures}" if failures else ""
        if stopped:
            remaining = f"{left} left unprocessed" if left is not None else "the rest left in the source"
            text = f"interrupted {stopped}: {text}; {remaining}"
        return text
