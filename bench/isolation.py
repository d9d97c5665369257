"""Cost of process isolation: isolated vs in-process extraction of the same average-sized files.

Usage: ``python bench/isolation.py [--repeats N] [--workers 1 2] [--batch N] [--heavy]``.

The files are the public corpus's born-digital PDFs, its docx files and license
texts, plus generated text files and multi-page text PDFs: documents that take
milliseconds, where isolation costs the most in relative terms. ``--heavy`` adds
the corpus's two OCR-bound PDFs as a separate set. A batch is the file list
repeated up to ``--batch`` documents, so children are recycled inside it
(``recycle_after`` is the default 50) and their start-up is part of the cost.

Every measurement runs in a fresh child process that builds its executor (timed
apart as start-up), extracts one untimed batch, then two timed batches, with
``workers`` threads calling the executor. The two modes alternate, ``--repeats``
rounds each, so a change in machine load hits both alike; the overhead is the
median over rounds of isolated / in-process batch time ("overhead"), and the
ratio of the best batch times ("best", the least disturbed by other load on the
machine). Peak RSS is the measuring
process plus all its descendants, sampled every 20 ms (the highest round is shown).
Results go to ``bench/results/isolation.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psutil

import _paths  # noqa: F401  (puts the checkout and tests/ on sys.path)

from hostile.generate import build_pdf

BENCH = Path(__file__).resolve().parent
RESULTS = BENCH / "results"
CORPUS = Path(os.environ.get("EXTRACTKIT_CORPUS", "/work/shared/corpus/public"))
AVERAGE_FILES = [
    "pdfminer.six/simple1.pdf",
    "pdfminer.six/jo.pdf",
    "pdfminer.six/enc-base.pdf",
    "pdfplumber/nics-background-checks-2015-11.pdf",
    "pdfplumber/nics-background-checks-2015-11-rotated.pdf",
    "python-docx/test.docx",
    "python-docx/sct-inner-content.docx",
    "python-docx/having-images.docx",
    "common-licenses/Apache-2.0",
    "common-licenses/GPL-3",
]
HEAVY_FILES = ["pdfminer.six/enc-encrypted_doc_no_id.pdf", "pdfplumber/malformed-from-issue-932.pdf"]
MODES = ("in-process", "isolated")
TIMED_BATCHES_PER_CHILD = 2


# -- inputs -------------------------------------------------------------------


def multipage_pdf(pages: int, lines_per_page: int = 40) -> bytes:
    """A born-digital PDF of ``pages`` pages of Helvetica text, each with its own content."""
    objects: list[bytes] = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    kids = []
    for page in range(pages):
        lines = b" ".join(
            b"(Page %d line %d: isolation keeps one bad file from stopping the batch.) '" % (page + 1, line)
            for line in range(lines_per_page)
        )
        content = b"BT /F1 10 Tf 40 800 Td 14 TL " + lines + b" ET"
        objects.append(b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream")
        objects.append(b"<< /Type /Page /Parent 2 0 R /Contents %d 0 R >>" % len(objects))
        kids.append(b"%d 0 R" % len(objects))
    objects[1] = (
        b"<< /Type /Pages /Kids ["
        + b" ".join(kids)
        + b"] /Count %d /MediaBox [0 0 595 842] " % pages
        + b"/Resources << /Font << /F1 3 0 R >> >> >>"
    )
    return build_pdf(objects)


def make_inputs(directory: Path, heavy: bool) -> dict[str, list[str]]:
    """Write the generated files and return the file sets to measure."""
    average = [str(CORPUS / name) for name in AVERAGE_FILES]
    paragraph = "Extraction runs in a child process with a deadline and a memory cap. " * 12 + "\n"
    japanese = "隔離された子プロセスで文書を抽出し、期限とメモリ上限を守ります。" * 10 + "\n"
    for index, (text, repeat) in enumerate([(paragraph, 20), (paragraph, 200), (japanese, 50)]):
        path = directory / f"generated-{index}.txt"
        path.write_text(text * repeat, encoding="utf-8")
        average.append(str(path))
    for pages in (5, 30):
        path = directory / f"generated-{pages}-pages.pdf"
        path.write_bytes(multipage_pdf(pages))
        average.append(str(path))
    sets = {"average": average}
    if heavy:
        sets["ocr-heavy"] = [str(CORPUS / name) for name in HEAVY_FILES]
    return sets


# -- one measurement, in its own process ---------------------------------------


class PeakSampler:
    """Samples the RSS of this process and of this process plus its descendants."""

    def __init__(self, interval: float = 0.02) -> None:
        self.interval = interval
        self.peak_self = 0
        self.peak_tree = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        me = psutil.Process()
        while not self._stop.is_set():
            try:
                own = me.memory_info().rss
                tree = own + sum(child.memory_info().rss for child in me.children(recursive=True))
            except psutil.Error:
                continue
            self.peak_self, self.peak_tree = max(self.peak_self, own), max(self.peak_tree, tree)
            self._stop.wait(self.interval)

    def __enter__(self) -> PeakSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()


def build_executor(mode: str, workers: int, temp_dir: Path):
    """The executor under test, with the default limits."""
    from extractkit.executors import InProcessExecutor
    from extractkit.models import ExtractOptions
    from extractkit.plugins import Plugins, PluginSpec
    from runner.isolation import IsolatedExecutor, IsolationLimits

    spec = PluginSpec(entry_points=False)
    if mode == "in-process":
        return InProcessExecutor(Plugins(spec), ExtractOptions())
    return IsolatedExecutor(spec, ExtractOptions(), IsolationLimits(), workers, temp_dir=temp_dir)


def run_batch(executor, documents: list, workers: int) -> tuple[float, list[float], int]:
    """Extract every document with ``workers`` threads; return (seconds, per-call seconds, failures)."""

    def timed(document):
        started = time.perf_counter()
        outcome = executor(document)
        return time.perf_counter() - started, outcome.ok

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        calls = list(pool.map(timed, documents))
    seconds = time.perf_counter() - started
    return seconds, [call[0] for call in calls], sum(1 for call in calls if not call[1])


def measure(mode: str, workers: int, files: list[str], batch: int, repeats: int) -> dict:
    """Start-up, batch times and peak memory of one mode, in this process."""
    from extractkit.processing import local_document

    documents = [local_document(files[index % len(files)]) for index in range(batch)]
    with tempfile.TemporaryDirectory(prefix="bench-isolation-") as temp_dir, PeakSampler() as sampler:
        started = time.perf_counter()
        executor = build_executor(mode, workers, Path(temp_dir))
        startup = time.perf_counter() - started
        try:
            run_batch(executor, documents, workers)
            runs = [run_batch(executor, documents, workers) for _ in range(repeats)]
        finally:
            executor.close()
    return {
        "startup_seconds": startup,
        "batch_seconds": [run[0] for run in runs],
        "call_seconds_median": statistics.median(value for run in runs for value in run[1]),
        "failures": runs[-1][2],
        "peak_rss_self_mb": sampler.peak_self / 2**20,
        "peak_rss_tree_mb": sampler.peak_tree / 2**20,
    }


# -- driver -----------------------------------------------------------------------


def measure_in_child(mode: str, workers: int, files: list[str], batch: int, repeats: int) -> dict:
    """Run :func:`measure` in a fresh interpreter so modes do not share warm state or memory."""
    request = json.dumps({"mode": mode, "workers": workers, "files": files, "batch": batch, "repeats": repeats})
    completed = subprocess.run(
        [sys.executable, __file__, "--measure", request],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "OMP_THREAD_LIMIT": "1"},
        timeout=3600,
    )
    return json.loads(completed.stdout.strip().splitlines()[-1])


def compare(set_name: str, files: list[str], batch: int, workers: int, rounds: int) -> list[dict]:
    """Alternate the two modes for ``rounds`` rounds; one summary row per mode."""
    results: dict[str, list[dict]] = {mode: [] for mode in MODES}
    for _ in range(rounds):
        for mode in MODES:
            results[mode].append(measure_in_child(mode, workers, files, batch, TIMED_BATCHES_PER_CHILD))
    ratios = [
        statistics.median(isolated["batch_seconds"]) / statistics.median(in_process["batch_seconds"])
        for in_process, isolated in zip(results["in-process"], results["isolated"], strict=True)
    ]
    rows: list[dict] = []
    for mode in MODES:
        runs = results[mode]
        rows.append(
            {
                "set": set_name,
                "workers": workers,
                "mode": mode,
                "files": len(files),
                "batch": batch,
                "batch_seconds": [value for run in runs for value in run["batch_seconds"]],
                "batch_median": statistics.median(value for run in runs for value in run["batch_seconds"]),
                "call_seconds_median": statistics.median(run["call_seconds_median"] for run in runs),
                "startup_seconds": statistics.median(run["startup_seconds"] for run in runs),
                "peak_rss_tree_mb": max(run["peak_rss_tree_mb"] for run in runs),
                "peak_rss_self_mb": max(run["peak_rss_self_mb"] for run in runs),
                "failures": runs[-1]["failures"],
                "batch_min": min(value for run in runs for value in run["batch_seconds"]),
                "overhead_percent": 100 * (statistics.median(ratios) - 1) if mode == "isolated" else None,
                "load_average": os.getloadavg()[0],
            }
        )
    rows[1]["overhead_min_percent"] = 100 * (rows[1]["batch_min"] / rows[0]["batch_min"] - 1)
    return rows


def print_rows(rows: list[dict]) -> None:
    """One line per (set, workers, mode), with the overhead against in-process."""
    columns = ("batch s", "best s", "call ms", "start s", "peak MB", "overhead", "best")
    print(f"{'set':10} {'workers':>7} {'mode':11} " + " ".join(f"{column:>8}" for column in columns))
    for row in rows:
        overhead = f"{row['overhead_percent']:+.1f}%" if row.get("overhead_percent") is not None else "-"
        best = f"{row['overhead_min_percent']:+.1f}%" if row.get("overhead_min_percent") is not None else "-"
        print(
            f"{row['set']:10} {row['workers']:>7} {row['mode']:11} {row['batch_median']:8.3f} {row['batch_min']:8.3f} "
            f"{row['call_seconds_median'] * 1000:8.1f} {row['startup_seconds']:8.2f} "
            f"{row['peak_rss_tree_mb']:8.0f} {overhead:>8} {best:>8}"
        )


def main(argv: list[str] | None = None) -> int:
    """Measure every (set, workers, mode) and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="rounds of each mode")
    parser.add_argument("--batch", type=int, default=200, help="documents per timed batch")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--heavy", action="store_true", help="also measure the OCR-bound PDFs")
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    arguments = parser.parse_args(argv)
    if arguments.measure:
        request = json.loads(arguments.measure)
        print(json.dumps(measure(**request)))
        return 0
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-isolation-inputs-") as inputs:
        for set_name, files in make_inputs(Path(inputs), arguments.heavy).items():
            batch = arguments.batch if set_name == "average" else max(4, len(files))
            for workers in arguments.workers:
                rows.extend(compare(set_name, files, batch, workers, arguments.repeats))
    print_rows(rows)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "isolation.json").write_text(json.dumps({"rows": rows}, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
