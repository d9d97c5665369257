"""The tools compared by ``bench/speed.py``, each run in a fresh child process.

Run as ``python bench/peers.py TOOL --out RESULT.json [--rounds N] [--workers N] FILE...``: the
child imports the tool, warms it up on the first file (untimed), then extracts the whole list
``rounds`` times and writes the timed seconds and the texts of the last round to RESULT.json.
Only the standard library is imported at the top, so the same file runs under the peers' own
virtual environments (``bench/.peers/venv-*``).

Tika-app is a JVM batch run and is driven from ``bench/speed.py``; see :func:`tika_command`.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

LANGUAGES = "jpn+eng"
DPI = 300
PEERS_DIR = Path(__file__).resolve().parent / ".peers"
TIKA_VERSION = "2.9.2"
TIKA_JAR = PEERS_DIR / f"tika-app-{TIKA_VERSION}.jar"
VENVS = {
    "extractous": PEERS_DIR / "venv-extractous",
    "unstructured": PEERS_DIR / "venv-unstructured",
}
INSTALL_HINTS = {
    "tika-app": (
        "mvn -q org.apache.maven.plugins:maven-dependency-plugin:3.6.1:copy "
        f"-Dartifact=org.apache.tika:tika-app:{TIKA_VERSION} -DoutputDirectory=bench/.peers"
    ),
    "extractous": (
        "python -m venv bench/.peers/venv-extractous && bench/.peers/venv-extractous/bin/pip install extractous"
    ),
    "unstructured": (
        "python -m venv bench/.peers/venv-unstructured && "
        "bench/.peers/venv-unstructured/bin/pip install 'unstructured[pdf]'"
    ),
}
TIKA_CONFIG_OCR = f"""<?xml version="1.0" encoding="UTF-8"?>
<properties>
  <parsers>
    <parser class="org.apache.tika.parser.DefaultParser">
      <parser-exclude class="org.apache.tika.parser.ocr.TesseractOCRParser"/>
      <parser-exclude class="org.apache.tika.parser.pdf.PDFParser"/>
    </parser>
    <parser class="org.apache.tika.parser.ocr.TesseractOCRParser">
      <params><param name="language" type="string">{LANGUAGES}</param></params>
    </parser>
    <parser class="org.apache.tika.parser.pdf.PDFParser">
      <params>
        <param name="ocrStrategy" type="string">auto</param>
        <param name="ocrDPI" type="int">{DPI}</param>
      </params>
    </parser>
  </parsers>
</properties>
"""
TIKA_CONFIG_NO_OCR = """<?xml version="1.0" encoding="UTF-8"?>
<properties>
  <parsers>
    <parser class="org.apache.tika.parser.DefaultParser">
      <parser-exclude class="org.apache.tika.parser.ocr.TesseractOCRParser"/>
      <parser-exclude class="org.apache.tika.parser.pdf.PDFParser"/>
    </parser>
    <parser class="org.apache.tika.parser.pdf.PDFParser">
      <params><param name="ocrStrategy" type="string">no_ocr</param></params>
    </parser>
  </parsers>
</properties>
"""
#: Environment switch read by the runners: "0" = text layers only, no OCR (like-for-like with
#: extractkit on born-digital PDFs and docx, where extractkit OCRs nothing).
OCR_ENV = "BENCH_OCR"


def ocr_wanted() -> bool:
    """Whether this child should let its tool OCR (``BENCH_OCR`` is not ``0``)."""
    return os.environ.get(OCR_ENV, "1") != "0"


# -- one extraction per tool: path -> text ------------------------------------------------


def extractkit_runner() -> Callable[[Path], str]:
    """``extractkit.extract`` with default options (jpn+eng OCR at 300 dpi where a page needs it)."""
    import extractkit

    return lambda path: extractkit.extract(path).text


def pypdfium2_runner() -> Callable[[Path], str]:
    """pypdfium2's text layer, page by page (the backend alone, no OCR)."""
    import pypdfium2

    def run(path: Path) -> str:
        document = pypdfium2.PdfDocument(str(path))
        try:
            parts = []
            for page in document:
                textpage = page.get_textpage()
                parts.append(textpage.get_text_range())
                textpage.close()
                page.close()
            return "\n".join(parts)
        finally:
            document.close()

    return run


def pdfplumber_runner() -> Callable[[Path], str]:
    """pdfplumber ``extract_text`` page by page, each page closed after use."""
    import pdfplumber

    def run(path: Path) -> str:
        with pdfplumber.open(path) as pdf:
            parts = []
            for page in pdf.pages:
                parts.append(page.extract_text() or "")
                page.close()
            return "\n".join(parts)

    return run


def extractous_runner() -> Callable[[Path], str]:
    """extractous (Tika compiled natively), OCR ``jpn+eng`` at 300 dpi for pages without text.

    extractous has no switch for OCR of embedded images (a docx thumbnail, say); with OCR off,
    ``bench/speed.py`` starts this child with a PATH that has no ``tesseract``.
    """
    import extractous

    ocr = extractous.TesseractOcrConfig().set_language(LANGUAGES).set_density(DPI)
    strategy = extractous.PdfOcrStrategy.AUTO if ocr_wanted() else extractous.PdfOcrStrategy.NO_OCR
    pdf = extractous.PdfParserConfig().set_ocr_strategy(strategy)
    extractor = extractous.Extractor().set_ocr_config(ocr).set_pdf_config(pdf).set_extract_string_max_length(10**8)

    def run(path: Path) -> str:
        text, _metadata = extractor.extract_file_to_string(str(path))
        return text

    return run


def unstructured_runner() -> Callable[[Path], str]:
    """unstructured's ``partition``: PDF strategy ``ocr_only`` when OCR is wanted, else ``fast``."""
    from unstructured.partition.auto import partition

    strategy = "ocr_only" if ocr_wanted() else "fast"

    def run(path: Path) -> str:
        kwargs = {"strategy": strategy, "languages": ["jpn", "eng"]} if path.suffix == ".pdf" else {}
        return "\n".join(str(element) for element in partition(filename=str(path), **kwargs))

    return run


def tesseract_runner() -> Callable[[Path], str]:
    """The raw ``tesseract`` CLI on an image: ``-l jpn+eng --dpi 300``, default page segmentation."""

    def run(path: Path) -> str:
        return subprocess.run(
            ["tesseract", str(path), "-", "-l", LANGUAGES, "--dpi", str(DPI)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout

    return run


def pdftoppm_tesseract_runner() -> Callable[[Path], str]:
    """The raw CLI pipeline for a scanned PDF: ``pdftoppm -r 300 -gray`` (uncompressed PGM), then ``tesseract``."""
    ocr = tesseract_runner()

    def run(path: Path) -> str:
        with tempfile.TemporaryDirectory(prefix="bench-ppm-") as temp:
            subprocess.run(["pdftoppm", "-r", str(DPI), "-gray", str(path), f"{temp}/page"], check=True)
            return "\n".join(ocr(page) for page in sorted(Path(temp).glob("page*.pgm")))

    return run


RUNNERS: dict[str, Callable[[], Callable[[Path], str]]] = {
    "extractkit": extractkit_runner,
    "pypdfium2": pypdfium2_runner,
    "pdfplumber": pdfplumber_runner,
    "extractous": extractous_runner,
    "unstructured": unstructured_runner,
    "tesseract": tesseract_runner,
    "pdftoppm+tesseract": pdftoppm_tesseract_runner,
}


# -- a process pool (1 versus 2 workers) ------------------------------------------------------

_pool_extract: Callable[[Path], str] | None = None


def _pool_init(tool: str, warm_file: str, ready: Any) -> None:
    global _pool_extract
    _pool_extract = RUNNERS[tool]()
    _pool_extract(Path(warm_file))
    ready.wait()


def _pool_task(path: str) -> tuple[str, str]:
    assert _pool_extract is not None
    return path, _pool_extract(Path(path))


def run_pool(tool: str, files: list[Path], rounds: int, workers: int) -> tuple[float, dict[str, str]]:
    """Extract the list ``rounds`` times over a pool of ``workers`` processes (one file per task).

    The clock starts only once every worker has imported the tool and made its warm-up extraction
    (a barrier), so start-up is not counted against either pool size.
    """
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    ready = context.Barrier(workers + 1)
    with context.Pool(workers, initializer=_pool_init, initargs=(tool, str(files[0]), ready)) as pool:
        ready.wait()
        started = time.perf_counter()
        texts: dict[str, str] = {}
        for _ in range(rounds):
            texts = dict(pool.imap_unordered(_pool_task, [str(path) for path in files], chunksize=1))
        return time.perf_counter() - started, texts


# -- the child's main ----------------------------------------------------------------------


def run_tool(tool: str, files: list[Path], rounds: int, workers: int) -> dict:
    """Load, warm up, then time ``rounds`` passes over ``files``."""
    started = time.perf_counter()
    if workers:
        seconds, texts = run_pool(tool, files, rounds, workers)
        return {"load_seconds": 0.0, "seconds": seconds, "texts": texts}
    extract = RUNNERS[tool]()
    extract(files[0])
    load_seconds = time.perf_counter() - started
    started = time.perf_counter()
    texts = {}
    for _ in range(rounds):
        texts = {str(path): extract(path) for path in files}
    return {"load_seconds": load_seconds, "seconds": time.perf_counter() - started, "texts": texts}


def tika_command(input_dir: Path, output_dir: Path, config: Path) -> list[str]:
    """tika-app's batch mode over a directory: one consumer thread, plain text out."""
    return [
        "java",
        "-jar",
        str(TIKA_JAR),
        f"--config={config}",
        "-numConsumers",
        "1",
        "-t",
        "-i",
        str(input_dir),
        "-o",
        str(output_dir),
    ]


def main(argv: list[str] | None = None) -> int:
    """Child entry point: run one tool over the files and write the result JSON."""
    parser = argparse.ArgumentParser(description="run one extraction tool over files (bench child)")
    parser.add_argument("tool", choices=sorted(RUNNERS))
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--workers", type=int, default=0, help="run over a warm pool of N processes")
    args = parser.parse_args(argv)
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    try:
        result = run_tool(args.tool, args.files, args.rounds, args.workers)
    except Exception as error:  # a peer that cannot run is a result too
        result = {"error": f"{type(error).__name__}: {error}", "traceback": traceback.format_exc()[-2000:]}
    args.out.write_text(json.dumps(result, ensure_ascii=False), encoding="utf-8")
    return 0 if "error" not in result else 3


if __name__ == "__main__":
    sys.exit(main())
