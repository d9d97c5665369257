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
import tempfile
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from extractkit.models import ExtractOptions
from extractkit.normalize import is_cjk

from .digit_reread import reread_digits
from .lookalikes import Suspect, apply_confirmed, find_suspects, readings_by_cell, suspect_strip
from .ocr_text import TsvLine, keeps_confident_words, lines_to_text
from .osd import AUTO, auto_languages, detect_rotation, language_list
from .page_prep import ink_before_lines, page_resolution, skew_angle, upscale_factor, upscaled
from .phantom_words import drop_phantom_words
from .tesseract_cli import TESSERACT, child_environment, raise_for_failure, run_tesseract

if TYPE_CHECKING:
    from PIL import Image

ENGINE = "tesseract"

#: Mean word confidence (0-100) from which the upright pass is trusted without alternatives.
GOOD_CONFIDENCE = 70.0
#: A reading that left ink before a line is checked against a uniform-block reading, which wins
#: with more text at no more than CONFIDENCE_SLACK less confidence.
CONFIDENCE_SLACK = 3.0
#: Page segmentation modes: automatic layout, a uniform block, a block of vertical text.
PSM_AUTO = 3
PSM_BLOCK = 6
PSM_VERTICAL = 5
#: The DPI assumed for an image that does not say, and the range an image's own DPI must fall in.
DEFAULT_DPI = 300
DPI_RANGE = (70, 2400)
#: Languages whose pages are read again, denoised, when another model turned lines into gibberish.
CJK_LANGUAGES = ("jpn", "chi_sim", "chi_tra", "kor")
GIBBERISH_CONFIDENCE = 40.0

__all__ = [
    "OcrResult",
    "TsvLine",
    "child_environment",
    "detect_rotation",
    "language_list",
    "lines_to_text",
    "ocr_image",
    "ocr_image_file",
    "parse_tsv_lines",
    "skew_angle",
]


@dataclass(frozen=True)
class OcrResult:
    """The text Tesseract read from one image.

    ``confidence`` is the mean word confidence on a 0-100 scale (``None`` when no word was
    read). ``rotation`` is how many degrees clockwise the image was turned before reading,
    ``deskew`` the small counter-clockwise correction of a skewed scan; ``vertical`` says the
    text was read as vertical Japanese. ``upscale`` is how much a page with small text was
    enlarged before reading; ``script`` the script OSD found when the languages were ``auto``.
    """

    text: str
    confidence: float | None
    languages: str
    engine: str = ENGINE
    rotation: int = 0
    vertical: bool = False
    characters: int = 0
    deskew: float = 0.0
    upscale: float = 1.0
    script: str | None = None
    lines: tuple[TsvLine, ...] = field(default=(), repr=False, compare=False)

    @property
    def score(self) -> float:
        """Mean confidence, or 0 when nothing was read."""
        return self.confidence or 0.0


def estimate_dpi(stated: float | None = None) -> int:
    """The DPI to tell tesseract: the image's own when sane, else 300 (a document scan's usual).

    Tesseract reads about as well at any stated DPI; what matters is that it is told one,
    instead of guessing from the text size and warning.
    """
    low, high = DPI_RANGE
    if stated and low <= stated <= high:
        return round(stated)
    return DEFAULT_DPI


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

    rendered_dpi = dpi  # known when the caller rendered the page (a PDF); a file's stated DPI may be wrong
    if dpi is None:
        stated = image.info.get("dpi", (None,))[0]
        dpi = estimate_dpi(float(stated) if stated else None)
    if image.mode != "L":
        image = image.convert("L")  # tesseract reads grey anyway; one byte a pixel keeps the file small
    skew = skew_angle(image)
    if skew:
        image = image.rotate(skew, resample=PILImage.Resampling.BICUBIC, expand=True, fillcolor=255)
    if (resolution := page_resolution(image, dpi)) < dpi:  # a stated DPI the page's text size belies gives way
        dpi, rendered_dpi = resolution, rendered_dpi and resolution
    factor = upscale_factor(image, rendered_dpi)
    if factor > 1.0:
        image = upscaled(image, factor)
        dpi = round(dpi * factor)
    with tempfile.TemporaryDirectory(prefix="extractkit-ocr-") as workdir:
        fd, path = tempfile.mkstemp(suffix=".tif", dir=workdir)
        with os.fdopen(fd, "wb") as handle:
            image.save(handle, format="TIFF")  # uncompressed: written and read far faster than PNG
        started = time.monotonic()
        result = ocr_image_file(Path(path), options, dpi=dpi, languages=languages, name=name, image=image)
    deadline = started + options.ocr_timeout
    result = confirm_lookalikes(result, image, dpi, deadline=deadline, name=name)
    result = reread_digits(result, image, dpi, deadline=deadline, name=name)
    return replace(result, deskew=skew, upscale=round(factor, 2))


def confirm_lookalikes(result: OcrResult, image: Image.Image, dpi: int, *, deadline: float, name: str) -> OcrResult:
    """Fix look-alike confusions that a second, CJK-only reading of the suspect glyphs confirms.

    One extra tesseract pass over a small strip, and only on pages with suspects
    (see :mod:`.lookalikes`); rotated and vertical readings are left as they are. Item numerals
    that open a line get a strip of their own (a second pass): the reading of such a lone stroke
    leans on what else the strip holds.
    """
    if result.rotation or result.vertical or "jpn" not in language_list(result.languages):
        return result
    found = find_suspects(result.lines)
    if not found:
        return result
    suspects, readings = [], []
    for group in ([s for s in found if s.item], [s for s in found if not s.item]):
        if group:
            suspects += group
            readings += _read_strip(image, result.lines, group, dpi, deadline=deadline, name=name)
    lines, changed = apply_confirmed(result.lines, suspects, readings)
    if not changed:
        return result
    fixed = result_from_lines(lines, result.languages, page=image)
    return replace(result, text=fixed.text, lines=fixed.lines)


def _read_strip(
    image: Image.Image, lines: tuple[TsvLine, ...], suspects: list[Suspect], dpi: int, *, deadline: float, name: str
) -> list[str]:
    """The CJK-only reading of each suspect's cut-out, from one pass over their strip."""
    strip, tops = suspect_strip(image, lines, suspects)
    with tempfile.TemporaryDirectory(prefix="extractkit-ocr-") as workdir:
        strip_path = Path(workdir) / "suspects.tif"
        strip.save(strip_path, format="TIFF")
        second = recognise(strip_path, "jpn", PSM_BLOCK, dpi, deadline=deadline, name=name, page=strip)
    return readings_by_cell(list(second.lines), tops)


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
    script = None
    if languages == AUTO:
        languages, script = auto_languages(path, dpi, deadline=deadline, name=name)
        upright = recognise(path, languages, PSM_AUTO, dpi, deadline=deadline, name=name, page=image)
        return replace(_alternatives(upright, path, options, languages, dpi, deadline, name, image), script=script)
    upright = recognise(path, languages, PSM_AUTO, dpi, deadline=deadline, name=name, page=image)
    return _alternatives(upright, path, options, languages, dpi, deadline, name, image)


def _alternatives(
    upright: OcrResult,
    path: Path,
    options: ExtractOptions,
    languages: str,
    dpi: int,
    deadline: float,
    name: str,
    image: Image.Image | None,
) -> OcrResult:
    """The upright reading, or a better one (rotated, vertical, denoised) when it reads poorly.

    A reading that left ink just before the start of a line (the layout pass dropped a column of
    item numbers, say) is compared with a uniform-block reading (``--psm 6``); the block reading
    is kept when it has more text at about the same confidence and loses fewer confidently read
    characters than it gains (:func:`.ocr_text.keeps_confident_words`). Whether the page reads
    poorly is the layout pass's verdict: read as a uniform block, a page of vertical columns gives
    real characters in the wrong order at a fair confidence.
    """
    reads_poorly = upright.score < GOOD_CONFIDENCE
    if upright.characters and image is not None and not upright.vertical:
        starts = [(*line.boxes[0][:3], max(box[3] for box in line.boxes)) for line in upright.lines if line.boxes]
        if ink_before_lines(image, starts):
            block = recognise(path, languages, PSM_BLOCK, dpi, deadline=deadline, name=name, page=image)
            more = block.characters > upright.characters and block.score >= upright.score - CONFIDENCE_SLACK
            if more and keeps_confident_words(upright.lines, block.lines, block.characters - upright.characters):
                upright = block
    if not reads_poorly or upright.characters == 0:
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
        raise_for_failure(completed.stderr, languages, name)
    lines = parse_tsv_lines(completed.stdout)
    if page is None and any(is_cjk(char) for line in lines for word, _ in line.words for char in word):
        page = _open_page(path, None)
    return result_from_lines(drop_phantom_words(lines, page), languages, page=page)


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
