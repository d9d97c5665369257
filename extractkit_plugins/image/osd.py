"""Tesseract's orientation and script detection (OSD): how far a page is turned, and which languages read it.

``ocr_languages = "auto"`` picks the languages per page from the script OSD detects, among the
installed language packs (``tesseract --list-langs``): the first installed pack for the script,
plus ``eng`` for the Latin words Japanese and Chinese text carries. A script without an installed
pack falls back to :data:`FALLBACK_LANGUAGES`; such a page then reads with low confidence and is
flagged by the extractor, rather than passing as good text.
"""

from __future__ import annotations

import re
from pathlib import Path

from .tesseract_cli import TESSERACT, installed_languages, run_tesseract

#: Page segmentation mode 0: orientation and script detection only.
PSM_OSD_ONLY = 0
#: An OSD rotation is tried only from this orientation confidence upwards.
MIN_OSD_CONFIDENCE = 1.0
#: ``ocr_languages = "auto"``: languages chosen per page from the script OSD detects, among
#: the installed packs (the first one present), with this fallback.
AUTO = "auto"
FALLBACK_LANGUAGES = "jpn+eng"
SCRIPT_LANGUAGES: dict[str, tuple[str, ...]] = {
    "Japanese": ("jpn",),
    "Han": ("chi_sim", "chi_tra", "jpn"),
    "Hangul": ("kor",),
    "Latin": ("eng",),
    "Cyrillic": ("rus",),
    "Greek": ("ell",),
    "Arabic": ("ara",),
    "Hebrew": ("heb",),
    "Devanagari": ("hin",),
    "Thai": ("tha",),
}
_SCRIPT = re.compile(r"^Script:\s*(\S+)", re.MULTILINE)
_ROTATE = re.compile(r"^Rotate:\s*(\d+)", re.MULTILINE)
_ORIENTATION_CONFIDENCE = re.compile(r"^Orientation confidence:\s*([\d.]+)", re.MULTILINE)


def language_list(languages: str) -> list[str]:
    """Split a Tesseract language string (``jpn+eng``) into its parts."""
    return [part for part in languages.split("+") if part]


def run_osd(path: Path, dpi: int, *, deadline: float, name: str = "image") -> str:
    """Tesseract's orientation and script detection report for the page; empty when it cannot tell."""
    args = [TESSERACT, str(path), "stdout", "-l", "osd", "--psm", str(PSM_OSD_ONLY), "--dpi", str(dpi)]
    completed = run_tesseract(args, deadline=deadline, name=name)
    return completed.stdout if completed.returncode == 0 else ""  # "Too few characters"


def auto_languages(path: Path, dpi: int, *, deadline: float, name: str = "image") -> tuple[str, str | None]:
    """The languages to read a page with, from the script OSD detects; and that script.

    The first installed pack for the script is used, plus ``eng`` for the Latin words that
    Japanese and Chinese text carries. An unknown script, or one without an installed pack, falls
    back to :data:`FALLBACK_LANGUAGES` (the caller flags the page when it then reads poorly).
    """
    report = run_osd(path, dpi, deadline=deadline, name=name)
    found = _SCRIPT.search(report)
    script = found.group(1) if found else None
    installed = installed_languages()
    packs = [pack for pack in SCRIPT_LANGUAGES.get(script or "", ()) if pack in installed][:1]
    if packs and packs[0] != "eng" and "eng" in installed:
        packs.append("eng")
    if not packs:
        packs = [pack for pack in language_list(FALLBACK_LANGUAGES) if pack in installed] or ["eng"]
    return "+".join(packs), script


def detect_rotation(path: Path, dpi: int, *, deadline: float, name: str = "image") -> int:
    """Degrees clockwise that turn the page upright according to OSD; 0 when OSD cannot tell."""
    report = run_osd(path, dpi, deadline=deadline, name=name)
    if not report:
        return 0  # OSD has nothing to go on, read the page as it is
    rotate = _ROTATE.search(report)
    confidence = _ORIENTATION_CONFIDENCE.search(report)
    if rotate is None or confidence is None or float(confidence.group(1)) < MIN_OSD_CONFIDENCE:
        return 0
    degrees = int(rotate.group(1)) % 360
    return degrees if degrees in (90, 180, 270) else 0
