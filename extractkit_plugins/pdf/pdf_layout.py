"""Reading order, word gaps and soft line breaks of a horizontal text layer, from pdfium's character boxes.

pdfium lists a page's text in content-stream order and puts a space where its own spacing
heuristics see one. Three things go wrong on real documents, and each is fixed from geometry:

* **order**: a title drawn after the table it heads comes out after it, and text drawn turned by
  90 degrees (a landscape table on a portrait page) comes out bottom line first. Lines are put
  top to bottom in the frame of their own glyphs when they are not already;
* **word gaps in tables**: right-aligned numeric columns sit closer than pdfium's space threshold,
  so ``0 0`` becomes ``00``; :mod:`.pdf_tables` puts the spaces back on tabular pages;
* **soft line breaks**: a Japanese paragraph wrapped at the right margin continues on the next
  line without a space. A line is *wrapped* when the next line's first word would not have fit
  before the right margin (which mirrors the left one), as a typesetter decides; the joining
  itself is :func:`extractkit.normalize.join_wrapped_lines`.

Every function takes the caller's (locked) pypdfium2 text page; nothing here locks.
"""

from __future__ import annotations

import math
import re
from itertools import pairwise
from typing import Any, NamedTuple

from extractkit.normalize import contains_cjk_letters, join_wrapped_lines

from .pdf_tables import TABLE_GAP_EM, is_tabular, is_tabular_text, spaced_lines
from .pdfium_bulk import char_angles, char_index, char_indexes, in_bmp, loose_boxes, utf16_length

__all__ = [
    "TABLE_GAP_EM",
    "LineGeometry",
    "arrange",
    "in_bmp",
    "is_tabular",
    "is_tabular_text",
    "is_upright",
    "measure_lines",
    "measure_lines_and_slants",
    "needs_arranging",
    "runs_vertically",
    "spaced_lines",
    "top_to_bottom",
    "wrapped_flags",
]

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
Box = tuple[float, float, float, float]
_line_geometry = tuple.__new__  # builds a LineGeometry from its five fields without the keyword-parsing constructor


class LineGeometry(NamedTuple):
    """Where one line of text sits: its first and last visible characters' loose boxes, font height and angle."""

    first: Box
    last: Box
    size: float
    angle: float
    #: Width of the line's first word (a run of Latin characters, or one CJK character).
    head_width: float = 0.0
    #: Whether the line's glyphs stand upright (turned less than a degree): :func:`is_upright` of ``angle``.
    upright: bool = True


def measure_lines(textpage: Any, lines: list[tuple[str, int]]) -> list[LineGeometry | None]:
    """The geometry of every line (``None`` for an empty one); ``lines`` are (text, UTF-16 offset) pairs.

    The characters measured (each line's first and last visible one and the end of its first word)
    are found first, then all their boxes are fetched from pdfium in one pass. A line whose first
    and last boxes share their bottom and top and run left to right is upright; only the other
    lines' angles are asked for. A page whose character indexes are not its text offsets is
    measured by :func:`_measure_lines_one_by_one`.
    """
    return measure_lines_and_slants(textpage, lines)[0]


def measure_lines_and_slants(textpage: Any, lines: list[tuple[str, int]]) -> tuple[list[LineGeometry | None], int]:
    """:func:`measure_lines`, and how many lines are not shown level by their boxes.

    Only such a line can run vertically: a page with fewer than two of them is not set in
    vertical columns (:func:`runs_vertically` needs two vertical lines), and is not asked.
    """
    if not _indexes_are_offsets(textpage, lines):
        measured = _measure_lines_one_by_one(textpage, lines)
        return measured, sum(1 for geometry in measured if geometry is not None)
    firsts: list[int] = []
    lasts: list[int] = []
    # Where each line's first word ends: the line's first character itself (``None``) unless a run
    # of printable ASCII starts the line, whose last character is then fetched too: its place in
    # ``heads``, whose boxes come after those of ``firsts`` and ``lasts``.
    head_at: list[int | None] = []
    heads: list[int] = []
    kept: list[bool] = []
    match_word = _FIRST_WORD.match
    for line, offset in lines:
        body = line.strip()
        kept.append(bool(body))
        if body:
            first = offset + line.index(body[0])
            end = match_word(body).end() if "\x21" <= body[0] <= "\x7e" else 1  # type: ignore[union-attr]
            if end > 1:
                head_at.append(len(heads))
                heads.append(first + end - 1)
            else:
                head_at.append(None)
            firsts.append(first)
            lasts.append(first + len(body) - 1)
    count = len(firsts)
    lefts, bottoms, rights, tops = loose_boxes(textpage, firsts + lasts + heads)
    second = slice(count, 2 * count)
    first_boxes = zip(lefts[:count], bottoms[:count], rights[:count], tops[:count], strict=True)
    last_boxes = zip(lefts[second], bottoms[second], rights[second], tops[second], strict=True)
    head_rights = [rights[position if at is None else 2 * count + at] for position, at in enumerate(head_at)]
    measured: list[LineGeometry] = []
    unproven: list[int] = []  # lines whose boxes do not show them upright: their angles are asked for
    for position, first_box, last_box, head_right in zip(
        range(count), first_boxes, last_boxes, head_rights, strict=True
    ):
        if not (first_box[1] == last_box[1] and first_box[3] == last_box[3] and last_box[0] > first_box[0]):
            unproven.append(position)
        size = abs(last_box[3] - last_box[1]) or 10.0
        measured.append(_line_geometry(LineGeometry, (first_box, last_box, size, 0.0, head_right - first_box[0], True)))
    if unproven:
        turns = char_angles(textpage, [firsts[position] for position in unproven])
        for position, turn in zip(unproven, turns, strict=True):
            measured[position] = _turned(measured[position], math.degrees(turn) % 360)
    if count == len(lines):  # no blank line
        return list(measured), len(unproven)
    found = iter(measured)
    return [next(found) if keep else None for keep in kept], len(unproven)


def _turned(geometry: LineGeometry, angle: float) -> LineGeometry:
    """``geometry`` with its glyphs' measured ``angle`` (degrees in [0, 360)), and the size and uprightness it gives."""
    up = angle < 1.0 or angle > 359.0  # is_upright() of an angle in [0, 360)
    size = geometry.size
    if not up:
        left, _, right, _ = geometry.last
        size = max(abs(geometry.last[3] - geometry.last[1]), abs(right - left)) or 10.0
    return geometry._replace(size=size, angle=angle, upright=up)


def _measure_lines_one_by_one(textpage: Any, lines: list[tuple[str, int]]) -> list[LineGeometry | None]:
    """:func:`measure_lines` for a page whose character indexes are not its text offsets."""
    spans: list[tuple[int, int, int] | None] = []
    for line, offset in lines:
        first, last = len(line) - len(line.lstrip()), len(line.rstrip()) - 1
        if last < first:
            spans.append(None)
            continue
        word_end = first + len(_FIRST_WORD.match(line, first).group()) - 1  # type: ignore[union-attr]
        if line.isascii():
            spans.append((offset + first, offset + last, offset + word_end))
        else:
            spans.append(
                (
                    offset + utf16_length(line[:first]),
                    offset + utf16_length(line[:last]),
                    offset + utf16_length(line[:word_end]),
                )
            )
    # Text offsets to pdfium's character indexes.
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
            LineGeometry(first, last, size, angle, head_right - first[0] if span[2] >= 0 else size, is_upright(angle))
            for first, last, size, angle, head_right, span in zip(
                firsts, lasts, sizes, degrees, head_rights, measurable, strict=True
            )
        ]
    )
    return [None if span is None else next(measured_spans) for span in wanted]


def _indexes_are_offsets(textpage: Any, lines: list[tuple[str, int]]) -> bool:
    """True when pdfium's character indexes equal the text offsets on this page (BMP text, no gaps).

    A text page that has told so while its text was read is believed (:mod:`.pdfium_pages`).
    Otherwise this is checked at the last character of every fourth line and of the last one, so
    a page where the two drift apart is caught and measured the slow way.
    """
    if not lines:
        return False
    known = getattr(textpage, "indexes_are_offsets", None)  # what reading the text found (.pdfium_pages)
    if known is not None:
        return known
    probes = lines[::4]
    if len(lines) % 4 != 1:  # the last line is not among them yet
        probes.append(lines[-1])
    ends = []
    for line, offset in probes:
        if line:
            if not (line.isascii() or in_bmp(line)):
                return False
            ends.append(offset + len(line) - 1)
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
    count = len(lines)
    upright_lefts = [g.first[0] for g in geometry if g is not None and g.upright]
    if not upright_lefts or page_width <= 0:
        return [False] * count
    edge = page_width - max(0.0, min(upright_lefts))
    flags = [False] * count
    wrapped = 0
    for index, (g, following) in enumerate(pairwise(geometry)):
        if (
            g is not None
            and following is not None
            and g.upright
            and following.upright
            and g.last[2] + following.head_width >= edge - WRAP_TOLERANCE_EM * g.size
        ):
            flags[index] = True
            wrapped += 1
    return flags if wrapped >= WRAP_MIN_LINES else [False] * count


def is_upright(angle: float) -> bool:
    """True for glyphs turned less than a degree."""
    return min(angle % 360, 360 - angle % 360) < 1.0


def needs_arranging(textpage: Any, text: str, tabular: bool | None = None) -> bool:
    """True when a page's text needs :func:`arrange`: CJK text, a table of figures, or turned glyphs.

    ``tabular`` is :func:`is_tabular_text` of ``text`` where the caller has it already.
    """
    import pypdfium2.raw as pdfium_c

    if tabular is None:
        tabular = is_tabular_text(text)
    if tabular or contains_cjk_letters(text):
        return True
    first = char_index(textpage, utf16_length(text[: len(text) - len(text.lstrip())]))
    return first >= 0 and not is_upright(math.degrees(pdfium_c.FPDFText_GetCharAngle(textpage, first)))


def arrange(
    textpage: Any,
    lines: list[tuple[str, int]],
    page_width: float,
    geometry: list[LineGeometry | None] | None = None,
    tabular: bool | None = None,
    cjk: bool | None = None,
    upright: bool | None = None,
) -> str:
    """A horizontal page's text with gaps, order and soft line breaks fixed from the character boxes.

    Prose in columns keeps pdfium's order; tables and turned text are put top to bottom.
    ``geometry``, ``tabular``, ``cjk`` and ``upright`` are :func:`measure_lines`, :func:`is_tabular`,
    whether any line holds a CJK letter and whether every line stands upright, where the caller
    knows them already.
    """
    texts = [line for line, _ in lines]
    if geometry is None:
        geometry = measure_lines(textpage, lines)
    if tabular is None:
        tabular = is_tabular(texts)
    if tabular:
        texts = spaced_lines(textpage, lines)
    turned = not (all(g.upright for g in geometry if g is not None) if upright is None else upright)
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
