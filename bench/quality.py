"""Print extractkit's character error rate on the generated fixture set, per set and language.

Usage: ``python bench/quality.py [--out DIR] [--no-baseline]``. The fixtures come from
``tests/fixtures/generate.py`` (the same files the quality tests use). For the image fixtures the
raw ``tesseract`` CLI (``-l jpn+eng``, no post-processing) is scored too, as a baseline. The
``holdout-*`` sets are images the tests do not use (other paragraphs, fonts, seeds, skew), to see
whether OCR tuned on the test fixtures holds on text it has not seen. Results also go to
``bench/results/quality.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.fixtures import generate as generator
from tests.fixtures.cer import errors
from tests.fixtures.scoring import FileScore, extract_and_score, summary_rows

RESULTS = Path(__file__).resolve().parent / "results"


def raw_tesseract_cer(entry: dict, directory: Path) -> float:
    """CER of the plain ``tesseract FILE - -l jpn+eng`` output for an image fixture."""
    output = subprocess.run(
        ["tesseract", str(directory / entry["file"]), "-", "-l", "jpn+eng"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    distance, length = errors(entry["text"], output)
    return distance / length


def score_all(manifest: dict, directory: Path) -> tuple[list[FileScore], list[dict]]:
    """Extract and score every fixture; failures are recorded, not raised."""
    scores, failures = [], []
    for entry in manifest["files"]:
        started = time.perf_counter()
        try:
            score = extract_and_score(entry, directory)
        except Exception as error:  # report every failure, keep going
            failures.append({"file": entry["file"], "error": f"{type(error).__name__}: {error}"})
            continue
        scores.append(score)
        print(f"  {entry['file']:<48} cer={score.cer:.4f}  {time.perf_counter() - started:5.1f}s", file=sys.stderr)
    return scores, failures


def ocr_flag_errors(scores: list[FileScore]) -> list[str]:
    """Pages whose OCR flag differs from whether they needed OCR."""
    return [
        f"{score.file} p{page.number}: ocr={page.ocr}, expected {page.needs_ocr}"
        for score in scores
        for page in score.pages
        if page.ocr != page.needs_ocr
    ]


def baseline_rows(manifest: dict, directory: Path) -> dict[tuple[str, str], list[float]]:
    """Raw tesseract CERs of the image fixtures, grouped by (set, language)."""
    groups: dict[tuple[str, str], list[float]] = {}
    for entry in manifest["files"]:
        if entry["kind"] == "image":
            groups.setdefault((entry["set"], entry["language"]), []).append(raw_tesseract_cer(entry, directory))
    return groups


def print_table(rows: list[dict], baseline: dict[tuple[str, str], list[float]]) -> None:
    """The CER table: set x language."""
    header = f"{'set':<18} {'language':<9} {'files':>5} {'median CER':>11} {'max CER':>9} {'pooled':>8} {'CJK sp':>6}"
    print(header + (f" {'tesseract median/max':>22}" if baseline else ""))
    print("-" * (len(header) + (23 if baseline else 0)))
    for row in rows:
        line = (
            f"{row['set']:<18} {row['language']:<9} {row['files']:>5} {row['median_cer']:>11.4f} "
            f"{row['max_cer']:>9.4f} {row['pooled_cer']:>8.4f} {row['cjk_spaces']:>6}"
        )
        raw = baseline.get((row["set"], row["language"]))
        if raw:
            line += f" {sorted(raw)[len(raw) // 2]:>13.4f}/{max(raw):.4f}"
        print(line)


def main() -> int:
    """Generate, extract, score, print and save."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, help="where to generate the fixtures (default: a temp dir)")
    parser.add_argument("--no-baseline", action="store_true", help="skip the raw tesseract baseline")
    parser.add_argument("--no-holdout", action="store_true", help="skip the held-out image set")
    args = parser.parse_args()
    os.environ["OMP_THREAD_LIMIT"] = "1"
    with tempfile.TemporaryDirectory(prefix="extractkit-quality-") as temp:
        directory = args.out or Path(temp)
        manifest = generator.generate(directory, holdout=not args.no_holdout)
        scores, failures = score_all(manifest, directory)
        baseline = {} if args.no_baseline else baseline_rows(manifest, directory)
    rows = summary_rows(scores)
    print_table(rows, baseline)
    flags = ocr_flag_errors(scores)
    print(f"\nOCR flag errors: {len(flags)}", *flags, sep="\n  ")
    print(f"Extraction failures: {len(failures)}", *(f"{f['file']}: {f['error']}" for f in failures), sep="\n  ")
    RESULTS.mkdir(parents=True, exist_ok=True)
    report = {
        "rows": rows,
        "files": [
            {"file": s.file, "set": s.set, "language": s.language, "variant": s.variant, "cer": s.cer} for s in scores
        ],
        "tesseract_baseline": {f"{k[0]}/{k[1]}": v for k, v in baseline.items()},
        "ocr_flag_errors": flags,
        "failures": failures,
    }
    (RESULTS / "quality.json").write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
