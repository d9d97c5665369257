"""Tesseract OCR through its command line, shared by the PDF and image extractors.

One page costs one ``tesseract`` run in the common case: the upright pass (``--psm 3`` with
the configured languages). Only when that pass reads poorly (mean confidence below
:data:`GOOD_CONFIDENCE`) are the alternatives tried, and the best one is kept:

* orientation: ``--psm 0`` (OSD) says how far the page is turned; the image is rotated
  upright and read again. OSD that finds too few characters is ignored;
* vertical Japanese (tategaki): when the languages include ``jpn``, a ``jpn_vert`` pass with
  ``--psm 5`` reads columns top to bottom, right to left, in reading order.

Before reading, a skewed scan is levelled (projection profile). After reading, a mostly
Japanese page with low-confidence Latin gibberish (the ``eng`` model winning on speckle noise)
is read once more with a median filter, and the better reading is kept.

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
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from extractkit.errors import ConfigError, CorruptDocument, ExtractionTimeout
from extractkit.models import ExtractOptions
from extractkit.normalize import is_cjk

from .ocr_text import TsvLine, lines_to_text

if TYPE_CHECKING:
    from PIL import Image

ENGINE = "tesseract"
TESSERACT = "tesseract"

#: Mean word confidence (0-100) from which the upright pass is trusted without alternatives.
GOOD_CONFIDENCE = 70.0
#: Page segmentation modes: automatic layout, a block of vertical text, OSD only.
PSM_AUTO = 3
PSM_VERTICAL = 5
PSM_OSD_ONLY = 0
#: The DPI assumed for an image that does not say, and the range an image's own DPI must fall in.
DEFAULT_DPI = 300
DPI_RANGE = (70, 2400)
#: Deskewing: the widest angle searched, the smallest one corrected, the profile gain that
#: makes an angle believable, and the width the page is reduced to for the search.
MAX_SKEW = 4.0
MIN_SKEW = 0.3
SKEW_GAIN = 1.1
SKEW_SAMPLE_WIDTH = 400
#: An OSD rotation is tried only from this orientation confidence upwards.
MIN_OSD_CONFIDENCE = 1.0
#: Languages whose pages are read again, denoised, when another model turned lines into gibberish.
CJK_LANGUAGES = ("jpn", "chi_sim", "chi_tra", "kor")
GIBBERISH_CONFIDENCE = 40.0

__all__ = ["OcrResult", "TsvLine", "lines_to_text", "ocr_image", "ocr_image_file", "parse_tsv_lines"]

_ROTATE = re.compile(r"^Rotate:\s*(\d+)", re.MULTILINE)
_ORIENTATION_CONFIDENCE = re.compile(r"^Orientation confidence:\s*([\d.]+)", re.MULTILINE)
_UNREADABLE = ("Error in pix", "cannot be read", "Unsupported image type", "Error during processing")


@dataclass(frozen=True)
class OcrResult:
    """The text Tesseract read from one image.

    ``confidence`` is the mean word confidence on a 0-100 scale (``None`` when no word was
    read). ``rotation`` is how many degrees clockwise the image was turned before reading,
    ``deskew`` the small counter-clockwise correction of a skewed scan; ``vertical`` says the
    text was read as vertical Japanese.
    """

    text: str
    confidence: float | None
    languages: str
    engine: str = ENGINE
    rotation: int = 0
    vertical: bool = False
    characters: int = 0
    deskew: float = 0.0
    lines: tuple[TsvLine, ...] = field(default=(), repr=False, compare=False)

    @property
    def score(self) -> float:
        """Mean confidence, or 0 when nothing was read."""
        return self.confidence or 0.0


def child_environment() -> dict[str, str]:
    """The environment for a tesseract child: the parent's, with OpenMP held to one thread."""
    return {**os.environ, "OMP_THREAD_LIMIT": "1"}


def estimate_dpi(stated: float | None = None) -> int:
    """The DPI to tell tesseract: the image's own when sane, else 300 (a document scan's usual).

    Tesseract reads about as well at any stated DPI; what matters is that it is told one,
    instead of guessing from the text size and warning.
    """
    low, high = DPI_RANGE
    if stated and low <= stated <= high:
        return round(stated)
    return DEFAULT_DPI


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
    """OCR a decoded Pillow image, in grey and deskewed, from a private temporary file that is always deleted."""
    from PIL import Image as PILImage

    if dpi is None:
        stated = image.info.get("dpi", (None,))[0]
        dpi = estimate_dpi(float(stated) if stated else None)
    if image.mode != "L":
        image = image.convert("L")  # tesseract reads grey anyway; one byte a pixel keeps the file small
    skew = skew_angle(image)
    if skew:
        image = image.rotate(skew, resample=PILImage.Resampling.BICUBIC, expand=True, fillcolor=255)
    with tempfile.TemporaryDirectory(prefix="extractkit-ocr-") as workdir:
        fd, path = tempfile.mkstemp(suffix=".tif", dir=workdir)
        with os.fdopen(fd, "wb") as handle:
            image.save(handle, format="TIFF")  # uncompressed: written and read far faster than PNG
        result = ocr_image_file(Path(path), options, dpi=dpi, languages=languages, name=name, image=image)
    return replace(result, deskew=skew)


def skew_angle(image: Image.Image) -> float:
    """The small counter-clockwise rotation (degrees) that levels a scan's text lines; 0 when unsure.

    Projection profile on a reduced copy: the angle at which row darkness varies most. A coarse
    search, then a fine one around the best; an angle is kept only when it clearly beats 0.
    """
    from PIL import ImageOps

    grey = image if image.mode == "L" else image.convert("L")
    small = ImageOps.invert(grey.reduce(max(1, grey.width // SKEW_SAMPLE_WIDTH)))
    baseline = _row_variance(small, 0.0)
    if baseline <= 0:
        return 0.0
    coarse = max((_row_variance(small, angle), angle) for angle in _angles(-MAX_SKEW, MAX_SKEW, 1.0))
    fine = max((_row_variance(small, angle), angle) for angle in _angles(coarse[1] - 0.75, coarse[1] + 0.75, 0.25))
    best_score, best_angle = max(coarse, fine)
    if abs(best_angle) < MIN_SKEW or best_score < SKEW_GAIN * baseline:
        return 0.0
    return best_angle


def _angles(start: float, stop: float, step: float) -> list[float]:
    return [start + index * step for index in range(round((stop - start) / step) + 1)]


def _row_variance(inverted: Image.Image, angle: float) -> float:
    from PIL import Image as PILImage
    from PIL import ImageStat

    rotated = inverted.rotate(angle, resample=PILImage.Resampling.BILINEAR, fillcolor=0) if angle else inverted
    profile = rotated.resize((1, rotated.height), PILImage.Resampling.BOX)
    return float(ImageStat.Stat(profile).var[0])


def ocr_image_file(
    path: Path,
    options: ExtractOptions,
    *,
    dpi: int,
    languages: str | None = None,
    name: str = "image",
    image: Image.Image | None = None,
) -> OcrResult:
    """OCR an image file tesseract can read, trying alternatives when it reads poorly.

    ``image`` is the same picture already decoded, used to rotate or crop it without reading
    the file again. Raises :class:`ExtractionTimeout` past ``options.ocr_timeout`` seconds (for
    all passes together) and :class:`CorruptDocument` when tesseract cannot read the image.
    """
    languages = languages or options.ocr_languages
    deadline = time.monotonic() + options.ocr_timeout
    upright = recognise(path, languages, PSM_AUTO, dpi, deadline=deadline, name=name, page=image)
    if upright.score >= GOOD_CONFIDENCE or upright.characters == 0:
        return reread_gibberish(upright, path, image, dpi, deadline=deadline, name=name)
    candidates = [upright]
    if options.detect_orientation:
        rotation = detect_rotation(path, dpi, deadline=deadline, name=name)
        if rotation:
            candidates.append(_recognise_rotated(path, image, rotation, languages, dpi, deadline, name))
    if options.vertical_japanese and "jpn" in language_list(languages):
        vertical = recognise(path, "jpn_vert", PSM_VERTICAL, dpi, deadline=deadline, name=name, page=image)
        candidates.append(replace(vertical, vertical=True))
    return reread_gibberish(best_result(candidates), path, image, dpi, deadline=deadline, name=name)


def best_result(candidates: list[OcrResult]) -> OcrResult:
    """Keep the most confident reading among those that read a fair share of the characters.

    A reading with fewer than half the characters of the most prolific one is discounted in
    proportion, so a confident reading of three characters cannot beat a whole page.
    """
    most = max(candidate.characters for candidate in candidates) or 1

    def weight(candidate: OcrResult) -> float:
        return candidate.score * min(1.0, candidate.characters / (0.5 * most))

    return max(candidates, key=weight)


def _open_page(path: Path, image: Image.Image | None) -> Image.Image:
    from PIL import Image as PILImage

    if image is not None:
        return image
    with PILImage.open(path, formats=["TIFF", "PNG"]) as source:
        source.load()
        return source.copy()


def _recognise_rotated(
    path: Path, image: Image.Image | None, rotation: int, languages: str, dpi: int, deadline: float, name: str
) -> OcrResult:
    with tempfile.TemporaryDirectory(prefix="extractkit-ocr-") as workdir:
        rotated_path = Path(workdir) / "rotated.tif"
        rotated = _open_page(path, image).rotate(-rotation, expand=True)
        rotated.save(rotated_path, format="TIFF")
        result = recognise(rotated_path, languages, PSM_AUTO, dpi, deadline=deadline, name=name, page=rotated)
    return replace(result, rotation=rotation)


def recognise(
    path: Path,
    languages: str,
    psm: int,
    dpi: int,
    *,
    deadline: float,
    name: str = "image",
    page: Image.Image | None = None,
) -> OcrResult:
    """One tesseract pass over ``path``: text and mean confidence from its TSV output.

    ``page`` is the same image decoded, for measuring gaps between words (read from ``path`` when
    it is not given and the text has CJK characters).
    """
    args = [TESSERACT, str(path), "stdout", "-l", languages, "--psm", str(psm), "--dpi", str(dpi), "tsv"]
    completed = run_tesseract(args, deadline=deadline, name=name)
    if completed.returncode != 0:
        _raise_for_failure(completed.stderr, languages, name)
    lines = parse_tsv_lines(completed.stdout)
    if page is None and any(is_cjk(char) for line in lines for word, _ in line.words for char in word):
        page = _open_page(path, None)
    return result_from_lines(lines, languages, page=page)


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


def parse_tsv_lines(tsv: str) -> list[TsvLine]:
    """The lines of Tesseract's TSV output that hold words, in reading order, with the words' boxes."""
    words: dict[tuple[str, ...], list[tuple[str, float]]] = {}
    boxes: dict[tuple[str, ...], list[tuple[int, int, int, int]]] = {}
    for row in csv.DictReader(io.StringIO(tsv), delimiter="\t", quoting=csv.QUOTE_NONE):
        word = (row.get("text") or "").strip()
        if row.get("level") == "5" and word:
            key = (row["page_num"], row["block_num"], row["par_num"], row["line_num"])
            words.setdefault(key, []).append((word, float(row["conf"])))
            box = tuple(int(row.get(name) or 0) for name in ("left", "top", "width", "height"))
            boxes.setdefault(key, []).append(box)  # type: ignore[arg-type]
    return [TsvLine(key[:3], tuple(found), tuple(boxes[key])) for key, found in words.items()]


def result_from_lines(
    lines: list[TsvLine] | tuple[TsvLine, ...], languages: str, *, page: Image.Image | None = None
) -> OcrResult:
    """An :class:`OcrResult` with text, mean word confidence (-1 entries ignored) and character count."""
    text = lines_to_text(lines, page)
    confidences = [confidence for line in lines for _, confidence in line.words if confidence >= 0]
    confidence = round(sum(confidences) / len(confidences), 2) if confidences else None
    characters = sum(1 for char in text if not char.isspace())
    return OcrResult(text, confidence, languages, characters=characters, lines=tuple(lines))


def _is_gibberish(word: str, confidence: float) -> bool:
    return 0 <= confidence < GIBBERISH_CONFIDENCE and word.isascii() and any(char.isalpha() for char in word)


def gibberish_words(result: OcrResult) -> int:
    """How many low-confidence, all-ASCII words with letters a reading holds."""
    return sum(1 for line in result.lines for word in line.words if _is_gibberish(*word))


def reread_gibberish(
    result: OcrResult, path: Path, image: Image.Image | None, dpi: int, *, deadline: float, name: str = "image"
) -> OcrResult:
    """Read a mostly CJK page again, denoised, when Latin gibberish shows the ``eng`` model won on noise.

    Speckles make Tesseract's layout analysis merge lines, and the Latin model then wins them
    with nonsense. A 3x3 median filter removes the speckles; the second reading is kept only
    when it has less gibberish and is at least as confident.
    """
    from PIL import ImageFilter

    languages = language_list(result.languages)
    if result.vertical or result.rotation or not result.characters:
        return result
    if not any(language in CJK_LANGUAGES for language in languages):
        return result
    if sum(1 for char in result.text if is_cjk(char)) < 0.5 * result.characters:
        return result
    before = gibberish_words(result)
    if not before:
        return result
    with tempfile.TemporaryDirectory(prefix="extractkit-ocr-") as workdir:
        denoised_path = Path(workdir) / "denoised.tif"
        denoised = _open_page(path, image).filter(ImageFilter.MedianFilter(3))
        denoised.save(denoised_path, format="TIFF")
        second = recognise(denoised_path, result.languages, PSM_AUTO, dpi, deadline=deadline, name=name, page=denoised)
    if gibberish_words(second) < before and second.score >= result.score:
        return replace(second, deskew=result.deskew)
    return result
