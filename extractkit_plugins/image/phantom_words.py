"""Words an engine reads where the page has no ink of their own: dropped before the text is made.

Tesseract sometimes reads a character into the blank half-cell that Japanese punctuation leaves
(``。金額`` comes out as ``。人金額``, ``、失敗`` as ``、和失敗``), or reads the lower edge of a
line's glyphs as a line of its own (``es`` under ``できます``). Such words have two things in common:
a low confidence, and nothing on the page that belongs to them alone. So a word is dropped only
when both hold:

* **in a line:** its confidence is below :data:`PHANTOM_CONFIDENCE` and the part of its box that its
  neighbours' boxes do not cover is (almost) blank. When the neighbours cover most of its box, the
  page cannot tell whose ink it is, and the word stays;
* **a line of its own:** every word is below :data:`FRAGMENT_CONFIDENCE`, the line is much lower
  than a line it lies inside (:data:`FRAGMENT_HEIGHT`), and that line spans it.

A word read with reasonable confidence is never dropped, however little ink it has.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .ocr_text import Box, TsvLine, ink_mask, line_em, line_extent

if TYPE_CHECKING:
    from PIL import Image

#: Below this confidence (0-100) a word in a line may be a phantom.
PHANTOM_CONFIDENCE = 40.0
#: Below this confidence every word of a fragment line may be a phantom.
FRAGMENT_CONFIDENCE = 60.0
#: Ink pixels over the free part of a word's box below this share: the part is blank.
PHANTOM_INK = 0.02
#: The free part must be at least this share of the word's length for its blankness to count.
FREE_SHARE = 0.3
#: A fragment line is at most this share of the height of the line it lies inside.
FRAGMENT_HEIGHT = 0.6


def drop_phantom_words(lines: list[TsvLine], page: Image.Image | None) -> list[TsvLine]:
    """``lines`` without the words (and fragment lines) that hold no ink of their own."""
    if page is None:
        return lines
    kept = [_without_phantoms(line, page) for index, line in enumerate(lines) if not _is_fragment(index, lines)]
    return [line for line in kept if line.words]


def _without_phantoms(line: TsvLine, page: Image.Image) -> TsvLine:
    """The line without its low-confidence words whose free part is blank; the line's band is binarised once."""
    if len(line.boxes) != len(line.words) or len(line.words) < 2:
        return line
    doubtful = [index for index, (_, confidence) in enumerate(line.words) if 0 <= confidence < PHANTOM_CONFIDENCE]
    if not doubtful:
        return line
    extent = line_extent(line)
    left, top, width, height = extent
    mask = ink_mask(page, (left, top, left + width, top + height))
    phantoms = {index for index in doubtful if _is_blank_of_its_own(line, index, extent, mask)}
    if not phantoms:
        return line
    keep = [index for index in range(len(line.words)) if index not in phantoms]
    return TsvLine(line.paragraph, tuple(line.words[i] for i in keep), tuple(line.boxes[i] for i in keep))


def free_span(line: TsvLine, index: int) -> tuple[int, int]:
    """The part of word ``index``'s box along the line that its neighbours' boxes leave free (start, end)."""
    axis = 1 if line.vertical else 0
    box = line.boxes[index]
    start, end = box[axis], box[axis] + box[2 + axis]
    if index > 0:
        before = line.boxes[index - 1]
        start = max(start, before[axis] + before[2 + axis])
    if index + 1 < len(line.boxes):
        end = min(end, line.boxes[index + 1][axis])
    return start, end


def _is_blank_of_its_own(line: TsvLine, index: int, extent: Box, mask: Image.Image | None) -> bool:
    """True when the free part of the word's box is long enough to judge and holds no ink.

    ``mask`` is the ink mask of the line's ``extent`` (``None`` where the band has no contrast).
    """
    box = line.boxes[index]
    length = box[3] if line.vertical else box[2]
    start, end = free_span(line, index)
    if length <= 0 or end - start < FREE_SHARE * length:
        return False
    left, top, width, height = extent
    region = (left, start, left + width, end) if line.vertical else (start, top, end, top + height)
    return _ink_share(mask, extent, region) < PHANTOM_INK


def _ink_share(mask: Image.Image | None, context: Box, region: tuple[int, int, int, int]) -> float:
    """The share of ink pixels in ``region`` (page pixels) of ``mask``, the ink mask of the ``context`` box.

    Specks of noise (ink with fewer than half of its eight neighbours inked) are not counted.
    """
    if mask is None:
        return 0.0
    from PIL import ImageFilter

    left, top, _, _ = context
    x0, y0, x1, y1 = region
    inner = mask.crop((x0 - left - 1, y0 - top - 1, x1 - left + 1, y1 - top + 1))
    inner = inner.filter(ImageFilter.MedianFilter(3)).crop((1, 1, inner.width - 1, inner.height - 1))
    area = max(1, inner.width * inner.height)
    return inner.histogram()[255] / area


def _is_fragment(index: int, lines: list[TsvLine]) -> bool:
    """True when ``lines[index]`` is a low-confidence line lying inside a much taller line that spans it."""
    line = lines[index]
    if not line.boxes or line.vertical:
        return False
    if any(not 0 <= confidence < FRAGMENT_CONFIDENCE for _, confidence in line.words):
        return False
    left, top, width, height = line_extent(line)
    for position, other in enumerate(lines):
        if position == index or not other.boxes or other.vertical:
            continue
        o_left, o_top, o_width, o_height = line_extent(other)
        inside = o_top <= top and top + height <= o_top + o_height + height / 2
        spans = o_left <= left and left + width <= o_left + o_width
        if inside and spans and height <= FRAGMENT_HEIGHT * line_em(other):
            return True
    return False
