"""Run statistics against numbers worked out by hand: percentiles, the latency line, the summary line."""

from __future__ import annotations

import statistics

from extractkit.models import ExtractionResult, Failure, Outcome, Page
from extractkit.stats import RunStats, percentile


def _ok(seconds):
    result = ExtractionResult(text="x", pages=(Page(1, "x"),))
    return Outcome(None, "file:///a", result=result, seconds=seconds)


def _failed(seconds, reason="corrupt"):
    failure = Failure("id", "file:///b", "extract", "pdf", "permanent", reason, "broken")
    return Outcome(None, "file:///b", failure=failure, seconds=seconds)


def test_percentiles_computed_by_hand():
    # Two values: rank 0.95 * (2 - 1) = 0.95, so p95 = 0.019 + 0.95 * (0.024 - 0.019) = 0.02375.
    assert percentile([0.024, 0.019], 0.95) == 0.019 + 0.95 * 0.005
    assert percentile([0.024, 0.019], 0.5) == statistics.median([0.024, 0.019])
    # 1..10: rank 0.95 * 9 = 8.55, between 9 and 10: 9.55.
    assert round(percentile([float(n) for n in range(10, 0, -1)], 0.95), 10) == 9.55
    assert percentile([3.0], 0.95) == 3.0
    assert percentile([], 0.95) is None
    values = [0.3, 0.1, 2.0, 0.7, 0.2]
    assert round(percentile(values, 0.95), 10) == round(statistics.quantiles(values, n=20, method="inclusive")[-1], 10)


def test_latency_line_never_puts_p95_below_the_median():
    stats = RunStats()
    stats.record(_ok(0.030))
    stats.record(_ok(0.010))
    line = stats.latency_line()
    assert line.startswith("latency: median 0.020 s, p95 0.029 s; ")  # 0.010 + 0.95 * 0.020 = 0.029
    snapshot = stats.snapshot()["latency_seconds"]
    assert snapshot["p95"] >= snapshot["median"]


def test_latency_line_names_the_open_bucket_plainly():
    stats = RunStats()
    stats.record(_ok(400.0))
    assert stats.latency_line().endswith("; >300s:1")


def test_summary_line_counts_unchanged_and_says_when_interrupted():
    stats = RunStats()
    stats.record(_ok(0.1))
    stats.record(_failed(0.1))
    stats.record_unchanged()
    line = stats.summary_line()
    assert line.startswith("3 documents (1 indexed, 1 failed, 1 unchanged), 1 pages (0 OCR), ")
    assert line.endswith("; failures: corrupt=1")
    stopped = stats.summary_line(stopped="by signal SIGINT", left=7)
    assert stopped.startswith("interrupted by signal SIGINT: 3 documents") and stopped.endswith("; 7 left unprocessed")
    assert stats.summary_line(stopped="by signal SIGTERM").endswith("the rest left in the source")
