"""Printing for ``bench/speed.py``: the throughput table, cold starts, and the goal ratios."""

from __future__ import annotations

from typing import Any

#: The goals; the other ratios printed beside them are context.
GOALS = {
    "born_digital_vs_tika": 3.0,
    "ocr_page_time_vs_tesseract": 1.10,
    "two_workers_vs_one": 1.8,
    "cold_start_seconds": 0.5,
}


def _find(rows: list[dict], corpus: str, tool: str) -> dict[str, Any]:
    return next((row for row in rows if row["corpus"] == corpus and row["tool"] == tool), {})


def _ratio(numerator: float | None, denominator: float | None) -> float | None:
    if not numerator or not denominator:
        return None
    return numerator / denominator


def _cer(value: float | None) -> str:
    return "-" if value is None else f"{value:.4f}"


def print_table(rows: list[dict]) -> None:
    """One line per (corpus, tool): medians of time, throughput, peak RSS and CPU; CER where known."""
    print(
        f"\n{'corpus':<17} {'tool':<20} {'files':>5} {'pages':>5} {'x':>2} {'median s':>9} {'pages/s':>9} "
        f"{'RSS MB':>7} {'CPU s':>7} {'load s':>7} {'other%':>6} {'CER':>7} {'CER-sp':>7}  notes"
    )
    print("-" * 140)
    for row in rows:
        head = f"{row['corpus']:<17} {row['tool']:<20} {row['files']:>5} {row['pages']:>5} {row['rounds']:>2}"
        if row.get("pages_per_second") is None:
            print(f"{head} FAILED: {row.get('error')}")
            continue
        note = "" if row.get("error") is None else f"partly failed: {row['error']}"
        if "startup_plus_one_pass" in row:
            note = f"JVM start-up + 1 pass {row['startup_plus_one_pass']:.2f}s {note}"
        print(
            f"{head} {row['seconds']:>9.3f} {row['pages_per_second']:>9.2f} {row['peak_rss_mb']:>7.0f} "
            f"{row.get('cpu_seconds', 0):>7.2f} {row['load_seconds']:>7.2f} {row.get('foreign_cpu_percent', 0):>6.0f} "
            f"{_cer(row.get('cer')):>7} {_cer(row.get('cer_without_cjk_spaces')):>7}  {note}"
        )
    print(
        "x = passes over the files per timed run; docx 'pages' are documents; RSS = peak of the process tree; "
        "CPU s = CPU time of the whole child run;\nload s = import + one untimed warm-up extraction; "
        "other% = most CPU used by other processes on the machine during a repeat; "
        "CER-sp = CER after removing spaces between CJK characters"
    )


def print_cold(cold: dict) -> None:
    """Cold one-shot command lines."""
    if not cold:
        return
    print(f"\n{'cold one-shot command (median of runs)':<45} {'seconds':>8} {'RSS MB':>7} {'other%':>6}  exit codes")
    for label, data in cold.items():
        print(
            f"{label:<45} {data['median_seconds']:>8.3f} {data['peak_rss_mb']:>7.0f} "
            f"{data.get('foreign_cpu_percent', 0):>6.0f}  {data['exit_codes']}"
        )


def goal_ratios(rows: list[dict], cold: dict) -> dict[str, dict]:
    """The four goal ratios (and their companions), each with its goal and whether it is met."""
    ek = _find(rows, "born-digital", "extractkit").get("pages_per_second")
    ratios = {
        "born_digital_vs_tika": _ratio(ek, _find(rows, "born-digital", "tika-app (warm)").get("pages_per_second")),
        "born_digital_vs_extractous": _ratio(ek, _find(rows, "born-digital", "extractous").get("pages_per_second")),
        "ocr_page_time_vs_tesseract": _ratio(
            _find(rows, "scanned-pdf", "pdftoppm+tesseract").get("pages_per_second"),
            _find(rows, "scanned-pdf", "extractkit").get("pages_per_second"),
        ),
        "ocr_page_time_vs_tesseract_png": _ratio(
            _find(rows, "scanned-png", "tesseract").get("pages_per_second"),
            _find(rows, "scanned-png", "extractkit").get("pages_per_second"),
        ),
        "two_workers_vs_one": _ratio(
            _find(rows, "pool-scanned", "extractkit pool=2").get("pages_per_second"),
            _find(rows, "pool-scanned", "extractkit pool=1").get("pages_per_second"),
        ),
        "two_workers_vs_one_born_digital": _ratio(
            _find(rows, "pool-born-digital", "extractkit pool=2").get("pages_per_second"),
            _find(rows, "pool-born-digital", "extractkit pool=1").get("pages_per_second"),
        ),
        "two_workers_vs_one_raw_tesseract_ceiling": _ratio(
            _find(rows, "pool-scanned", "pdftoppm+tess pool=2").get("pages_per_second"),
            _find(rows, "pool-scanned", "pdftoppm+tess pool=1").get("pages_per_second"),
        ),
        "cold_start_seconds": cold.get("extractkit extract small.pdf", {}).get("median_seconds"),
    }
    result = {}
    for name, value in ratios.items():
        base = GOALS.get(name)
        lower_is_better = name.startswith(("ocr_page_time", "cold_start"))
        met = None if value is None or base is None else (value <= base if lower_is_better else value >= base)
        result[name] = {"value": value, "goal": base, "lower_is_better": lower_is_better, "met": met}
    return result


def print_goals(rows: list[dict], cold: dict) -> dict[str, dict]:
    """Print the goal ratios; return them for the JSON report."""
    ratios = goal_ratios(rows, cold)
    print("\nGoals")
    for name, data in ratios.items():
        value = "n/a" if data["value"] is None else f"{data['value']:.3f}"
        goal = "" if data["goal"] is None else f"{'<=' if data['lower_is_better'] else '>='} {data['goal']}"
        verdict = {True: "met", False: "MISSED", None: "not measured" if data["goal"] else "(context)"}[data["met"]]
        print(f"  {name:<36} {value:>8}  goal {goal:<8} {verdict}")
    return ratios
