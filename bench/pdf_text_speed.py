"""Warm text-layer speed of ``extractkit.extract`` on born-digital PDFs against raw pypdfium2.

Usage: ``python bench/pdf_text_speed.py [--rounds N] [--profile OUT.prof]``.

Both run in this one process on the same files, warm (one untimed pass first): extractkit through
``extractkit.extract(path)`` (type detection, extractor choice, layout, quality checks, clean-up),
the baseline through pypdfium2's plain ``get_text_range()`` page by page. In every round both
tools read each file back to back, the one that goes first alternating from round to round. The
tables show medians of ``--rounds`` rounds (7 by default) in pages per second, and extractkit's
share of the baseline's rate (the goal is 0.8 or more) as the median of the rounds' own ratios, so
the machine's drift between rounds cancels out.

Two groups are reported apart: small multi-page documents (generated Japanese and English prose
PDFs of 2 to 8 pages, the common case the goal is set for) and layout pages (a generated legal page
and table page, and the public corpus PDFs: tables, vertical Japanese, turned text, whose gaps and
reading order are measured glyph by glyph). ``--profile`` writes a cProfile of extractkit's timed
rounds.
"""

from __future__ import annotations

import argparse
import importlib
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import extractkit  # noqa: E402

CORPUS = Path(os.environ.get("EXTRACTKIT_CORPUS", "/work/shared/corpus/public"))
CORPUS_PDFS = (
    "pdfminer.six/simple1.pdf",
    "pdfminer.six/jo.pdf",
    "pdfminer.six/enc-base.pdf",
    "pdfplumber/nics-background-checks-2015-11.pdf",
    "pdfplumber/nics-background-checks-2015-11-rotated.pdf",
)
GOAL_RATIO = 0.8


def fixture_generator() -> Any:
    """The fixture generator module, wherever under ``tests/`` its package lives now.

    It is imported the way the tests import it: as a top-level package with ``tests/`` on the path
    (``truth.generate``), or as ``tests.<package>.generate`` where it still imports itself so.
    """
    tests = ROOT / "tests"
    for candidate in sorted(tests.glob("*/generate.py")):
        if "def build_born_digital_pdf" not in candidate.read_text(encoding="utf-8"):
            continue
        sys.path.insert(0, str(tests))
        try:
            return importlib.import_module(f"{candidate.parent.name}.generate")
        except ImportError:
            return importlib.import_module(f"tests.{candidate.parent.name}.generate")
    raise SystemExit("no tests/*/generate.py with build_born_digital_pdf: cannot build the generated PDFs")


#: (pages, first paragraph) of the generated small multi-page documents.
SMALL_DOCUMENTS = ((2, 0), (3, 4), (4, 5), (5, 9), (6, 13), (8, 17))


def build_files(work: Path) -> dict[str, list[Path]]:
    """The files of each group: generated small documents, then the layout pages (generated and corpus)."""
    generator = fixture_generator()
    small = []
    for pages, start in SMALL_DOCUMENTS:
        small.append(work / f"born-digital-{pages}p-from-{start}.pdf")
        generator.build_born_digital_pdf(small[-1], pages=pages, start=start)
    layout = [work / "born-digital-legal.pdf", work / "born-digital-table.pdf"]
    generator.build_legal_pdf(layout[0])
    generator.build_table_pdf(layout[1])
    missing = [name for name in CORPUS_PDFS if not (CORPUS / name).is_file()]
    if missing:
        print(f"corpus files missing (left out): {', '.join(missing)}", file=sys.stderr)
    layout += [CORPUS / name for name in CORPUS_PDFS if (CORPUS / name).is_file()]
    return {"small multi-page documents": small, "layout pages": layout}


def pypdfium2_text(path: Path) -> int:
    """The baseline: open, ``get_text_range()`` on every page, close; returns the page count."""
    import pypdfium2

    document = pypdfium2.PdfDocument(str(path))
    try:
        count = len(document)
        for index in range(count):
            page = document[index]
            textpage = page.get_textpage()
            textpage.get_text_range()
            textpage.close()
            page.close()
        return count
    finally:
        document.close()


def extractkit_text(path: Path) -> int:
    """``extractkit.extract`` on the file; returns the page count, and fails if any page needed OCR."""
    result = extractkit.extract(path)
    if any(page.ocr for page in result.pages):
        raise SystemExit(f"{path.name}: extractkit OCR'd a page; this bench measures text layers only")
    return len(result.pages)


def measure(files: list[Path], rounds: int, profile: str | None) -> dict[str, list[dict[Path, float]]]:
    """Warm both tools, then ``rounds`` rounds; each round times every file with both tools back to back.

    Which tool goes first alternates from round to round, so a machine that slows down or speeds
    up between the two runs of a file weighs on both alike.
    """
    tools: dict[str, Callable[[Path], int]] = {"pypdfium2": pypdfium2_text, "extractkit": extractkit_text}
    for run in tools.values():
        for path in files:
            run(path)
    profiler = None
    if profile:
        import cProfile

        profiler = cProfile.Profile()
    timings: dict[str, list[dict[Path, float]]] = {name: [] for name in tools}
    for round_number in range(rounds):
        order = list(tools) if round_number % 2 == 0 else list(reversed(tools))
        seconds: dict[str, dict[Path, float]] = {name: {} for name in tools}
        for path in files:
            for name in order:
                if profiler is not None and name == "extractkit":
                    profiler.enable()
                started = time.perf_counter()
                tools[name](path)
                seconds[name][path] = time.perf_counter() - started
                if profiler is not None and name == "extractkit":
                    profiler.disable()
        for name in tools:
            timings[name].append(seconds[name])
    if profiler is not None and profile:
        profiler.dump_stats(profile)
    return timings


def report(group: str, files: list[Path], pages: dict[Path, int], timings: dict[str, list[dict[Path, float]]]) -> float:
    """Print per-file and total rates of one group; return its ratio: the median of the rounds' ratios."""
    print(f"\n{group}")
    print(f"{'file':<48} {'pages':>5} {'pypdfium2 p/s':>14} {'extractkit p/s':>15} {'ratio':>6}")
    for path in files:
        base = statistics.median(run[path] for run in timings["pypdfium2"])
        ours = statistics.median(run[path] for run in timings["extractkit"])
        pairs = zip(timings["pypdfium2"], timings["extractkit"], strict=True)
        ratio = statistics.median(b[path] / o[path] for b, o in pairs)
        print(f"{path.name:<48} {pages[path]:>5} {pages[path] / base:>14.0f} {pages[path] / ours:>15.0f} {ratio:>6.2f}")
    total_pages = sum(pages[path] for path in files)
    base_rounds = [sum(run[path] for path in files) for run in timings["pypdfium2"]]
    ours_rounds = [sum(run[path] for path in files) for run in timings["extractkit"]]
    ratio = statistics.median(b / o for b, o in zip(base_rounds, ours_rounds, strict=True))
    base, ours = statistics.median(base_rounds), statistics.median(ours_rounds)
    print(f"{'all files':<48} {total_pages:>5} {total_pages / base:>14.0f} {total_pages / ours:>15.0f} {ratio:>6.2f}")
    verdict = "met" if ratio >= GOAL_RATIO else "not met"
    print(f"{group}: extractkit / pypdfium2 = {ratio:.2f} (goal >= {GOAL_RATIO}): {verdict}")
    return ratio


def main(argv: list[str] | None = None) -> int:
    """Build the files, measure, print; exit 0 whatever the ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7, help="timed rounds per tool (median reported)")
    parser.add_argument("--profile", help="write a cProfile of extractkit's timed rounds to this file")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-pdf-text-") as temp:
        groups = build_files(Path(temp))
        files = [path for group in groups.values() for path in group]
        pages = {path: pypdfium2_text(path) for path in files}
        timings = measure(files, args.rounds, args.profile)
        for group, members in groups.items():
            report(group, members, pages, timings)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
