"""Digits inside CJK lines read once more with the Latin model, from their own cut-outs.

``-l jpn+eng`` gives a number set inside a Japanese line to the ``jpn`` model, which reads
``第2024-118号`` as ``第2924-118号`` at a word confidence of about 40; the ``eng`` model reads the
same glyphs right and sure, but only when it sees them alone: over the word's box it takes in the
kanji beside them (Tesseract's CJK word boxes are off by half a character). So each suspect run
(:func:`.digit_runs.find_digit_runs`) is cut out of the page by its ink: across the line's band,
the stretch of narrow glyphs (digits, separators; a CJK glyph is about as wide as the line is
high) that overlaps the run's words. The cut-outs are stacked into one strip, padded with white
as the look-alike strip is (:data:`.lookalikes.PADDING_EM`), and read once with ``eng`` alone; a
run changes only where :func:`.digit_runs.accepted_reading` accepts its re-reading. One extra
tesseract pass, and only on pages that have such runs.
"""

from __future__ import annotations

import bisect
import statistics
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from .digit_runs import DigitRun, apply_rereads, find_digit_runs
from .lookalikes import PADDING_EM, padded_cell, stacked_cells
from .ocr_text import ink_mask

if TYPE_CHECKING:
    from collections.abc import Sequence

    from PIL import Image

    from .ocr import OcrResult
    from .ocr_text import TsvLine

#: Glyphs at least this share of the line's tallest (its CJK glyphs) are full height; CJK glyphs end
#: below the Latin baseline, digits (about 0.7 of it) end at least SITS_ABOVE of it higher; glyphs
#: lower than SEPARATOR_HEIGHT of it are separators (``-`` ``,`` ``.`` ``:``). No digit or separator
#: is NARROW or more of it wide (digits are about 0.45; ``¥`` is 0.7, a long-vowel mark ``ー`` 0.9).
FULL_HEIGHT = 0.9
SITS_ABOVE = 0.08
SEPARATOR_HEIGHT = 0.5
NARROW = 0.6
#: Glyphs closer than this (of the CJK glyph height) belong to one stretch; a wider gap is a space.
STRETCH_GAP_EM = 0.5
#: A column of the band holds a glyph when it has this many ink pixels (a thin hyphen at 200 dpi has one).
MIN_COLUMN_INK = 1
#: The languages whose models misread digits, and the model that re-reads them.
CJK_MODELS = ("jpn", "chi_sim", "chi_tra", "kor")
LATIN_MODEL = "eng"

Glyph = tuple[int, int, int, int]  # left, top, right, bottom (page pixels) of a run of inked columns


def _extent(line: TsvLine) -> tuple[int, int, int, int]:
    """The line's box (left, top, right, bottom) from its words' boxes."""
    return (
        min(box[0] for box in line.boxes),
        min(box[1] for box in line.boxes),
        max(box[0] + box[2] for box in line.boxes),
        max(box[1] + box[3] for box in line.boxes),
    )


def glyphs(page: Image.Image, box: tuple[int, int, int, int]) -> list[Glyph]:
    """Runs of columns holding ink across ``box`` (left, top, right, bottom), each with its ink's top and bottom.

    The box is binarised as the space measurement does (:data:`.ocr_text.INK_LEVEL` of the way
    from its paper to its ink level); nothing is found in a box with no contrast.
    """
    from PIL import Image as PILImage

    inked = ink_mask(page, box)
    if inked is None:
        return []
    width, height = inked.size
    profile = inked.resize((width, 1), PILImage.Resampling.BOX).tobytes()
    columns = [value * height >= 255 * MIN_COLUMN_INK - 0.5 * height for value in profile]
    found, start = [], None
    for x, on in enumerate([*columns, False]):
        if on and start is None:
            start = x
        elif not on and start is not None:
            bbox = inked.crop((start, 0, x, height)).getbbox()
            if bbox:
                found.append((box[0] + start, box[1] + bbox[1], box[0] + x, box[1] + bbox[3]))
            start = None
    return found


def digit_stretches(found: Sequence[Glyph]) -> list[tuple[int, int]]:
    """The stretches (left, right) of a line's glyphs that sit on the Latin baseline: digits and separators.

    The line's CJK glyphs (the full-height ones) set the scale and the bottom; a glyph that ends
    clearly above that bottom, or is low (a separator), may be a digit; a stretch holds at least
    one full digit. A line without CJK glyphs has no stretch: nothing tells digits from letters.
    """
    heights = sorted(bottom - top for _, top, _, bottom in found)
    if not heights:
        return []
    em = heights[int(0.9 * (len(heights) - 1))]
    full = [bottom for _, top, _, bottom in found if bottom - top >= FULL_HEIGHT * em]
    cjk_bottom = sorted(full)[len(full) // 2]
    stretches: list[list[Glyph]] = [[]]
    digits: list[bool] = [False]
    for glyph in found:
        left, top, right, bottom = glyph
        low = bottom - top < SEPARATOR_HEIGHT * em
        digit = not low and bottom - top < FULL_HEIGHT * em and bottom <= cjk_bottom - SITS_ABOVE * em
        if not (low or digit) or right - left >= NARROW * em:
            stretches.append([])
            digits.append(False)
            continue
        if stretches[-1] and left - stretches[-1][-1][2] >= STRETCH_GAP_EM * em:
            stretches.append([])
            digits.append(False)
        stretches[-1].append(glyph)
        digits[-1] = digits[-1] or digit
    return [(part[0][0], part[-1][2]) for part, digit in zip(stretches, digits, strict=True) if part and digit]


def run_cut(page: Image.Image, line: TsvLine, run: DigitRun) -> tuple[int, int, int, int] | None:
    """Where the run's glyphs are: the digit stretch of its line overlapping its words most; None when none does."""
    if len(line.boxes) != len(line.words):
        return None
    left, top, right, bottom = _extent(line)
    words = line.boxes[run.first : run.last + 1]
    first, last = min(box[0] for box in words), max(box[0] + box[2] for box in words)
    best, overlap = None, 0
    for start, end in digit_stretches(glyphs(page, (left, top, right, bottom))):
        shared = min(last, end) - max(first, start)
        if shared > overlap:
            best, overlap = (start, top, end, bottom), shared
    return best


def digit_strip(
    page: Image.Image, cuts: Sequence[tuple[int, int, int, int]], em: float
) -> tuple[Image.Image, list[int]]:
    """The cut-outs stacked top to bottom on white, padded by :data:`PADDING_EM` of ``em``; where each cell starts."""
    pad = round(PADDING_EM * em)
    return stacked_cells([padded_cell(page.crop(cut).convert("L"), pad) for cut in cuts])


def cell_readings(strip_lines: Sequence[TsvLine], tops: Sequence[int]) -> list[tuple[str, float]]:
    """Each cell's text and the least confidence of its words with digits (0 where none), by the lines' positions.

    A currency sign or bracket read apart from the digits can come at a low confidence of its own;
    the evidence is the digits'.
    """
    texts, confidences = [""] * len(tops), [[] for _ in tops]
    for line in strip_lines:
        if not line.boxes:
            continue
        cell = bisect.bisect_right(tops, line.boxes[0][1] + line.boxes[0][3] / 2) - 1
        if 0 <= cell < len(tops):
            texts[cell] += "".join(word for word, _ in line.words)
            confidences[cell] += [conf for word, conf in line.words if conf >= 0 and any(c.isdigit() for c in word)]
    return [(text, min(found, default=0.0)) for text, found in zip(texts, confidences, strict=True)]


def reread_digits(result: OcrResult, page: Image.Image, dpi: int, *, deadline: float, name: str) -> OcrResult:
    """The reading with the digit runs that the ``eng`` model re-reads confidently, in the same shape, put in."""
    from .ocr import PSM_BLOCK, recognise, result_from_lines
    from .osd import language_list
    from .tesseract_cli import installed_languages

    if result.rotation or result.vertical or not set(CJK_MODELS) & set(language_list(result.languages)):
        return result
    runs, cuts = [], []
    for run in find_digit_runs(result.lines):
        if cut := run_cut(page, result.lines[run.line], run):
            runs.append(run)
            cuts.append(cut)
    if not runs or LATIN_MODEL not in installed_languages():
        return result
    em = statistics.median(cut[3] - cut[1] for cut in cuts)
    strip, tops = digit_strip(page, cuts, em)
    with tempfile.TemporaryDirectory(prefix="extractkit-ocr-") as workdir:
        strip_path = Path(workdir) / "digits.tif"
        strip.save(strip_path, format="TIFF")
        second = recognise(strip_path, LATIN_MODEL, PSM_BLOCK, dpi, deadline=deadline, name=name, page=strip)
    lines, changed = apply_rereads(result.lines, runs, cell_readings(second.lines, tops))
    if not changed:
        return result
    fixed = result_from_lines(lines, result.languages, page=page)
    return replace(result, text=fixed.text, lines=fixed.lines, characters=fixed.characters)
