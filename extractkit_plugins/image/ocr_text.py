"""From an OCR engine's words and their boxes to text: spaces and line joins decided by geometry.

Engines put a space between every two "words", and in Japanese a word is often one character,
so most of those spaces are false. A page's real spaces (the full-width space after an item
number, ``五　法第二十五条の二``) differ from the false ones in the page itself, not in the
characters: the white gap between the two boxes is about a character wide. So:

* between two Latin words the engine's space stays, unless the second word's box starts well
  inside the first one's (``support@examp le.com``: one word, split);
* next to CJK text a space is kept only where the page shows a blank gap at least
  :data:`REAL_SPACE_EM` of the line's character size wide. Engines' word boxes for CJK are rough
  (Tesseract's can span three characters), so the gap is measured in the pixels of the line's
  band and given to the nearest word boundary, unless it lies well inside one word's box (a gap
  within that word, as after the ``、`` of ``Word、Excel``). After punctuation such as ``、`` the glyph's own
  cell leaves white, so no space is kept there; between two CJK characters it is U+3000;
* a line that runs to the right margin of the page (the next line's first word would not have
  fit) continues on the next line. Next to CJK text that break is no word boundary and goes;
  a Latin break stays a newline. Vertical columns (tategaki) work the same way along the column.
"""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from extractkit.normalize import is_cjk, joins_without_space

if TYPE_CHECKING:
    from collections.abc import Sequence

    from PIL import Image

#: A blank gap next to CJK text at least this share of the line's character size is a real space.
REAL_SPACE_EM = 0.75
#: A blank run this far (in ems) inside one word's box on both sides is a gap within that word.
INSIDE_WORD_EM = 0.25
#: A pixel is ink when it is darker than paper by this share of the paper-to-ink range: thin,
#: anti-aliased Mincho strokes are mid-grey, speckle noise stays lighter.
INK_LEVEL = 0.3
#: A line band whose paper and ink levels differ by less than this (of 255) holds nothing to measure.
INK_CONTRAST = 40
#: A line is wrapped when the next line's first word would have ended this close to the margin (in ems).
WRAP_TOLERANCE_EM = 0.6
#: The next line of a column starts at most this far (in ems) below the line's bottom...
NEXT_LINE_GAP_EM = 1.0
#: ...and at its left margin, give or take this much to the right (ems)...
MARGIN_TOLERANCE_EM = 0.5
#: ...or up to this much to the left, where the line itself is a paragraph's indented first line (ems).
INDENT_EM = 1.5
#: A word read with at least this confidence (0-100) is taken as read: a second reading of the page
#: that drops such words loses text, whatever else it adds.
CONFIDENT_WORD = 80.0
#: After these a CJK glyph leaves white in its own cell, and before these too: never a space there.
_NO_SPACE_AFTER = set("、。，．・：；？！」』）〕］｝〉》】〙〛（「『〔［｛〈《【〘〚")
_NO_SPACE_BEFORE = set("、。，．・：；？！」』）〕］｝〉》】〙〛")

Box = tuple[int, int, int, int]  # left, top, width, height (pixels)


@dataclass(frozen=True)
class TsvLine:
    """One line of OCR output: its paragraph key, its words with confidences, and the words' boxes."""

    paragraph: tuple[str, ...]
    words: tuple[tuple[str, float], ...]
    boxes: tuple[Box, ...] = field(default=(), compare=False)

    @property
    def vertical(self) -> bool:
        """True for a column of vertical text (its words stack top to bottom)."""
        if len(self.boxes) < 2:
            return False
        first, last = self.boxes[0], self.boxes[-1]
        return (last[1] - first[1]) > (last[0] - first[0]) and last[1] > first[1] + first[3] / 2


def line_em(line: TsvLine) -> float:
    """The line's character size: the median word height (width, for a vertical column)."""
    sizes = [box[2] if line.vertical else box[3] for box in line.boxes if box[2] > 0 and box[3] > 0]
    return float(statistics.median(sizes)) if sizes else 0.0


def line_extent(line: TsvLine) -> Box:
    """The box around all the line's words (left, top, width, height)."""
    left = min(box[0] for box in line.boxes)
    top = min(box[1] for box in line.boxes)
    right = max(box[0] + box[2] for box in line.boxes)
    bottom = max(box[1] + box[3] for box in line.boxes)
    return left, top, right - left, bottom - top


def blank_runs(page: Image.Image, line: TsvLine, minimum: float) -> list[tuple[int, int]]:
    """Runs of blank columns (rows, for a vertical column) across the line's band, at least ``minimum`` long.

    The band is binarised at :data:`INK_LEVEL` of the way from its paper to its ink level (so grey
    noise and JPEG haze stay paper), and a position holding any ink pixel is ink (so a one-pixel stroke counts).
    Coordinates are page pixels along the line; runs at the line's ends (margin) are left out.
    """
    from PIL import Image as PILImage

    left, top, width, height = line_extent(line)
    if width <= 0 or height <= 0:
        return []
    inked = ink_mask(page, (left, top, left + width, top + height))
    if inked is None:
        return []
    vertical = line.vertical
    size = (1, height) if vertical else (width, 1)
    profile = list(inked.resize(size, PILImage.Resampling.BOX).tobytes())
    # A column holding any ink pixel across the band is ink: a one-pixel stroke (一) counts.
    limit = 255 * 0.5 / (width if vertical else height)
    origin = top if vertical else left
    runs, start = [], None
    for position, value in enumerate(profile):
        if value <= limit:
            start = position if start is None else start
            continue
        if start is not None and start > 0 and position - start >= minimum:
            runs.append((origin + start, origin + position))
        start = None
    return runs


def ink_mask(page: Image.Image, box: tuple[int, int, int, int]) -> Image.Image | None:
    """``box`` of the page binarised: ink 255, paper 0; ``None`` where it has no contrast.

    The threshold lies :data:`INK_LEVEL` of the way from the box's paper level to its ink level,
    so grey noise and JPEG haze stay paper.
    """
    band = page.crop(box).convert("L")
    histogram = band.histogram()
    paper, ink = grey_percentile(histogram, 0.9), grey_percentile(histogram, 0.03)
    if paper - ink < INK_CONTRAST:
        return None
    threshold = paper - INK_LEVEL * (paper - ink)
    return band.point(lambda value: 255 if value < threshold else 0)


def grey_percentile(histogram: list[int], share: float) -> int:
    """The grey level below which ``share`` of the pixels lie."""
    target, seen = share * sum(histogram), 0
    for level, count in enumerate(histogram):
        seen += count
        if seen >= target:
            return level
    return 255


def _boundary(line: TsvLine, index: int) -> float:
    """Where the engine puts the boundary between word ``index - 1`` and word ``index`` (page pixels)."""
    before, after = line.boxes[index - 1], line.boxes[index]
    if line.vertical:
        return (before[1] + before[3] + after[1]) / 2
    return (before[0] + before[2] + after[0]) / 2


def real_space_boundaries(line: TsvLine, page: Image.Image | None) -> set[int]:
    """Word boundaries of a line where the page shows a gap a character wide (each gap counts once)."""
    if page is None or len(line.words) < 2 or len(line.boxes) != len(line.words):
        return set()
    em = line_em(line)
    if em <= 0:
        return set()
    found = set()
    for start, end in blank_runs(page, line, REAL_SPACE_EM * em):
        if _inside_a_word(line, start, end, INSIDE_WORD_EM * em):
            continue
        centre = (start + end) / 2
        found.add(min(range(1, len(line.words)), key=lambda index: abs(_boundary(line, index) - centre)))
    return found


def _inside_a_word(line: TsvLine, start: int, end: int, margin: float) -> bool:
    """True when the run lies well inside one word's box: the gap is within that word (``Word、 Excel``)."""
    axis = 1 if line.vertical else 0
    return any(box[axis] + margin <= start and end <= box[axis] + box[2 + axis] - margin for box in line.boxes)


def join_words(line: TsvLine, page: Image.Image | None = None) -> str:
    """A line's words with real spaces kept and false ones dropped (see the module docstring).

    ``page`` is the image the engine read; without it, every space next to CJK text goes.
    """
    real = real_space_boundaries(line, page)
    parts: list[str] = []
    for index, (word, _) in enumerate(line.words):
        if index:
            left, right = parts[-1][-1], word[0]
            if not (is_cjk(left) or is_cjk(right)):
                if not _overlapping(line, index):
                    parts.append(" ")
            elif index in real and left not in _NO_SPACE_AFTER and right not in _NO_SPACE_BEFORE:
                parts.append("\u3000" if is_cjk(left) and is_cjk(right) else " ")
        parts.append(word)
    return "".join(parts)


def _overlapping(line: TsvLine, index: int) -> bool:
    """True when word ``index`` starts well inside the box of the word before it: one word the engine split.

    Boxes that start at one place (or have no size) prove nothing.
    """
    if len(line.boxes) != len(line.words):
        return False
    axis = 1 if line.vertical else 0
    before, after = line.boxes[index - 1], line.boxes[index]
    if min(before[2 + axis], after[2 + axis]) <= 0 or after[axis] <= before[axis]:
        return False  # no real boxes, or both start at one place: nothing says which is whose
    before_end = before[axis] + before[2 + axis]
    # Most words start past the end of the one before; only the others need the line's size.
    return after[axis] < before_end and after[axis] < before_end - INSIDE_WORD_EM * line_em(line)


def _span(line: TsvLine) -> tuple[float, float]:
    """Where a line starts and ends along its direction (x for rows, y for columns)."""
    axis = 1 if line.vertical else 0
    start = min(box[axis] for box in line.boxes)
    end = max(box[axis] + box[2 + axis] for box in line.boxes)
    return start, end


def _head_length(line: TsvLine) -> float:
    """How long the line's first word is along the line."""
    box = line.boxes[0]
    return box[3] if line.vertical else box[2]


def continues_below(line: TsvLine, following: TsvLine) -> bool:
    """True when ``following`` is the next line of the same column: right below ``line``, starting at its margin.

    Engines sometimes start a new block at a line of the same paragraph (after a short last line, or
    a line with a long Latin word); the block's first line of another column starts elsewhere.
    """
    if line.vertical or following.vertical:
        return False
    em = line_em(line)
    left, top, _, height = line_extent(line)
    next_left, next_top, _, _ = line_extent(following)
    below = top + height / 2 < next_top <= top + height + NEXT_LINE_GAP_EM * em
    return below and left - INDENT_EM * em <= next_left <= left + MARGIN_TOLERANCE_EM * em


def wrapped_flags(lines: list[TsvLine], page_size: tuple[int, int] | None = None) -> list[bool]:
    """For each line, whether it runs on into the next one of its column: its next word would not have fit.

    The next line is the next of the same block, or of another block that :func:`continues_below` it.

    The margin the lines wrap at mirrors the page's opposite one (the page width less the leftmost
    line start; for columns, the height less the topmost start), which a ragged list of short lines
    never reaches. Without the page's size, the longest lines (90th percentile) stand for it.
    """
    measured = {index for index, line in enumerate(lines) if line.boxes and len(line.boxes) == len(line.words)}
    flags = [False] * len(lines)
    if len(measured) < 2:
        return flags
    margins = {}
    for vertical in (False, True):
        group = [lines[index] for index in measured if lines[index].vertical == vertical]
        if not group:
            continue
        if page_size is not None:
            start = min(_span(line)[0] for line in group)
            margins[vertical] = page_size[1 if vertical else 0] - max(0.0, start)
        else:
            ends = sorted(_span(line)[1] for line in group)
            margins[vertical] = ends[int(0.9 * (len(ends) - 1))]
    for index, line in enumerate(lines[:-1]):
        following = lines[index + 1]
        if index not in measured or index + 1 not in measured or line.vertical != following.vertical:
            continue
        if following.paragraph[:2] != line.paragraph[:2] and not continues_below(line, following):
            continue
        em = line_em(line) or 1.0
        flags[index] = _span(line)[1] + _head_length(following) >= margins[line.vertical] - WRAP_TOLERANCE_EM * em
    return flags


def lines_to_text(lines: list[TsvLine] | tuple[TsvLine, ...], page: Image.Image | None = None) -> str:
    """Lines joined by newlines (or nothing, for a CJK soft wrap), paragraphs by a blank line.

    ``page`` is the image the engine read, for measuring the gaps between words. A wrapped line
    continues across the engine's paragraph and block boundaries too, as long as the column is the
    same (engines often start a paragraph at a line that begins with a long Latin word).
    """
    lines = list(lines)
    flags = wrapped_flags(lines, page.size if page is not None else None)
    texts = [join_words(line, page) for line in lines]
    parts: list[str] = []
    for index, text in enumerate(texts):
        if index:
            before, line = texts[index - 1].rstrip(), lines[index]
            if flags[index - 1] and before and text and joins_without_space(before[-1], text.lstrip()[0]):
                parts[-1] = parts[-1].rstrip()
                text = text.lstrip()
            elif line.paragraph == lines[index - 1].paragraph:
                parts.append("\n")
            else:
                parts.append("\n\n")
        parts.append(text)
    return "".join(parts)


def keeps_confident_words(first: Sequence[TsvLine], second: Sequence[TsvLine], gained: int) -> bool:
    """True when ``second``, which read ``gained`` characters more, lost fewer than that of what ``first`` was sure of.

    The words ``first`` read with confidence :data:`CONFIDENT_WORD` (CJK ones character by
    character, since engines cut CJK text into words differently from pass to pass) are looked up
    in ``second``; the characters of those missing must be fewer than ``gained``. A uniform-block
    reading that finds a glyph the layout pass dropped can misread whole words elsewhere
    (``through`` as ``ae``, at confidence 0): more characters is then no better reading.
    """
    wanted = Counter(
        token
        for line in first
        for word, confidence in line.words
        if confidence >= CONFIDENT_WORD
        for token in _tokens(word)
    )
    found = Counter(token for line in second for word, _ in line.words for token in _tokens(word))
    return sum(len(token) * count for token, count in (wanted - found).items()) < gained


def _tokens(word: str) -> list[str]:
    """A word as one token, or, when it holds CJK characters, each character one token."""
    return list(word) if any(is_cjk(char) for char in word) else [word]
