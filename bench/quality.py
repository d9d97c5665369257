"""Print the character error rate per fixture set for every OCR engine, raw Tesseract and Tika.

Usage: ``python bench/quality.py [--out DIR] [--engines tesseract,ppocr,tesseract+ppocr]
[--no-baseline] [--no-tika] [--no-holdout] [--calibrate]``.

The fixtures come from ``tests/truth/generate.py`` (the files the quality tests use, plus the
``holdout-*`` images the tests do not use: other paragraphs, fonts, seeds and skew). Every file
goes through ``extractkit.extract`` once per engine (``ExtractOptions.extra["ocr_engine"]``);
text-layer files do not depend on the engine and are extracted once. Beside them: the raw
``tesseract FILE - -l jpn+eng`` CLI on the image fixtures (``pdftoppm -r 300`` first for the
scanned PDFs), and Tika-app 2.9.2 with its Tesseract OCR (``bench/.peers``, see
``bench/README.md``) when its jar is there. Each cell is the pooled CER of the set (total edits
over total reference characters, NFKC, whitespace folded); ``sp`` counts runs of spaces between
two CJK characters that the truth does not have. ``--calibrate`` fits the per-engine lines
that turn a page's confidence into an expected CER (``extractkit_plugins.image.ocr_choice``).
Results also go to ``bench/results/quality.json``.
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
from pathlib import Path

import _paths  # noqa: F401  (puts the checkout and tests/ on sys.path)
from extractkit.models import ExtractOptions

from truth import generate as generator
from truth.cer import errors
from truth.scoring import FileScore, cjk_spaces, extract_and_score

RESULTS = Path(__file__).resolve().parent / "results"
PEERS = Path(__file__).resolve().parent / ".peers"
TIKA_JAR = PEERS / "tika-app-2.9.2.jar"
ENGINES = ("tesseract", "ppocr", "tesseract+ppocr")


def needs_ocr(entry: dict) -> bool:
    """True when the file's text depends on the OCR engine."""
    return entry["kind"] == "image" or any(page["needs_ocr"] for page in entry.get("pages", []))


def score_engine(
    manifest: dict, directory: Path, engine: str, only_ocr: bool, timing: dict[str, list[float]]
) -> tuple[list[FileScore], list]:
    """Extract and score the files with one engine; failures are recorded, not raised.

    ``timing[engine]`` collects (seconds, OCR'd pages) of the single-image files, for pages/s per core.
    """
    scores, failures = [], []
    options = ExtractOptions(extra={"ocr_engine": engine})
    for entry in manifest["files"]:
        if only_ocr and not needs_ocr(entry):
            continue
        started = time.perf_counter()
        try:
            score = extract_and_score(entry, directory, options)
        except Exception as error:  # report every failure, keep going
            failures.append({"engine": engine, "file": entry["file"], "error": f"{type(error).__name__}: {error}"})
            continue
        elapsed = time.perf_counter() - started
        if entry["kind"] == "image":
            timing.setdefault(engine, []).append(elapsed)
        scores.append(score)
        print(f"  {engine:<16} {entry['file']:<46} cer={score.cer:.4f} {elapsed:5.1f}s", file=sys.stderr)
    return scores, failures


def raw_tesseract_text(entry: dict, directory: Path) -> str:
    """Plain ``tesseract -l jpn+eng`` output for an image fixture or a scanned PDF (via pdftoppm)."""
    path = directory / entry["file"]
    if entry["kind"] == "image":
        command = ["tesseract", str(path), "-", "-l", "jpn+eng"]
        return subprocess.run(command, capture_output=True, text=True, check=True).stdout
    with tempfile.TemporaryDirectory() as temp:
        subprocess.run(["pdftoppm", "-r", "300", "-gray", str(path), f"{temp}/page"], check=True)
        pages = sorted(Path(temp).glob("page*"))
        return "\n\n".join(
            subprocess.run(["tesseract", str(page), "-", "-l", "jpn+eng"], capture_output=True, text=True).stdout
            for page in pages
        )


def tika_texts(manifest: dict, directory: Path) -> dict[str, str] | str:
    """Tika-app's text (OCR on, jpn+eng) of every file, or why it could not run."""
    from bench.peers import TIKA_CONFIG_OCR, tika_command

    if not TIKA_JAR.is_file():
        return f"FAILED: {TIKA_JAR} is missing (see bench/README.md)"
    with tempfile.TemporaryDirectory() as temp:
        source, target, config = Path(temp) / "in", Path(temp) / "out", Path(temp) / "tika.xml"
        source.mkdir()
        for entry in manifest["files"]:
            (source / entry["file"]).symlink_to(directory / entry["file"])
        config.write_text(TIKA_CONFIG_OCR, encoding="utf-8")
        completed = subprocess.run(tika_command(source, target, config), capture_output=True, text=True)
        if completed.returncode != 0 and not target.exists():
            return f"FAILED: tika-app exited {completed.returncode}: {completed.stderr[-300:]}"
        texts = {}
        for entry in manifest["files"]:
            out = target / f"{entry['file']}.txt"
            texts[entry["file"]] = out.read_text(encoding="utf-8", errors="replace") if out.exists() else ""
        return texts


def pooled(pairs: list[tuple[int, int]]) -> float:
    """Total edits over total reference characters."""
    length = sum(length for _, length in pairs)
    return sum(distance for distance, _ in pairs) / length if length else 0.0


def table(manifest: dict, columns: dict[str, dict[str, tuple[int, int, int]]]) -> list[dict]:
    """Rows per set: for each column the pooled CER and the false CJK spaces (beyond the truth's own)."""
    sets: dict[str, list[str]] = {}
    real = {}
    for entry in manifest["files"]:
        sets.setdefault(entry["set"], []).append(entry["file"])
        real[entry["file"]] = cjk_spaces(entry.get("text", ""))
    rows = []
    for set_name, files in sets.items():
        row = {"set": set_name, "files": len(files)}
        for column, results in columns.items():
            found = [(name, results[name]) for name in files if name in results]
            if found:
                false_spaces = sum(max(0, value[2] - real[name]) for name, value in found)
                row[column] = (pooled([(value[0], value[1]) for _, value in found]), false_spaces)
        rows.append(row)
    return rows


def print_table(rows: list[dict], columns: list[str]) -> None:
    """The CER table: one line per set, one column per engine or peer."""
    header = f"{'set':<20} {'files':>5}" + "".join(f" {column:>20}" for column in columns)
    print(header)
    print("-" * len(header))
    for row in rows:
        cells = ""
        for column in columns:
            value = row.get(column)
            cells += f" {f'{value[0] * 100:6.2f}% sp={value[1]}':>20}" if value else f" {'-':>20}"
        print(f"{row['set']:<20} {row['files']:>5}{cells}")


def calibrate(scores: dict[str, list[FileScore]], confidences: dict[str, dict[str, float]]) -> dict:
    """Least-squares lines ``cer = a + b * (100 - confidence)`` per engine, on the non-holdout OCR pages."""
    fits = {}
    for engine, found in confidences.items():
        points = [
            (100.0 - confidences[engine][score.file], score.cer)
            for score in scores[engine]
            if score.file in found and not score.set.startswith("holdout")
        ]
        if len(points) < 3:
            continue
        xs, ys = [x for x, _ in points], [y for _, y in points]
        mean_x, mean_y = statistics.fmean(xs), statistics.fmean(ys)
        spread = sum((x - mean_x) ** 2 for x in xs) or 1.0
        slope = sum((x - mean_x) * (y - mean_y) for x, y in points) / spread
        fits[engine] = {"intercept": round(mean_y - slope * mean_x, 5), "slope": round(slope, 5), "pages": len(points)}
    return fits


def page_confidences(manifest: dict, directory: Path, engines: list[str]) -> dict[str, dict[str, float]]:
    """Each engine's mean page confidence on every single-image fixture (for --calibrate)."""
    import extractkit

    found: dict[str, dict[str, float]] = {}
    for engine in engines:
        if engine not in ("tesseract", "ppocr"):
            continue
        options = ExtractOptions(extra={"ocr_engine": engine})
        for entry in manifest["files"]:
            if entry["kind"] == "image":
                result = extractkit.extract(directory / entry["file"], options=options)
                found.setdefault(engine, {})[entry["file"]] = result.pages[0].confidence or 0.0
    return found


def main() -> int:
    """Generate, extract with every engine, score, print and save."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, help="where to generate the fixtures (default: a temp dir)")
    parser.add_argument("--engines", default=",".join(ENGINES), help="comma-separated OCR engines")
    parser.add_argument("--no-baseline", action="store_true", help="skip the raw tesseract baseline")
    parser.add_argument("--no-tika", action="store_true", help="skip Tika")
    parser.add_argument("--no-holdout", action="store_true", help="skip the held-out image set")
    parser.add_argument("--calibrate", action="store_true", help="fit confidence-to-CER lines per engine")
    args = parser.parse_args()
    os.environ["OMP_THREAD_LIMIT"] = "1"
    engines = [engine for engine in args.engines.split(",") if engine]
    with tempfile.TemporaryDirectory(prefix="extractkit-quality-") as temp:
        directory = args.out or Path(temp)
        manifest = generator.generate(directory, holdout=not args.no_holdout)
        by_name = {entry["file"]: entry for entry in manifest["files"]}
        columns: dict[str, dict[str, tuple[int, int, int]]] = {}
        all_scores: dict[str, list[FileScore]] = {}
        failures: list = []
        timing: dict[str, list[float]] = {}
        for index, engine in enumerate(engines):
            scores, failed = score_engine(manifest, directory, engine, only_ocr=index > 0, timing=timing)
            failures += failed
            all_scores[engine] = scores
            columns[engine] = {score.file: (score.distance, score.length, score.cjk_spaces) for score in scores}
        if len(engines) > 1:  # text layers do not depend on the engine: share the first one's scores
            for engine in engines[1:]:
                for name, value in columns[engines[0]].items():
                    columns[engine].setdefault(name, value)
        if not args.no_baseline:
            raw = {}
            for entry in manifest["files"]:
                if entry["kind"] == "image" or entry["set"] == "scan-pdf":
                    text = raw_tesseract_text(entry, directory)
                    raw[entry["file"]] = (*errors(entry["text"], text), cjk_spaces(text))
            columns["raw tesseract"] = raw
        tika_note = ""
        if not args.no_tika:
            texts = tika_texts(manifest, directory)
            if isinstance(texts, str):
                tika_note = texts
            else:
                columns["tika 2.9.2"] = {
                    name: (*errors(by_name[name]["text"], text), cjk_spaces(text))
                    for name, text in texts.items()
                    if by_name[name]["kind"] != "docx"
                }
        fits = calibrate(all_scores, page_confidences(manifest, directory, engines)) if args.calibrate else {}
    rows = table(manifest, columns)
    print_table(rows, list(columns))
    if tika_note:
        print(f"\ntika 2.9.2: {tika_note}")
    print("\nOCR pages/s per core on the single-image fixtures (one thread each; median page time):")
    for engine, seconds in timing.items():
        print(
            f"  {engine:<16} {len(seconds) / sum(seconds):5.2f} pages/s, median {statistics.median(seconds):.2f} s/page"
        )
    if fits:
        print("\nCalibration (cer = intercept + slope * (100 - confidence)):")
        for engine, fit in fits.items():
            print(f"  {engine:<10} intercept={fit['intercept']:+.5f} slope={fit['slope']:.5f} ({fit['pages']} pages)")
    print(
        f"\nExtraction failures: {len(failures)}",
        *(f"{f['engine']} {f['file']}: {f['error']}" for f in failures),
        sep="\n  ",
    )
    RESULTS.mkdir(parents=True, exist_ok=True)
    report = {
        "rows": [{key: value for key, value in row.items()} for row in rows],
        "files": {column: {name: list(value) for name, value in values.items()} for column, values in columns.items()},
        "calibration": fits,
        "page_seconds": timing,
        "failures": failures,
        "tika": tika_note or "ran",
    }
    (RESULTS / "quality.json").write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
