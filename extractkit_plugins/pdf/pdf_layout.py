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

import bisect
import math
import re
from typing import Any, NamedTuple

from extractkit.normalize import contains_cjk_letters, join_wrapped_lines

from .pdfium_bulk import CharBoxes, char_angles, char_indexes, loose_boxes

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
_LONG_WORD = re.compile(r"\S{2,}")
#: A number: a word (white space on both sides) of an optional sign or parenthesis, an optional
#: currency sign, a digit, then digits, commas and points, an optional ``%`` and ``)``. And what
#: such a word starts with besides a digit.
_NUMBER_WORD = re.compile(r"[-+(]?[$€¥£]?\d[\d,.]*%?\)?")
_NUMBER_STARTS = frozenset("-+($€¥£")
Box = tuple[float, float, float, float]


class LineGeometry(NamedTuple):
    """Where one line of text sits: its first and last visible characters' loose boxes, font height and angle."""

    first: Box
    last: Box
    size: float
    angle: float
    #: Width of the line's first word (a run of Latin characters, or one CJK character).
    head_width: float = 0.0


def is_tabular(lines: list[str]) -> bool:
    """True when many lines hold three or more numbers: a table of figures."""
    if len(lines) < TABLE_MIN_LINES:
        return False
    numeric = sum(1 for line in lines if count_numbers(line, 3) >= 3)
    return numeric >= TABLE_MIN_LINES and numeric >= TABLE_LINE_SHARE * len(lines)


def is_tabular_text(text: str) -> bool:
    """:func:`is_tabular` of the text's lines; text with too few numbers in all for a table is told at once.

    A number never spans a line break, so the whole text holds the sum of its lines' numbers.
    """
    if count_numbers(text, 3 * TABLE_MIN_LINES) < 3 * TABLE_MIN_LINES:
        return False
    return is_tabular(text.splitlines())


def count_numbers(text: str, enough: int) -> int:
    """How many numbers (``_NUMBER_WORD`` words) the text holds, counting no further than ``enough``.

    ``str.split()`` splits at exactly what the regex class ``\\s`` matches. Only words that start
    as a number are matched, and they are few in prose.
    """
    found = 0
    for word in text.split():
        first = word[0]
        if (first in _NUMBER_STARTS or first.isdecimal()) and _NUMBER_WORD.fullmatch(word):
            found += 1
            if found >= enough:
                break
    return found


def char_index(textpage: Any, text_index: int) -> int:
    """pdfium's character index for a text index (UTF-16 units into the page text)."""
    import pypdfium2.raw as pdfium_c

    return int(pdfium_c.FPDFText_GetCharIndexFromTextIndex(textpage, text_index))


def measure_lines(textpage: Any, lines: list[tuple[str, int]]) -> list[LineGeometry | None]:
    """The geometry of every line (``None`` for an empty one); ``lines`` are (text, UTF-16 offset) pairs.

    The characters measured (each line's first and last visible one and the end of its first word)
    are found first, then all their boxes and angles are fetched from pdfium in one pass.
    """
    identity = _indexes_are_offsets(textpage, lines)
    spans: list[tuple[int, int, int] | None] = []
    for line, offset in lines:
        first, last = len(line) - len(line.lstrip()), len(line.rstrip()) - 1
        if last < first:
            spans.append(None)
            continue
        word_end = first + len(_FIRST_WORD.match(line, first).group()) - 1  # type: ignore[union-attr]
        if identity or line.isascii():
            spans.append((offset + first, offset + last, offset + word_end))
        else:
            spans.append(
                (
                    offset + _utf16_length(line[:first]),
                    offset + _utf16_length(line[:last]),
                    offset + _utf16_length(line[:word_end]),
                )
            )
    if not identity:  # text offsets to pdfium's character indexes
        flat = char_indexes(textpage, [index for span in spans if span is not None for index in span])
        found = iter(zip(flat[0::3], flat[1::3], flat[2::3], strict=True))
        spans = [None if span is None else next(found) for span in spans]
    wanted = [span if span is not None and span[0] >= 0 and span[1] >= 0 else None for span in spans]
    measurable = [span for span in wanted if span is not None]
    # A line's first word is often its first character (one CJK letter), and a short line's last one too.
    unique = list(dict.fromkeys(index for span in measurable for index in span))
    boxes = dict(zip(unique, zip(*loose_boxes(textpage, unique), strict=True), strict=True))
    turns = char_angles(textpage, [span[0] for span in measurable])
    firsts = [boxes[span[0]] for span in measurable]
    lasts = [boxes[span[1]] for span in measurable]
    head_rights = [boxes[span[2]][2] for span in measurable]
    degrees = [math.degrees(turn) % 360 for turn in turns]
    sizes = [
        max(abs(top - bottom), abs(right - left) if not is_upright(angle) else 0.0) or 10.0
        for (left, bottom, right, top), angle in zip(lasts, degrees, strict=True)
    ]
    measured_spans = iter(
        [
            LineGeometry(first, last, size, angle, head_right - first[0] if span[2] >= 0 else size)
            for first, last, size, angle, head_right, span in zip(
                firsts, lasts, sizes, degrees, head_rights, measurable, strict=True
            )
        ]
    )
    return [None if span is None else next(measured_spans) for span in wanted]


def _indexes_are_offsets(textpage: Any, lines: list[tuple[str, int]]) -> bool:
    """True when pdfium's character indexes equal the text offsets on this page (BMP text, no gaps).

    Checked at the last character of every fourth line and of the last one, so a page where the
    two drift apart is caught and measured the slow way.
    """
    if not lines:
        return False
    probes = [(line, offset) for line, offset in (*lines[::4], lines[-1]) if line]
    if any(not in_bmp(line) for line, _ in probes):
        return False
    ends = [offset + len(line) - 1 for line, offset in probes]
    return char_indexes(textpage, ends) == ends


def runs_vertically(lines: list[tuple[str, int]], geometry: list[LineGeometry | None]) -> bool:
    """True when most lines are tategaki: upright glyphs running top to bottom.

    Rotated text (a landscape page turned with ``/Rotate``, glyphs drawn at an angle) also runs
    up or down the page, but its glyphs are turned, so it is not taken for vertical writing.
    """
    vertical = horizontal = 0
    for (line, _), g in zip(lines, geometry, strict=True):
        if g is None or len(line.strip()) < 3:
            continue
        (left, bottom, right, top), (left_2, bottom_2, right_2, top_2) = g.first, g.last
        # The span of the two boxes, written out: min() and max() calls cost more than the test.
        width = (right_2 if right_2 > right else right) - (left_2 if left_2 < left else left)
        height = (top_2 if top_2 > top else top) - (bottom_2 if bottom_2 < bottom else bottom)
        turned = min(g.angle, 360 - g.angle)
        if turned <= UPRIGHT_TOLERANCE and height > 2 * width:
            vertical += 1
        else:
            horizontal += 1
        if vertical + horizontal >= ORIENTATION_SAMPLE_LINES:
            break
    return vertical >= 2 and vertical > 0.6 * (vertical + horizontal)


def in_bmp(text: str) -> bool:
    """True when every character is in the Basic Multilingual Plane: one UTF-16 unit each, as pdfium counts.

    Told from the UTF-16 encoding's length, which is much cheaper than ``max(text)`` on long text.
    """
    return text.isascii() or len(text.encode("utf-16-le", "surrogatepass")) == 2 * len(text)


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
    ups = [g is not None and is_upright(g.angle) for g in geometry]
    upright = [g for g, up in zip(geometry, ups, strict=True) if up]
    if not upright or page_width <= 0:
        return flags
    edge = page_width - max(0.0, min(g.first[0] for g in upright))
    for index, g in enumerate(geometry[:-1]):
        following = geometry[index + 1]
        if g is None or following is None or not (ups[index] and ups[index + 1]):
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
    if line and in_bmp(line):
        first, last = char_index(textpage, offset), char_index(textpage, offset + len(line) - 1)
        if first >= 0 and last - first == len(line) - 1:
            return list(range(first, last + 1))
    indexes, position = [], offset
    for char in line:
        indexes.append(char_index(textpage, position))
        position += _utf16_length(char)
    return indexes


def spaced_lines(textpage: Any, lines: list[tuple[str, int]]) -> list[str]:
    """Every line with a space put at each gap wider than TABLE_GAP_EM between two characters of a word.

    Loose boxes (the glyphs' advance cells, as tall as the font) abut within a word, so the gap
    between them is the white space the page really shows. Only characters of words two or more
    long can have such a gap inside them; their boxes are fetched from pdfium in one pass and the
    gaps of the whole page measured at once.
    """
    starts = _contiguous_starts(textpage, lines)
    positions: list[int] = []  # text offsets of the characters measured
    shifts: list[tuple[int, int]] = []  # (how many of them, pdfium index minus text offset) line by line
    spaced = [line for line, _ in lines]
    for number, ((line, offset), start) in enumerate(zip(lines, starts, strict=True)):
        if start is None:  # characters without an index, or indexes out of step: measured one by one
            line_indexes = _char_indexes(textpage, line, offset)
            spaced[number] = _spaced_slowly(line, line_indexes, loose_boxes(textpage, line_indexes))
            continue
        before = len(positions)
        for word in _LONG_WORD.finditer(line):
            positions.extend(range(offset + word.start(), offset + word.end()))
        shifts.append((len(positions) - before, start - offset))
    lefts, bottoms, rights, tops = loose_boxes(textpage, _shifted(positions, shifts))
    # Text offsets of neighbours in one word differ by one; a line break keeps lines apart.
    cuts = [
        position
        for position, previous, left, bottom, top, previous_right in zip(
            positions[1:], positions, lefts[1:], bottoms[1:], tops[1:], rights, strict=False
        )
        if position == previous + 1 and left - previous_right > TABLE_GAP_EM * (abs(top - bottom) or 10.0)
    ]
    offsets = [offset for _, offset in lines]
    line_cuts: dict[int, list[int]] = {}
    for position in cuts:
        number = bisect.bisect_right(offsets, position) - 1
        line_cuts.setdefault(number, []).append(position - offsets[number])
    for number, at in line_cuts.items():
        line = spaced[number]
        spaced[number] = " ".join(line[begin:end] for begin, end in zip([0, *at], [*at, len(line)], strict=True))
    return spaced


def _shifted(positions: list[int], shifts: list[tuple[int, int]]) -> list[int]:
    """The text offsets moved by each line's shift: pdfium's character indexes (the same list where none moves)."""
    if not any(shift for _, shift in shifts):
        return positions
    moved, begin = [], 0
    for count, shift in shifts:
        moved.extend(position + shift for position in positions[begin : begin + count])
        begin += count
    return moved


def _contiguous_starts(textpage: Any, lines: list[tuple[str, int]]) -> list[int | None]:
    """For each line whose characters have consecutive pdfium indexes, the first one; else ``None``.

    Within a line of BMP characters the indexes run on one by one; that is checked at both ends.
    """
    probed = [bool(line) and in_bmp(line) for line, _ in lines]
    ends = char_indexes(
        textpage,
        [
            index
            for (line, offset), ok in zip(lines, probed, strict=True)
            if ok
            for index in (offset, offset + len(line) - 1)
        ],
    )
    starts: list[int | None] = []
    found = iter(ends)
    for (line, _), ok in zip(lines, probed, strict=True):
        if not line:
            starts.append(0)
            continue
        first, last = (next(found), next(found)) if ok else (-1, -1)
        starts.append(first if first >= 0 and last - first == len(line) - 1 else None)
    return starts


def _spaced_slowly(line: str, indexes: list[int], boxes: CharBoxes) -> str:
    out: list[str] = []
    previous_right: float | None = None
    for char, index, left, bottom, right, top in zip(line, indexes, *boxes, strict=True):
        if char.isspace() or index < 0:
            out.append(char)
            previous_right = None if char.isspace() else previous_right
            continue
        if previous_right is not None and left - previous_right > TABLE_GAP_EM * (abs(top - bottom) or 10.0):
            out.append(" ")
        out.append(char)
        previous_right = right
    return "".join(out)


def needs_arranging(textpage: Any, text: str, tabular: bool | None = None) -> bool:
    """True when a page's text needs :func:`arrange`: CJK text, a table of figures, or turned glyphs.

    ``tabular`` is :func:`is_tabular_text` of ``text`` where the caller has it already.
    """
    import pypdfium2.raw as pdfium_c

    if tabular is None:
        tabular = is_tabular_text(text)
    if tabular or contains_cjk_letters(text):
        return True
    first = char_index(textpage, _utf16_length(text[: len(text) - len(text.lstrip())]))
    return first >= 0 and not is_upright(math.degrees(pdfium_c.FPDFText_GetCharAngle(textpage, first)))


def arrange(
    textpage: Any,
    lines: list[tuple[str, int]],
    page_width: float,
    geometry: list[LineGeometry | None] | None = None,
    tabular: bool | None = None,
    cjk: bool | None = None,
) -> str:
    """A horizontal page's text with gaps, order and soft line breaks fixed from the character boxes.

    Prose in columns keeps pdfium's order; tables and turned text are put top to bottom.
    ``geometry``, ``tabular`` and ``cjk`` are :func:`measure_lines`, :func:`is_tabular` and
    whether any line holds a CJK letter, where the caller knows them already.
    """
    texts = [line for line, _ in lines]
    if geometry is None:
        geometry = measure_lines(textpage, lines)
    if tabular is None:
        tabular = is_tabular(texts)
    if tabular:
        texts = spaced_lines(textpage, lines)
    turned = any(g is not None and not is_upright(g.angle) for g in geometry)
    # Columns of prose keep pdfium's order: sorting them by height would interleave them.
    order = top_to_bottom(texts, geometry) if tabular or turned else None
    if order is not None:
        texts = [texts[index] for index in order]
        geometry = [geometry[index] for index in order]
    if cjk is None:
        cjk = any(contains_cjk_letters(text) for text in texts)
    if cjk:
        return join_wrapped_lines(texts, wrapped_flags(texts, geometry, page_width))
    return "\n".join(texts)
