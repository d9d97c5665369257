"""Indexing throughput of the ``opensearch`` sink by bulk size, against a real OpenSearch node.

Usage: ``bash scripts/services.sh run -- .venv/bin/python bench/opensearch_bulk.py [--documents N]
[--repeats N] [--sizes 1 50 200]``, or with ``OPENSEARCH_ENDPOINT`` pointing at any node.

Each round writes ``--documents`` results (about 2 KB of mixed Japanese and English text, two
pages each, as extraction produces them) through ``OpenSearchSink.write_batch`` in batches of
one size, into a fresh index that is deleted afterwards; the sizes alternate within a round so
a change in machine load hits each alike. The figure is documents per second, the median of
``--repeats`` rounds (the best round beside it). Results go to ``bench/results/opensearch_bulk.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
import uuid
from pathlib import Path

import _paths  # noqa: F401  (puts the checkout and tests/ on sys.path)
from extractkit.models import Document, ExtractionResult, Page, SinkRecord
from extractkit_plugins.opensearch.sink import OpenSearchSink

BENCH = Path(__file__).resolve().parent

RESULTS = BENCH / "results"
PARAGRAPH_JA = "東京都庁で開かれた防災会議の議事録です。地震と津波への備えを確認し、避難所の運営手順を見直した。"
PARAGRAPH_EN = "Minutes of the quarterly budget review held in the Osaka office; the committee approved the plan. "


def make_records(count: int, run: str) -> list[SinkRecord]:
    """``count`` result records of about 2 KB each, with distinct keys and versions."""
    records = []
    for number in range(count):
        pages = (PARAGRAPH_JA * 6 + f" {number}", PARAGRAPH_EN * 6 + f" {number}")
        text = "\n\n".join(pages)
        key = f"bench/{run}/{number:06}.txt"
        document = Document(
            uri=f"s3://bench/{key}",
            path=Path("/nonexistent"),
            name=f"{number:06}.txt",
            size=len(text.encode()),
            source_metadata={"bucket": "bench", "key": key, "last_modified_ms": 1_700_000_000_000 + number},
        )
        result = ExtractionResult(
            text=text,
            pages=tuple(Page(number=i + 1, text=page) for i, page in enumerate(pages)),
            metadata={"title": f"会議 {number}"},
            mime_type="text/plain",
            extractor="text",
        )
        records.append(SinkRecord.for_result(document, result))
    return records


def measure(endpoint: str, size: int, documents: int) -> float:
    """Documents per second for one round at one bulk size (index set-up not timed)."""
    index = f"bench-bulk-{uuid.uuid4().hex[:8]}"
    sink = OpenSearchSink({"endpoint": endpoint, "index": index, "timeout": 60})
    try:
        sink.ensure_ready()
        records = make_records(documents, index)
        started = time.perf_counter()
        for start in range(0, documents, size):
            outcomes = sink.write_batch(records[start : start + size])
            if any(outcome is not None for outcome in outcomes):
                raise SystemExit(f"a bulk write failed: {next(o for o in outcomes if o is not None)}")
        elapsed = time.perf_counter() - started
    finally:
        try:
            sink.client.indices.delete(index=f"{index},{index}-failures", ignore_unavailable=True)
            for name in (f"extractkit-{index}", f"extractkit-{index}-failures"):
                sink.client.indices.delete_index_template(name=name, ignore=404)
        finally:
            sink.close()
    return documents / elapsed


def main() -> None:
    """Measure every bulk size and print and store the medians."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=400)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 50, 200])
    args = parser.parse_args()
    endpoint = os.environ.get("OPENSEARCH_ENDPOINT")
    if not endpoint:
        raise SystemExit("set OPENSEARCH_ENDPOINT, or run under `bash scripts/services.sh run --`")
    rounds: dict[int, list[float]] = {size: [] for size in args.sizes}
    for _ in range(args.repeats):
        for size in args.sizes:
            rounds[size].append(measure(endpoint, size, args.documents))
    summary = {
        str(size): {"median_docs_per_s": statistics.median(values), "best_docs_per_s": max(values), "rounds": values}
        for size, values in rounds.items()
    }
    print(f"{'bulk size':>10} {'median docs/s':>14} {'best docs/s':>12}")
    for size, values in rounds.items():
        print(f"{size:>10} {statistics.median(values):>14.0f} {max(values):>12.0f}")
    RESULTS.mkdir(exist_ok=True)
    report = {"documents": args.documents, "repeats": args.repeats, "endpoint": "local", "sizes": summary}
    (RESULTS / "opensearch_bulk.json").write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
