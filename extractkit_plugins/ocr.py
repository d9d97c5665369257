"""Tesseract OCR through its command line, shared by the PDF and image extractors.

One page costs one ``tesseract`` run in the common case: the upright pass (``--psm 3`` with
the configured languages). Only when that pass reads poorly (mean confidence below
:data:`GOOD_CONFIDENCE`) are the alternatives tried, and the best one is kept:

* orientation: ``--psm 0`` (OSD) says how far the page is turned; the image is rotated
  upright and read again. OSD that finds too few characters is ignored;
* vertical Japanese (tategaki): when the languages include ``jpn``, a ``jpn_vert`` pass with
  ``--psm 5`` reads columns top to bottom, right to left, in reading order.

Confidence is Tesseract's mean word confidence on its own 0-100 scale (entries of -1 are
ignored). Every child runs with ``OMP_THREAD_LIMIT=1`` in its own process group, which is
killed when the timeout passes.
"""

from __future__ import annotations

import csv
import io
import os
import re
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from extractkit.errors import ConfigError, CorruptDocument, ExtractionTimeout
from extractkit.models import ExtractOptions
from extractkit.normalize import remove_cjk_spaces

if TYPE_CHECKING:
    from PIL import Image

ENGINE = "tesseract"
TESSERACT = "tesseract"

#: Mean word confidence (0-100) from which the upright pass is trusted without alternatives.
GOOD_CONFIDENCE = 70.0
#: Page segmentation modes: automatic layout, and a single block of vertical text.
PSM_AUTO = 3
PSM_VERTICAL = 5
PSM_OSD_ONLY = 0
#: The DPI assumed for an image that does not say, and the range an image's own DPI must fall in.
DEFAULT_DPI = 300
DPI_RANGE = (70, 2400)
#: A4's long side in inches, to estimate the DPI of a page image that carries none.
A4_LONG_SIDE_INCHES = 11.69
#: An OSD rotation is tried only from this orientation confidence upwards.
MIN_OSD_CONFIDENCE = 1.0

_ROTATE = re.compile(r"^Rotate:\s*(\d+)", re.MULTILINE)
_ORIENTATION_CONFIDENCE = re.compile(r"^Orientation confidence:\s*([\d.]+)", re.MULTILINE)
#: Tesseract also spaces digits off from the kana and kanji around them ("2024 年"); Japanese does not.
_DIGIT_CJK_SPACE = re.compile(
    r"(?<=[0-9]) +(?=[\u3000-\u9fff\uff00-\uffef])|(?<=[\u3000-\u9fff\uff00-\uffef]) +(?=[0-9])"
)
_UNREADABLE = ("Error in pix", "cannot be read", "Unsupported image type", "Error during processing")


@dataclass(frozen=True)
class OcrResult:
    """The text Tesseract read from one image.

    ``confidence`` is the mean word confidence on a 0-100 scale (``None`` when no word was
    read). ``rotation`` is how many degrees clockwise the image was turned before reading;
    ``vertical`` says the text was read as vertical Japanese.
    """

    text: str
    confidence: float | None
    languages: str
    engine: str = ENGINE
    rotation: int = 0
    vertical: bool = False
    characters: int = 0

    @property
    def score(self) -> float:
        """Mean confidence, or 0 when nothing was read."""
        return self.confidence or 0.0


def child_environment() -> dict[str, str]:
    """The environment for a tesseract child: the parent's, with OpenMP held to one thread."""
    return {**os.environ, "OMP_THREAD_LIMIT": "1"}


def estimate_dpi(width: int, height: int, stated: float | None = None) -> int:
    """The DPI to tell tesseract: the image's own when sane, else a guess from an A4 page's size."""
    low, high = DPI_RANGE
    if stated and low <= stated <= high:
        return round(stated)
    guess = max(width, height) / A4_LONG_SIDE_INCHES
    return int(min(DEFAULT_DPI, max(96, guess)))


def language_list(languages: str) -> list[str]:
    """Split a Tesseract language string (``jpn+eng``) into its parts."""
    return [part for part in languages.split("+") if part]


def ocr_image(
    image: Image.Image,
    options: ExtractOptions,
    *,
    dpi: int | None = None,
    languages: str | None = None,
    name: str = "image",
) -> OcrResult:
    """OCR a decoded Pillow image; it is written to a private temporary file that is always deleted."""
    if dpi is None:
        stated = image.info.get("dpi", (None,))[0]
        dpi = estimate_dpi(image.width, image.height, float(stated) if stated else None)
    with tempfile.TemporaryDirectory(prefix="extractkit-ocr-") as workdir:
        fd, path = tempfile.mkstemp(suffix=".png", dir=workdir)
        with os.fdopen(fd, "wb") as handle:
            image.save(handle, format="PNG", compress_level=1)
        return ocr_image_file(Path(path), options, dpi=dpi, languages=languages, name=name, image=image)


def ocr_image_file(
    path: Path,
    options: ExtractOptions,
    *,
    dpi: int,
    languages: str | None = None,
    name: str = "image",
    image: Image.Image | None = None,
) -> OcrResult:
    """OCR an image file tesseract can read (PNG written by us), trying alternatives when it reads poorly.

    ``image`` is the same picture already decoded, used to rotate it when OSD asks for it.
    Raises :class:`ExtractionTimeout` past ``options.ocr_timeout`` seconds (for all passes
    together) and :class:`CorruptDocument` when tesseract cannot read the image.
    """
    languages = languages or options.ocr_languages
    deadline = time.monotonic() + options.ocr_timeout
    upright = recognise(path, languages, PSM_AUTO, dpi, deadline=deadline, name=name)
    if upright.score >= GOOD_CONFIDENCE or upright.characters == 0:
        return upright
    candidates = [upright]
    if options.detect_orientation:
        rotation = detect_rotation(path, dpi, deadline=deadline, name=name)
        if rotation:
            candidates.append(_recognise_rotated(path, image, rotation, languages, dpi, deadline, name))
    if options.vertical_japanese and "jpn" in language_list(languages):
        vertical = recognise(path, "jpn_vert", PSM_VERTICAL, dpi, deadline=deadline, name=name)
        candidates.append(replace(vertical, vertical=True))
    return best_result(candidates)


def best_result(candidates: list[OcrResult]) -> OcrResult:
    """Keep the most confident reading among those that read a fair share of the characters.

    A reading with fewer than half the characters of the most prolific one is discounted in
    proportion, so a confident reading of three characters cannot beat a whole page.
    """
    most = max(candidate.characters for candidate in candidates) or 1

    def weight(candidate: OcrResult) -> float:
        coverage = min(1.0, candidate.characters / (0.5 * most))
        return candidate.score * coverage

    return max(candidates, key=weight)


def _recognise_rotated(
    path: Path,
    image: Image.Image | None,
    rotation: int,
    languages: str,
    dpi: int,
    deadline: float,
    name: str,
) -> OcrResult:
    from PIL import Image as PILImage

    with tempfile.TemporaryDirectory(prefix="extractkit-ocr-") as workdir:
        rotated_path = Path(workdir) / "rotated.png"
        if image is None:
            with PILImage.open(path, formats=["PNG"]) as original:
                original.rotate(-rotation, expand=True).save(rotated_path, compress_level=1)
        else:
            image.rotate(-rotation, expand=True).save(rotated_path, compress_level=1)
        result = recognise(rotated_path, languages, PSM_AUTO, dpi, deadline=deadline, name=name)
    return replace(result, rotation=rotation)


def recognise(path: Path, languages: str, psm: int, dpi: int, *, deadline: float, name: str = "image") -> OcrResult:
    """One tesseract pass over ``path``: text and mean confidence from its TSV output."""
    args = [TESSERACT, str(path), "stdout", "-l", languages, "--psm", str(psm), "--dpi", str(dpi), "tsv"]
    completed = run_tesseract(args, deadline=deadline, name=name)
    if completed.returncode != 0:
        _raise_for_failure(completed.stderr, languages, name)
    text, confidence, characters = parse_tsv(completed.stdout)
    return OcrResult(text=text, confidence=confidence, languages=languages, characters=characters)


def detect_rotation(path: Path, dpi: int, *, deadline: float, name: str = "image") -> int:
    """Degrees clockwise that turn the page upright according to OSD; 0 when OSD cannot tell."""
    args = [TESSERACT, str(path), "stdout", "-l", "osd", "--psm", str(PSM_OSD_ONLY), "--dpi", str(dpi)]
    completed = run_tesseract(args, deadline=deadline, name=name)
    if completed.returncode != 0:
        return 0  # "Too few characters": OSD has nothing to go on, read the page as it is
    rotate = _ROTATE.search(completed.stdout)
    confidence = _ORIENTATION_CONFIDENCE.search(completed.stdout)
    if rotate is None or confidence is None or float(confidence.group(1)) < MIN_OSD_CONFIDENCE:
        return 0
    degrees = int(rotate.group(1)) % 360
    return degrees if degrees in (90, 180, 270) else 0


def run_tesseract(args: list[str], *, deadline: float, name: str = "image") -> subprocess.CompletedProcess[str]:
    """Run tesseract in its own process group; kill the whole group when the deadline passes."""
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise ExtractionTimeout(f"{name}: OCR ran out of time; raise ocr_timeout or lower ocr_dpi")
    try:
        process = subprocess.Popen(
            args,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            env=child_environment(),
            start_new_session=True,
            text=True,
            encoding="utf-8",
            errors="replace",
        )
    except FileNotFoundError as exc:
        raise ConfigError("ocr", f"the '{TESSERACT}' command is not installed (apt-get install tesseract-ocr)") from exc
    try:
        stdout, stderr = process.communicate(timeout=remaining)
    except subprocess.TimeoutExpired:
        _kill_group(process)
        raise ExtractionTimeout(
            f"{name}: tesseract took longer than the OCR timeout and was stopped; raise ocr_timeout or lower ocr_dpi"
        ) from None
    except BaseException:
        _kill_group(process)
        raise
    return subprocess.CompletedProcess(args, process.returncode, stdout, stderr)


def _kill_group(process: subprocess.Popen[str]) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    process.communicate()


def _raise_for_failure(stderr: str, languages: str, name: str) -> None:
    if "Failed loading language" in stderr or "Error opening data file" in stderr:
        raise ConfigError(
            "ocr_languages",
            f"tesseract has no traineddata for '{languages}'; install the language pack or change the setting",
        )
    if any(marker in stderr for marker in _UNREADABLE):
        raise CorruptDocument(f"{name}: tesseract cannot read the image; the file is damaged or not a picture")
    last_line = stderr.strip().splitlines()[-1] if stderr.strip() else "no message"
    raise CorruptDocument(f"{name}: tesseract failed ({last_line}); check that the file opens in an image viewer")


def parse_tsv(tsv: str) -> tuple[str, float | None, int]:
    """Text, mean word confidence (0-100, ``None`` without words) and character count from TSV output.

    Words join with spaces, lines with newlines and paragraphs with a blank line; spaces
    Tesseract puts between CJK characters, or between a digit and a CJK character, are removed.
    """
    lines: list[str] = []
    words: list[str] = []
    confidences: list[float] = []
    current_line: tuple[str, ...] | None = None
    current_paragraph: tuple[str, ...] | None = None
    reader = csv.DictReader(io.StringIO(tsv), delimiter="\t", quoting=csv.QUOTE_NONE)
    for row in reader:
        word = (row.get("text") or "").strip()
        if row.get("level") != "5" or not word:
            continue
        paragraph = (row["page_num"], row["block_num"], row["par_num"])
        line = (*paragraph, row["line_num"])
        if line != current_line:
            if words:
                lines.append(" ".join(words))
            if current_paragraph is not None and paragraph != current_paragraph:
                lines.append("")
            words, current_line, current_paragraph = [], line, paragraph
        words.append(word)
        confidence = float(row["conf"])
        if confidence >= 0:
            confidences.append(confidence)
    if words:
        lines.append(" ".join(words))
    text = _DIGIT_CJK_SPACE.sub("", remove_cjk_spaces("\n".join(lines)))
    characters = sum(1 for char in text if not char.isspace())
    confidence = round(sum(confidences) / len(confidences), 2) if confidences else None
    return text, confidence, characters
