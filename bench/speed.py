"""Speed and memory of extractkit against its peers, in one run, on the same files.

Usage: ``python bench/speed.py [--repeats N] [--quick] [--corpus NAME ...]``.

Corpora: born-digital PDFs (the public corpus PDFs plus a generated 30-page Japanese+English PDF),
scanned PDFs (generated 300 dpi page scans) and the same scans as PNG, and docx files. Every
(tool, corpus) measurement runs in a fresh child process (``bench/peers.py``), repeated; the
tables show medians. Throughput is measured warm (after import and one untimed extraction);
peak RSS is the whole process tree's, sampled every 50 ms. Tika-app is a JVM batch run: its warm
throughput is the extra time of a batch with more copies of the files, its start-up is reported
apart. ``OMP_THREAD_LIMIT=1`` is set for every tool. Results go to ``bench/results/speed.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import _paths  # noqa: F401  (puts the checkout and tests/ on sys.path)
from bench import peers
from bench.measure import Measured, wait_for_quiet
from bench.measure import run_measured as _run_measured
from bench.report import print_cold, print_goals, print_table
from extractkit.normalize import remove_cjk_spaces

from truth import generate as generator
from truth.cer import errors

BENCH = Path(__file__).resolve().parent
RESULTS = BENCH / "results"
CORPUS = Path(os.environ.get("EXTRACTKIT_CORPUS", "/work/shared/corpus/public"))
BORN_DIGITAL = [
    "pdfminer.six/simple1.pdf",
    "pdfminer.six/jo.pdf",
    "pdfminer.six/enc-base.pdf",
    "pdfplumber/nics-background-checks-2015-11.pdf",
    "pdfplumber/nics-background-checks-2015-11-rotated.pdf",
]
DOCX = ["python-docx/test.docx", "python-docx/sct-inner-content.docx", "python-docx/having-images.docx"]
ENV = {
    "OMP_THREAD_LIMIT": "1",
    "SCARF_NO_ANALYTICS": "true",
    "DO_NOT_TRACK": "true",
    "UNSTRUCTURED_DISABLE_NOTICE": "1",
}


WAIT_FOR_QUIET = {"enabled": True}


def run_measured(command: list[str], env: dict[str, str] | None = None) -> Measured:
    """Measure a command, first waiting for other processes to leave the CPU (unless --no-wait)."""
    if WAIT_FOR_QUIET["enabled"]:
        wait_for_quiet()
    return _run_measured(command, env)


@dataclass
class Corpus:
    """A named list of files with their page counts (and page truths for OCR scoring)."""

    name: str
    files: list[Path]
    pages: int
    rounds: int
    ocr: bool = False
    truth: dict[str, str] = field(default_factory=dict)


@dataclass
class Run:
    """One child process: wall time, timed seconds, peak tree RSS, CPU, and the machine's other load."""

    wall: float
    seconds: float
    load_seconds: float
    peak_rss_mb: float
    texts: dict[str, str]
    error: str | None = None
    cpu_seconds: float = 0.0
    foreign_cpu_percent: float = 0.0


def python_for(tool: str) -> str | None:
    """The interpreter a tool runs under (its own venv for extractous and unstructured)."""
    if tool not in peers.VENVS:
        return sys.executable
    python = peers.VENVS[tool] / "bin" / "python"
    return str(python) if python.exists() else None


def child_env(tool: str, corpus: Corpus, no_tesseract_dir: Path) -> dict[str, str]:
    """OCR on or off for the child; extractous only obeys by not finding tesseract on PATH."""
    env = {peers.OCR_ENV: "1" if corpus.ocr else "0"}
    if tool == "extractous" and not corpus.ocr:
        env["PATH"] = str(no_tesseract_dir)
    return env


def run_child(tool: str, corpus: Corpus, workers: int = 0) -> Run:
    """One measurement of a Python-driven tool over a corpus."""
    python = python_for(tool)
    if python is None:
        return Run(0, 0, 0, 0, {}, error=f"not installed ({peers.INSTALL_HINTS[tool]})")
    with tempfile.NamedTemporaryFile(suffix=".json") as out, tempfile.TemporaryDirectory() as empty:
        command = [python, str(BENCH / "peers.py"), tool, "--out", out.name, "--rounds", str(corpus.rounds)]
        command += ["--workers", str(workers), *map(str, corpus.files)]
        cost = run_measured(command, {**ENV, **child_env(tool, corpus, Path(empty))})
        result = json.loads(Path(out.name).read_text(encoding="utf-8") or "{}")
    wall, peak = cost.wall, cost.peak_rss_mb
    if "error" in result:
        return Run(wall, 0, 0, peak, {}, error=result["error"])
    if not any(text.strip() for text in result["texts"].values()):
        return Run(wall, 0, 0, peak, {}, error="ran, but extracted no text at all")
    return Run(
        wall,
        result["seconds"],
        result["load_seconds"],
        peak,
        result["texts"],
        None,
        cost.cpu_seconds,
        cost.foreign_cpu_percent,
    )


def link_copies(files: list[Path], directory: Path, copies: int) -> None:
    """Fill a directory with ``copies`` hard links (or copies) of each file."""
    directory.mkdir(parents=True)
    for copy in range(copies):
        for index, path in enumerate(files):
            target = directory / f"{copy}-{index}-{path.name}"
            try:
                os.link(path, target)
            except OSError:
                shutil.copy(path, target)


def run_tika(corpus: Corpus, copies: int) -> Run:
    """One tika-app batch over ``copies`` copies of the corpus; texts from the first copy."""
    if not peers.TIKA_JAR.exists() or shutil.which("java") is None:
        return Run(0, 0, 0, 0, {}, error=f"not installed ({peers.INSTALL_HINTS['tika-app']})")
    with tempfile.TemporaryDirectory(prefix="bench-tika-") as temp:
        config = Path(temp) / "tika-config.xml"
        config.write_text(peers.TIKA_CONFIG_OCR if corpus.ocr else peers.TIKA_CONFIG_NO_OCR, encoding="utf-8")
        link_copies(corpus.files, Path(temp) / "in", copies)
        cost = run_measured(peers.tika_command(Path(temp) / "in", Path(temp) / "out", config), ENV)
        texts = {}
        for index, path in enumerate(corpus.files):
            output = Path(temp) / "out" / f"0-{index}-{path.name}.txt"
            texts[str(path)] = output.read_text(encoding="utf-8", errors="replace") if output.exists() else ""
    outputs = sum(map(bool, texts.values()))
    error = None if cost.returncode == 0 and outputs == len(texts) else f"exit {cost.returncode}, {outputs} outputs"
    return Run(cost.wall, cost.wall, 0, cost.peak_rss_mb, texts, error, cost.cpu_seconds, cost.foreign_cpu_percent)


def page_count(path: Path) -> int:
    """Pages of a PDF (1 for anything else)."""
    if path.suffix.lower() != ".pdf":
        return 1
    import pypdfium2

    document = pypdfium2.PdfDocument(str(path))
    try:
        return len(document)
    finally:
        document.close()


def build_corpora(work: Path, quick: bool) -> dict[str, Corpus]:
    """Generate the bench files and gather the public ones."""
    big = work / "born-digital-30p-ja-en.pdf"
    generator.build_born_digital_pdf(big, pages=30)
    small = work / "small.pdf"
    generator.build_born_digital_pdf(small, pages=1, start=3)
    docx = work / "report-table.docx"
    generator.build_docx(docx)
    born = [big, *(CORPUS / name for name in BORN_DIGITAL)]
    scans, pngs, truth = [], [], {}
    cycle = generator.paragraph_cycle(1)
    for index in range(2 if quick else 4):
        pairs = [next(cycle), next(cycle)]
        language = "en" if all(lang == "en" for lang, _ in pairs) else "ja"
        image, text = generator.scan_page([paragraph for _, paragraph in pairs], language, 300)
        scans.append(work / f"scan-{index}.pdf")
        pngs.append(work / f"scan-{index}.png")
        generator.save_image_pdf([image], scans[-1], 300)
        generator.save_image(image, pngs[-1], 300)
        truth[str(scans[-1])] = truth[str(pngs[-1])] = text
    docs = [docx, *(CORPUS / name for name in DOCX)]
    corpora = {
        "born-digital": Corpus("born-digital", born, sum(map(page_count, born)), 1 if quick else 3),
        "scanned-pdf": Corpus("scanned-pdf", scans, len(scans), 1, True, truth),
        "scanned-png": Corpus("scanned-png", pngs, len(pngs), 1, True, truth),
        "docx": Corpus("docx", docs, len(docs), 1 if quick else 5),
    }
    corpora["small"] = Corpus("small", [small], 1, 1)
    corpora.update(pool_corpora(work, big, scans, quick))
    return corpora


def pool_corpora(work: Path, big: Path, scans: list[Path], quick: bool) -> dict[str, Corpus]:
    """Balanced lists for the 1- versus 2-worker comparison: many files of about the same size."""
    copies = work / "pool"
    copies.mkdir()
    born = []
    for index in range(4 if quick else 16):
        born.append(copies / f"{index}-{big.name}")
        os.link(big, born[-1])
    return {
        "pool-born-digital": Corpus("pool-born-digital", born, 30 * len(born), 1),
        "pool-scanned": Corpus("pool-scanned", scans, len(scans), 1 if quick else 2, True),
    }


#: (label, child tool, workers, venv tool) per corpus.
TOOLS = {
    "born-digital": [
        ("extractkit", "extractkit", 0),
        ("pypdfium2", "pypdfium2", 0),
        ("pdfplumber", "pdfplumber", 0),
        ("extractous", "extractous", 0),
        ("unstructured", "unstructured", 0),
    ],
    "scanned-pdf": [
        ("extractkit", "extractkit", 0),
        ("pdftoppm+tesseract", "pdftoppm+tesseract", 0),
        ("extractous", "extractous", 0),
        ("unstructured", "unstructured", 0),
    ],
    "scanned-png": [("extractkit", "extractkit", 0), ("tesseract", "tesseract", 0)],
    "docx": [("extractkit", "extractkit", 0), ("extractous", "extractous", 0), ("unstructured", "unstructured", 0)],
    "pool-born-digital": [("extractkit pool=1", "extractkit", 1), ("extractkit pool=2", "extractkit", 2)],
    "pool-scanned": [
        ("extractkit pool=1", "extractkit", 1),
        ("extractkit pool=2", "extractkit", 2),
        ("pdftoppm+tess pool=1", "pdftoppm+tesseract", 1),
        ("pdftoppm+tess pool=2", "pdftoppm+tesseract", 2),
    ],
}
TIKA_CORPORA = ("born-digital", "scanned-pdf", "docx")


def scored_cer(corpus: Corpus, texts: dict[str, str], *, drop_cjk_spaces: bool = False) -> float | None:
    """Pooled CER of a tool's texts on a corpus with known truth (optionally after removing CJK spaces)."""
    if not corpus.truth or not texts:
        return None
    clean = remove_cjk_spaces if drop_cjk_spaces else str
    pairs = [errors(corpus.truth[path], clean(texts.get(path, ""))) for path in corpus.truth if path in texts]
    length = sum(length for _, length in pairs)
    return sum(distance for distance, _ in pairs) / length if length else None


def summarise(label: str, corpus: Corpus, runs: list[Run], work_units: float) -> dict:
    """Medians over repeated runs of one tool on one corpus."""
    good = [run for run in runs if run.error is None]
    row = {
        "corpus": corpus.name,
        "tool": label,
        "files": len(corpus.files),
        "pages": corpus.pages,
        "rounds": corpus.rounds,
        "repeats": len(runs),
        "error": next((r.error for r in runs if r.error), None),
    }
    if not good:
        return row
    seconds = statistics.median(run.seconds for run in good)
    row.update(
        seconds=seconds,
        pages_per_second=work_units / seconds if seconds else None,
        peak_rss_mb=statistics.median(run.peak_rss_mb for run in good),
        load_seconds=statistics.median(run.load_seconds for run in good),
        cpu_seconds=statistics.median(run.cpu_seconds for run in good),
        foreign_cpu_percent=max(run.foreign_cpu_percent for run in good),
        wall=statistics.median(run.wall for run in good),
        cer=scored_cer(corpus, good[-1].texts),
        cer_without_cjk_spaces=scored_cer(corpus, good[-1].texts, drop_cjk_spaces=True),
        characters=sum(len(text) for text in good[-1].texts.values()),
        all_seconds=[run.seconds for run in good],
    )
    return row


def measure_corpus(corpus: Corpus, repeats: int) -> list[dict]:
    """Every tool on one corpus, ``repeats`` times each."""
    rows = []
    for label, tool, workers in TOOLS.get(corpus.name, []):
        tries = 1 if tool == "unstructured" else repeats
        runs = [run_child(tool, corpus, workers) for _ in range(tries)]
        rows.append(summarise(label, corpus, runs, corpus.pages * corpus.rounds))
        print(
            f"  {corpus.name:<13} {label:<20} {rows[-1].get('seconds', 0):8.3f}s {rows[-1]['error'] or ''}",
            file=sys.stderr,
        )
    if corpus.name in TIKA_CORPORA:
        rows.extend(measure_tika(corpus, repeats))
    return rows


def measure_tika(corpus: Corpus, repeats: int) -> list[dict]:
    """Tika-app batch: a one-copy batch (JVM start-up + one pass) and a batch with more copies.

    The warm throughput is the extra pages over the extra time; the JVMs and the batch driver
    cost the same in both. Text corpora get 10 extra copies, OCR corpora one.
    """
    extra = 1 if corpus.ocr else 10
    one = [run_tika(corpus, 1) for _ in range(repeats)]
    many = [run_tika(corpus, 1 + extra) for _ in range(repeats)]
    row = summarise("tika-app (warm)", corpus, many, corpus.pages * extra)
    row["rounds"] = extra
    if row["error"] is None and all(run.error is None for run in one):
        warm = statistics.median(r.wall for r in many) - statistics.median(r.wall for r in one)
        row.update(
            seconds=warm,
            pages_per_second=corpus.pages * extra / warm if warm > 0 else None,
            startup_plus_one_pass=statistics.median(r.wall for r in one),
            cer=scored_cer(corpus, one[-1].texts),
            cer_without_cjk_spaces=scored_cer(corpus, one[-1].texts, drop_cjk_spaces=True),
        )
        if warm <= 0:
            row["error"] = f"no measurable difference between 1 and {1 + extra} copies (noise)"
    print(f"  {corpus.name:<13} {'tika-app':<20} {row.get('seconds', 0):8.3f}s {row['error'] or ''}", file=sys.stderr)
    return [row]


def extractkit_ocr_pages(corpus: Corpus) -> int:
    """How many pages of a corpus extractkit OCRs (0 makes text-layer-only peers like-for-like)."""
    import extractkit

    return sum(extractkit.extract(path).ocr_pages for path in corpus.files)


def measure_cold(small: Path, repeats: int) -> dict:
    """Wall time of one-shot command lines on a one-page PDF (new process each time)."""
    commands = {
        "extractkit extract small.pdf": [shutil.which("extractkit") or "extractkit", "extract", str(small)],
        "extractkit extract simple1.pdf": [
            shutil.which("extractkit") or "extractkit",
            "extract",
            str(CORPUS / "pdfminer.six/simple1.pdf"),
        ],
        "python -c 'import extractkit'": [sys.executable, "-c", "import extractkit"],
    }
    if peers.TIKA_JAR.exists():
        commands["java -jar tika-app.jar -t small.pdf"] = ["java", "-jar", str(peers.TIKA_JAR), "-t", str(small)]
    cold = {}
    for label, command in commands.items():
        runs = [run_measured(command, ENV) for _ in range(repeats)]
        cold[label] = {
            "median_seconds": statistics.median(run.wall for run in runs),
            "all": [run.wall for run in runs],
            "peak_rss_mb": statistics.median(run.peak_rss_mb for run in runs),
            "exit_codes": [run.returncode for run in runs],
            "foreign_cpu_percent": max(run.foreign_cpu_percent for run in runs),
        }
    return cold


def main() -> int:
    """Build the corpora, measure everything, print tables and ratios, save JSON."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=0, help="repeats per measurement (default 5; 3 for OCR)")
    parser.add_argument("--quick", action="store_true", help="one repeat, fewer files: a smoke run")
    parser.add_argument("--no-wait", action="store_true", help="do not wait for a quiet machine before each run")
    parser.add_argument("--corpus", action="append", choices=[*TOOLS, "cold"], help="measure only these")
    args = parser.parse_args()
    os.environ.update(ENV)
    WAIT_FOR_QUIET["enabled"] = not args.no_wait
    selected = args.corpus or [*TOOLS, "cold"]
    rows, cold, ocr_pages = [], {}, {}
    with tempfile.TemporaryDirectory(prefix="extractkit-speed-") as temp:
        corpora = build_corpora(Path(temp), args.quick)
        for name in TOOLS:
            if name in selected:
                corpus = corpora[name]
                repeats = args.repeats or (1 if args.quick else 3 if corpus.ocr else 5)
                if not corpus.ocr:
                    ocr_pages[name] = extractkit_ocr_pages(corpus)
                rows.extend(measure_corpus(corpus, repeats))
        if "cold" in selected:
            cold = measure_cold(corpora["small"].files[0], 1 if args.quick else 5)
    print_table(rows)
    print_cold(cold)
    goals = print_goals(rows, cold)
    for name, count in ocr_pages.items():
        print(f"extractkit OCR'd {count} page(s) of the {name} corpus; peers ran there with OCR off")
    RESULTS.mkdir(parents=True, exist_ok=True)
    report = {
        "rows": rows,
        "cold": cold,
        "goals": goals,
        "extractkit_ocr_pages": ocr_pages,
        "cpu_count": os.cpu_count(),
        "time": time.ctime(),
    }
    (RESULTS / "speed.json").write_text(json.dumps(report, indent=1, ensure_ascii=False), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
