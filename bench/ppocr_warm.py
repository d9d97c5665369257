"""First-page latency of PP-OCR in a fresh isolated child, and what the child and its template hold.

Usage: ``python bench/ppocr_warm.py [--repeats N] [--engines ppocr,tesseract+ppocr,tesseract]``.

Each round builds a new ``IsolatedExecutor`` (one slot) with the engine configured, so its
template process warms up (``warm_up`` hook) and forks a fresh child; the round then times the
child's first page (an A4 page of English and Japanese at 300 dpi) and a second page (the same
child, warm). After the first page it reads the resident memory (RSS) and the OS thread count of
the template and of the child. Medians over rounds; results also go to
``bench/results/ppocr_warm.json``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import psutil

import _paths  # noqa: F401  (puts the checkout and tests/ on sys.path)
from extractkit.models import ExtractOptions
from extractkit.plugins import PluginSpec
from extractkit.processing import local_document
from runner.isolation import IsolatedExecutor, IsolationLimits

from truth.render import GOTHIC, layout_paragraphs, page_font, render_lines
from truth.texts import ENGLISH, MIXED

RESULTS = Path(__file__).resolve().parent / "results"


def page(path: Path) -> Path:
    """A 300 dpi page of mixed Japanese and English prose."""
    dpi = 300
    lines = layout_paragraphs((MIXED[2], ENGLISH[0]), page_font(GOTHIC, dpi), dpi)
    render_lines(lines, GOTHIC, dpi, full_page=False).save(path, dpi=(dpi, dpi))
    return path


def processes() -> tuple[psutil.Process, list[psutil.Process]]:
    """The template process (this one's child) and its children."""
    templates = [child for child in psutil.Process().children() if child.children()]
    template = templates[0]
    return template, template.children()


def one_round(engine: str, image: Path, work: Path) -> dict[str, float]:
    """Start a pool with ``engine``, time its first and second page, and measure its processes."""
    options = ExtractOptions(extra={"ocr_engine": engine})
    started = time.perf_counter()
    executor = IsolatedExecutor(PluginSpec(), options, IsolationLimits(timeout_seconds=120), 1, temp_dir=work)
    try:
        ready = time.perf_counter() - started
        began = time.perf_counter()
        first = executor(local_document(image))
        first_seconds = time.perf_counter() - began
        assert first.ok, first.failure
        template, children = processes()
        child = children[0]
        facts = {
            "startup_s": ready,
            "first_page_s": first_seconds,
            "template_rss_mb": template.memory_info().rss / 2**20,
            "child_rss_mb": child.memory_info().rss / 2**20,
            "child_uss_mb": child.memory_full_info().uss / 2**20,
            "template_threads": template.num_threads(),
            "child_threads": child.num_threads(),
        }
        began = time.perf_counter()
        second = executor(local_document(image))
        facts["second_page_s"] = time.perf_counter() - began
        assert second.ok, second.failure
        return facts
    finally:
        executor.close()


def main() -> int:
    """Run the rounds per engine and print the medians."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--engines", default="ppocr,tesseract+ppocr,tesseract")
    arguments = parser.parse_args()
    results = {}
    with tempfile.TemporaryDirectory() as directory:
        image = page(Path(directory) / "page.png")
        for engine in arguments.engines.split(","):
            rounds = [one_round(engine, image, Path(directory) / "work") for _ in range(arguments.repeats)]
            results[engine] = {key: statistics.median(row[key] for row in rounds) for key in rounds[0]}
            row = results[engine]
            print(
                f"{engine:16} start {row['startup_s']:.2f} s  first page {row['first_page_s']:.2f} s  "
                f"second {row['second_page_s']:.2f} s  child RSS {row['child_rss_mb']:.0f} MB "
                f"(USS {row['child_uss_mb']:.0f})  template RSS {row['template_rss_mb']:.0f} MB  "
                f"threads template/child {row['template_threads']:.0f}/{row['child_threads']:.0f}"
            )
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "ppocr_warm.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
