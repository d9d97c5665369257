"""Reading order, word gaps and soft line breaks of a horizontal text layer, from pdfium's character boxes.

pdfium lists a page's text in content-stream order and puts a space where its own spacing
heuristics see one. Three things go wrong on real documents, and each is fixed from geometry:

* **order**: a title drawn after the table it heads comes out after it, and text drawn turned by
  90 degrees (a landscape table on a portrait page) comes out bottom line first. Lines are put
  top to bottom in the frame of their own glyphs when they are not already;
* **word gaps in tables**: right-aligned numeric columns sit closer than pdfium's space threshold,
  so ``0 0`` becomes ``00``. On tabular pages every gap wider than :data:`TABLE_GAP_EM` of the font
  size becomes a space;
* **soft line breaks**: a Japanese paragraph wrapped at the right margin continues on the next
  line without a space. A line is *wrapped* when the next line's first word would not have fit
  before the right margin (which mirrors the left one), as a typesetter decides; the joining
  itself is :func:`extractkit.normalize.join_wrapped_lines`.

Every function takes the caller's (locked) pypdfium2 text page; nothing here locks.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from extractkit.normalize import contains_cjk_letters, join_wrapped_lines

#: A gap between two characters of a tabular line wider than this share of the font size is a space.
TABLE_GAP_EM = 0.3
#: A page is tabular when this many lines, and this share of them, hold three numbers or more.
TABLE_MIN_LINES = 5
TABLE_LINE_SHARE = 0.3
#: A line is wrapped when the next line's first word would have ended within this many font sizes of
#: the right margin (or past it), had it been set on the line.
WRAP_TOLERANCE_EM = 0.5
#: At least this many lines of a page must be wrapped for its right margin to count.
WRAP_MIN_LINES = 2
#: How many lines are looked at to decide whether a page's text runs vertically, and how far
#: (degrees) a glyph may be turned and still count as upright there.
ORIENTATION_SAMPLE_LINES = 60
UPRIGHT_TOLERANCE = 10.0
#: Lines whose tops differ by less than this share of their height count as the same row.
ROW_TOLERANCE = 0.5

_FIRST_WORD = re.compile(r"[\x21-\x7e]+|.")
_NUMBER = re.compile(r"(?<!\S)[-+(]?[$€¥£]?\d[\d,.]*%?\)?(?!\S)")
Box = tuple[float, float, float, float]


@dataclass(frozen=True)
class LineGeometry:
    """Where one line of text sits: its first and last visible characters' loose boxes, font height and angle."""

    first: Box
    last: Box
    size: float
    angle: float
    #: Width of the line's first word (a run of Latin characters, or one CJK character).
    head_width: float = 0.0


def is_tabular(lines: list[str]) -> bool:
    """True when many lines hold three or more numbers: a table of figures."""
    numeric = sum(1 for line in lines if len(_NUMBER.findall(line)) >= 3)
    return numeric >= TABLE_MIN_LINES and numeric >= TABLE_LINE_SHARE * len(lines)


def char_index(textpage: Any, text_index: int) -> int:
    """pdfium's character index for a text index (UTF-16 units into the page text)."""
    import pypdfium2.raw as pdfium_c

    return int(pdfium_c.FPDFText_GetCharIndexFromTextIndex(textpage, text_index))


def measure_lines(textpage: Any, lines: list[tuple[str, int]]) -> list[LineGeometry | None]:
    """The geometry of every line (``None`` for an empty one); ``lines`` are (text, UTF-16 offset) pairs."""
    import ctypes

    import pypdfium2.raw as pdfium_c

    raw = textpage.raw
    to_char = pdfium_c.FPDFText_GetCharIndexFromTextIndex
    get_angle = pdfium_c.FPDFText_GetCharAngle
    get_box = pdfium_c.FPDFText_GetLooseCharBox
    rect = pdfium_c.FS_RECTF()
    rect_ref = ctypes.byref(rect)

    def box(index: int) -> Box:
        get_box(raw, index, rect_ref)
        return (rect.left, rect.bottom, rect.right, rect.top)

    identity = _indexes_are_offsets(textpage, lines)
    measured: list[LineGeometry | None] = []
    for line, offset in lines:
        first, last = len(line) - len(line.lstrip()), len(line.rstrip()) - 1
        if last < first:
            measured.append(None)
            continue
        word_end = first + len(_FIRST_WORD.match(line, first).group()) - 1  # type: ignore[union-attr]
        if identity:
            head, tail, word_tail = offset + first, offset + last, offset + word_end
        else:
            ascii_line = line.isascii()
            head = to_char(raw, offset + (first if ascii_line else _utf16_length(line[:first])))
            tail = to_char(raw, offset + (last if ascii_line else _utf16_length(line[:last])))
            word_tail = to_char(raw, offset + (word_end if ascii_line else _utf16_length(line[:word_end])))
        if head < 0 or tail < 0:
            measured.append(None)
            continue
        angle = math.degrees(get_angle(raw, head)) % 360
        start, end = box(head), box(tail)
        size = max(abs(end[3] - end[1]), abs(end[2] - end[0]) if not is_upright(angle) else 0.0) or 10.0
        head_width = box(word_tail)[2] - start[0] if word_tail >= 0 else size
        measured.append(LineGeometry(start, end, size, angle, head_width))
    return measured


def _indexes_are_offsets(textpage: Any, lines: list[tuple[str, int]]) -> bool:
    """True when pdfium's character indexes equal the text offsets on this page (BMP text, no gaps).

    Checked at the last character of every fourth line and of the last one, so a page where the
    two drift apart is caught and measured the slow way.
    """
    if not lines:
        return False
    probes = [*lines[::4], lines[-1]]
    for line, offset in probes:
        if line and (
            max(line) >= "\U00010000" or char_index(textpage, offset + len(line) - 1) != offset + len(line) - 1
        ):
            return False
    return True


def runs_vertically(lines: list[tuple[str, int]], geometry: list[LineGeometry | None]) -> bool:
    """True when most lines are tategaki: upright glyphs running top to bottom.

    Rotated text (a landscape page turned with ``/Rotate``, glyphs drawn at an angle) also runs
    up or down the page, but its glyphs are turned, so it is not taken for vertical writing.
    """
    vertical = horizontal = 0
    for (line, _), g in zip(lines, geometry, strict=True):
        if g is None or len(line.strip()) < 3:
            continue
        left, right = min(g.first[0], g.last[0]), max(g.first[2], g.last[2])
        bottom, top = min(g.first[1], g.last[1]), max(g.first[3], g.last[3])
        turned = min(g.angle, 360 - g.angle)
        if turned <= UPRIGHT_TOLERANCE and top - bottom > 2 * (right - left):
            vertical += 1
        else:
            horizontal += 1
        if vertical + horizontal >= ORIENTATION_SAMPLE_LINES:
            break
    return vertical >= 2 and vertical > 0.6 * (vertical + horizontal)


def _utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _frame(angle: float) -> tuple[tuple[float, float], tuple[float, float]]:
    """Unit vectors along the baseline and towards the top of glyphs turned ``angle`` degrees (pdfium's, clockwise)."""
    quarter = round(angle / 90.0) % 4 * 90
    radians = math.radians(-quarter)
    along = (round(math.cos(radians)), round(math.sin(radians)))
    return along, (-along[1], along[0])


def _dot(box: Box, vector: tuple[float, float]) -> float:
    return (box[0] + box[2]) / 2 * vector[0] + (box[1] + box[3]) / 2 * vector[1]


def _height(box: Box, up: tuple[float, float]) -> float:
    return abs(box[3] - box[1]) if up[1] else abs(box[2] - box[0])


def top_to_bottom(lines: list[str], geometry: list[LineGeometry | None]) -> list[int] | None:
    """The order that puts the lines top to bottom (left to right within a row), or ``None`` when it already is.

    "Top" is taken in the frame of the glyphs, so text turned by 90 degrees reads from its own top.
    Unmeasured (blank) lines keep their place after the line before them.
    """
    measured = [g for g in geometry if g is not None]
    if len(measured) < 2:
        return None
    angles = sorted(g.angle for g in measured)
    along, up = _frame(angles[len(angles) // 2])
    keys: list[tuple[float, float]] = []
    last_key = (math.inf, -math.inf)
    heights = sorted(_height(g.first, up) for g in measured)
    row = max(heights[len(heights) // 2], 1.0) * ROW_TOLERANCE
    for g in geometry:
        if g is None:
            keys.append(last_key)
            continue
        last_key = (-round(_dot(g.first, up) / row), _dot(g.first, along))
        keys.append(last_key)
    order = sorted(range(len(lines)), key=lambda index: (keys[index], index))
    return None if order == list(range(len(lines))) else order


def wrapped_flags(lines: list[str], geometry: list[LineGeometry | None], page_width: float) -> list[bool]:
    """For each line, whether it runs on into the next: the next line's first word would not have fit on it.

    The right margin is taken to mirror the left one (the leftmost line start), which holds for
    nearly every document; with a wider right margin nothing is joined, the safe mistake. Several
    lines must be wrapped for the margin to count, so a list of short lines is never joined.
    """
    flags = [False] * len(lines)
    upright = [g for g in geometry if g is not None and is_upright(g.angle)]
    if not upright or page_width <= 0:
        return flags
    edge = page_width - max(0.0, min(g.first[0] for g in upright))
    for index, g in enumerate(geometry[:-1]):
        following = geometry[index + 1]
        if g is None or following is None or not (is_upright(g.angle) and is_upright(following.angle)):
            continue
        flags[index] = g.last[2] + following.head_width >= edge - WRAP_TOLERANCE_EM * g.size
    if sum(flags) < WRAP_MIN_LINES:
        return [False] * len(lines)
    return flags


def is_upright(angle: float) -> bool:
    """True for glyphs turned less than a degree."""
    return min(angle % 360, 360 - angle % 360) < 1.0


def _char_indexes(textpage: Any, line: str, offset: int) -> list[int]:
    """pdfium's character index of every character of a line (-1 where it has none).

    Within a line of BMP characters the indexes run on one by one; that is checked at both ends,
    and otherwise every character is asked for.
    """
    if line and max(line) < "\U00010000":
        first, last = char_index(textpage, offset), char_index(textpage, offset + len(line) - 1)
        if first >= 0 and last - first == len(line) - 1:
            return list(range(first, last + 1))
    indexes, position = [], offset
    for char in line:
        indexes.append(char_index(textpage, position))
        position += _utf16_length(char)
    return indexes


def spaced_line(textpage: Any, line: str, offset: int) -> str:
    """The line rebuilt character by character with a space at every gap wider than TABLE_GAP_EM.

    Loose boxes (the glyphs' advance cells, as tall as the font) abut within a word, so the gap
    between them is the white space the page really shows.
    """
    import ctypes

    import pypdfium2.raw as pdfium_c

    raw = textpage.raw
    get_box = pdfium_c.FPDFText_GetLooseCharBox
    rect = pdfium_c.FS_RECTF()
    rect_ref = ctypes.byref(rect)
    out: list[str] = []
    previous_right: float | None = None
    for char, index in zip(line, _char_indexes(textpage, line, offset), strict=True):
        if char.isspace() or index < 0:
            out.append(char)
            previous_right = None if char.isspace() else previous_right
            continue
        get_box(raw, index, rect_ref)
        size = abs(rect.top - rect.bottom) or 10.0
        if previous_right is not None and rect.left - previous_right > TABLE_GAP_EM * size:
            out.append(" ")
        out.append(char)
        previous_right = rect.right
    return "".join(out)


def needs_arranging(textpage: Any, text: str) -> bool:
    """True when a page's text needs :func:`arrange`: CJK text, a table of figures, or turned glyphs."""
    import pypdfium2.raw as pdfium_c

    if contains_cjk_letters(text) or is_tabular(text.splitlines()):
        return True
    first = char_index(textpage, _utf16_length(text[: len(text) - len(text.lstrip())]))
    return first >= 0 and not is_upright(math.degrees(pdfium_c.FPDFText_GetCharAngle(textpage, first)))


def arrange(
    textpage: Any, lines: list[tuple[str, int]], page_width: float, geometry: list[LineGeometry | None] | None = None
) -> str:
    """A horizontal page's text with gaps, order and soft line breaks fixed from the character boxes.

    Prose in columns keeps pdfium's order; tables and turned text are put top to bottom.
    """
    texts = [line for line, _ in lines]
    if geometry is None:
        geometry = measure_lines(textpage, lines)
    tabular = is_tabular(texts)
    if tabular:
        texts = [spaced_line(textpage, line, offset) for line, offset in lines]
    turned = any(g is not None and not is_upright(g.angle) for g in geometry)
    # Columns of prose keep pdfium's order: sorting them by height would interleave them.
    order = top_to_bottom(texts, geometry) if tabular or turned else None
    if order is not None:
        texts = [texts[index] for index in order]
        geometry = [geometry[index] for index in order]
    if any(contains_cjk_letters(text) for text in texts):
        return join_wrapped_lines(texts, wrapped_flags(texts, geometry, page_width))
    return "\n".join(texts)
