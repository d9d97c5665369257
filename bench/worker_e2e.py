"""End-to-end worker throughput through the real servers, against extraction alone on the same files.

For each corpus (small text files, born-digital PDFs) and each worker count (1, 2):

- **extraction alone**: ``extractkit run`` over a local folder of the files into a
  JSON Lines file, with the same isolation and the same number of workers;
- **end to end**: the same files in S3, one SQS message each, ``extractkit run`` on
  the seed's variables alone, into OpenSearch, until the queue is empty (every
  message deleted, so every document confirmed by its bulk item).

Throughput is the steady state, from the worker's ``ready`` log line to the last document's
outcome (read from its JSON log lines), so the one-time start of each process (plugin loading,
child warm-up, service checks, index creation) is left out; the whole-run times are printed
beside it. Prints documents/s, the ratio, and the
per-document overhead ``(t_end_to_end - t_extract) / N``; medians of ``--repeats``.
Needs the test servers: ``bash scripts/services.sh run -- .venv/bin/python bench/worker_e2e.py``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

import _paths  # noqa: F401  (puts the checkout and tests/ on sys.path)

from support.aws_stack import WorkerProcess, make_stack, worker_environment

REPO = Path(__file__).resolve().parent.parent


def text_corpus(folder: Path, count: int) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for number in range(count):
        path = folder / f"note-{number:04d}.txt"
        path.write_text(
            f"業務メモ {number}: 会議室の予約と配送の確認。Meeting room booking and delivery {number}.\n" * 8
        )
        paths.append(path)
    return paths


def pdf_corpus(folder: Path, count: int) -> list[Path]:
    from truth.generate import build_born_digital_pdf

    folder.mkdir(parents=True, exist_ok=True)
    template = folder / "template.pdf"
    build_born_digital_pdf(template, pages=5)
    paths = []
    for number in range(count):
        path = folder / f"report-{number:04d}.pdf"
        path.write_bytes(template.read_bytes())
        paths.append(path)
    template.unlink()
    return paths


def steady_seconds(log_text: str, count: int) -> float:
    """Seconds from the worker's ``ready`` log event to the last document's outcome, from its JSON log lines.

    This leaves out the worker's start (plugin loading, child warm-up, service checks,
    index creation on a fresh cluster), which both modes pay once per process, and counts
    everything after it: receiving, fetching, extracting, indexing and confirming. The end is
    the last outcome, which the end-to-end worker logs when its bulk request is confirmed.
    """
    ready, stamps = None, []
    for line in log_text.splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        stamp = datetime.fromisoformat(record["ts"].replace("Z", "+00:00")).timestamp() if "ts" in record else None
        if record.get("event") == "ready" and ready is None:
            ready = stamp
        elif record.get("event") == "document":
            stamps.append(stamp)
    assert ready is not None, "no 'ready' log line"
    assert len(stamps) == count, f"{len(stamps)} document log lines for {count} files"
    return max(stamps) - ready


def extract_only(paths: list[Path], workers: int, scratch: Path) -> tuple[float, float]:
    """(whole-process seconds, steady seconds) for the folder → JSONL run."""
    config = scratch / "local.toml"
    out = scratch / "out.jsonl"
    config.write_text(
        f'[source]\ntype = "folder"\npath = "{paths[0].parent}"\n'
        f'[sink]\ntype = "jsonl"\npath = "{out}"\n'
        f'[worker]\nmax_workers = {workers}\ntemp_dir = "{scratch / "work"}"\nprogress = "off"\n'
    )
    started = time.perf_counter()
    completed = subprocess.run(
        [sys.executable, "-m", "runner.cli", "run", "--config", str(config), "--force"],
        cwd=REPO,
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, "OMP_THREAD_LIMIT": "1"},
    )
    elapsed = time.perf_counter() - started
    lines = out.read_text().splitlines()
    assert len(lines) == len(paths), f"{len(lines)} results for {len(paths)} files"
    out.unlink()
    return elapsed, steady_seconds(completed.stderr, len(paths))


def end_to_end(paths: list[Path], workers: int, scratch: Path) -> tuple[float, float]:
    """(whole-process seconds, steady seconds) for S3 → SQS → worker → OpenSearch."""
    stack = make_stack()
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda p: stack.put(f"bench/{p.name}", p.read_bytes()), paths))
    for start in range(0, len(paths), 10):
        entries = [
            {"Id": str(i), "MessageBody": json.dumps({"bucket": stack.bucket, "key": f"bench/{p.name}"})}
            for i, p in enumerate(paths[start : start + 10])
        ]
        stack.sqs.send_message_batch(QueueUrl=stack.queue_url, Entries=entries)
    environment = worker_environment(stack, scratch, MAX_WORKERS=str(workers), LOG_LEVEL="INFO")
    started = time.perf_counter()
    worker = WorkerProcess(environment, scratch / "logs")
    try:
        worker.until(lambda: stack.depth() == (0, 0), 600, "the queue to drain", interval=0.05)
        elapsed = time.perf_counter() - started
    finally:
        worker.stop()
    return elapsed, steady_seconds(worker.logs(), len(paths))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--text-files", type=int, default=300)
    parser.add_argument("--pdf-files", type=int, default=60)
    arguments = parser.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-e2e-") as root:
        corpora = {
            "small text": text_corpus(Path(root) / "text", arguments.text_files),
            "born-digital PDF": pdf_corpus(Path(root) / "pdf", arguments.pdf_files),
        }
        for name, paths in corpora.items():
            for workers in (1, 2):
                local, remote = [], []
                for repeat in range(arguments.repeats):
                    scratch = Path(root) / f"run-{name[:4]}-{workers}-{repeat}"
                    scratch.mkdir()
                    local.append(extract_only(paths, workers, scratch))
                    remote.append(end_to_end(paths, workers, scratch))
                whole_local = statistics.median(t for t, _ in local)
                whole_remote = statistics.median(t for t, _ in remote)
                steady_local = statistics.median(t for _, t in local)
                steady_remote = statistics.median(t for _, t in remote)
                rows.append(
                    (
                        name,
                        workers,
                        len(paths) / steady_local,
                        len(paths) / steady_remote,
                        (steady_remote - steady_local) / len(paths),
                        whole_local,
                        whole_remote,
                    )
                )
                print(rows[-1], flush=True)
    print()
    print("Steady state (worker ready to last outcome); whole runs include each process's start.")
    print(
        "| corpus | workers | extraction alone docs/s | end to end docs/s | ratio | overhead ms/doc "
        "| whole run alone s | whole run end to end s |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for name, workers, local_rate, remote_rate, overhead, whole_local, whole_remote in rows:
        print(
            f"| {name} | {workers} | {local_rate:.1f} | {remote_rate:.1f} | {remote_rate / local_rate:.2f} "
            f"| {overhead * 1000:.1f} | {whole_local:.1f} | {whole_remote:.1f} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
