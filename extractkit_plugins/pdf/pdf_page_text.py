"""One loaded page's text layer in reading order: vertical columns, soft line breaks, tables, turned text.

:func:`page_text` reads pdfium's text of a page and puts it in reading order. Tategaki columns,
which pdfium lists left to right, are put right to left; horizontal CJK text, tables and turned
text go through :func:`.pdf_layout.arrange`. Every function takes the caller's (locked) text page.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

from extractkit.normalize import contains_cjk_letters

from .pdf_layout import (
    arrange,
    in_bmp,
    is_tabular_text,
    measure_lines,
    measure_lines_and_slants,
    needs_arranging,
    runs_vertically,
)
from .pdf_text_quality import visible_characters
from .pdfium_bulk import char_indexes, tight_boxes, utf16_length


class PageText(NamedTuple):
    """A page's text in reading order, and how many of its characters are not white space."""

    text: str
    visible: int


def page_text(textpage: Any, page_width: float = 0.0) -> str:
    """A page's text layer with plain line breaks, in reading order.

    Tategaki columns are put right to left; horizontal CJK text, tables and turned text go through
    :func:`.pdf_layout.arrange` (soft line breaks, measured gaps, top-to-bottom order).
    ``page_width`` (points, in the text's own coordinates) places the right margin.
    """
    return read_page_text(textpage, page_width).text


def read_page_text(textpage: Any, page_width: float = 0.0) -> PageText:
    """:func:`page_text`, with its count of visible characters.

    The count is made from pdfium's text as it comes: putting lines in order, joining them and
    spacing table cells move, add or drop only white space. Vertical columns are counted after
    they are put in order, which leaves out lines pdfium cannot place.
    """
    raw_text = textpage.get_text_range()
    if not raw_text:
        return PageText("", 0)
    words = raw_text.split()
    visible = sum(map(len, words))  # visible_characters() of the text, from the words already split
    lines = geometry = upright = None
    tabular = is_tabular_text(raw_text, words)
    cjk = contains_cjk_letters(raw_text)
    # Character indexes equal text offsets only on a page of BMP characters (.pdfium_pages).
    bmp = True if getattr(textpage, "indexes_are_offsets", False) else None
    if cjk:  # only Japanese and Chinese are set in vertical columns
        lines = _lines_with_offsets(raw_text, bmp)
        geometry, slanted = measure_lines_and_slants(textpage, lines)
        upright = True if slanted == 0 else None  # a line whose boxes are level stands upright
        if slanted >= 2 and runs_vertically(lines, geometry):
            raw_text = "\n".join(_vertical_reading_order(textpage, lines))
            visible = visible_characters(raw_text)
            lines = None
    elif needs_arranging(textpage, raw_text, tabular):
        lines = _lines_with_offsets(raw_text, bmp)
    if lines is not None:
        raw_text = arrange(textpage, lines, page_width, geometry, tabular, cjk, upright)
    text = raw_text.replace("\r\n", "\n").replace("\r", "\n").replace("\xa0", " ")
    # pdfium marks a hyphen that breaks a word at a line end with U+0002, and the document's own
    # hyphen there (where its font maps none) with the non-character U+FFFE.
    return PageText(text.replace("\x02", "-").replace("\ufffe", "-"), visible)


def vertical_page_text(pdf: Any, index: int) -> str | None:
    """A page's text in tategaki reading order if it is set in vertical columns, else ``None``; call under the lock."""
    page = pdf[index]
    try:
        textpage = page.get_textpage()
        try:
            lines = _lines_with_offsets(textpage.get_text_range() or "")
            return page_text(textpage) if runs_vertically(lines, measure_lines(textpage, lines)) else None
        finally:
            textpage.close()
    finally:
        page.close()


def _lines_with_offsets(text: str, bmp: bool | None = None) -> list[tuple[str, int]]:
    """Each line of pdfium's text with its start offset in UTF-16 units (pdfium's text indexes).

    ``bmp`` says whether every character is in the BMP, where the caller knows (one unit each).
    """
    lines = []
    offset = 0
    measure = len if (in_bmp(text) if bmp is None else bmp) else utf16_length
    for line in text.splitlines(keepends=True):
        lines.append((line.rstrip("\r\n"), offset))
        offset += measure(line)
    return lines


Box = tuple[float, float, float, float]


def _line_boxes(textpage: Any, lines: list[tuple[str, int]]) -> list[Box | None]:
    """The box spanned by each line's first and last visible characters (their tight boxes); ``None`` for a blank one.

    A character pdfium has no index for is left out; a line with neither is ``None``.
    """
    ends: list[tuple[int, int] | None] = []
    for line, offset in lines:
        first, last = len(line) - len(line.lstrip()), len(line.rstrip()) - 1
        ends.append(None if last < first else (offset + utf16_length(line[:first]), offset + utf16_length(line[:last])))
    indexes = char_indexes(textpage, [index for pair in ends if pair is not None for index in pair])
    lefts, bottoms, rights, tops = tight_boxes(textpage, indexes)
    spans: list[Box | None] = []
    position = 0
    for pair in ends:
        if pair is None:
            spans.append(None)
            continue
        found = [at for at in (position, position + 1) if indexes[at] >= 0]
        position += 2
        if not found:
            spans.append(None)
            continue
        spans.append(
            (
                min(lefts[at] for at in found),
                min(bottoms[at] for at in found),
                max(rights[at] for at in found),
                max(tops[at] for at in found),
            )
        )
    return spans


def _vertical_reading_order(textpage: Any, lines: list[tuple[str, int]]) -> list[str]:
    """Columns grouped into tiers top to bottom; within a tier, columns right to left."""
    boxed = [(line, box) for (line, _), box in zip(lines, _line_boxes(textpage, lines), strict=True) if box is not None]
    boxed.sort(key=lambda item: -item[1][3])
    tiers: list[list[tuple[str, Box]]] = []
    tier_bottom = math.inf
    for line, box in boxed:
        if tiers and box[3] > tier_bottom:
            tiers[-1].append((line, box))
            tier_bottom = min(tier_bottom, box[1])
        else:
            tiers.append([(line, box)])
            tier_bottom = box[1]
    ordered = []
    for tier in tiers:
        tier.sort(key=lambda item: -(item[1][0] + item[1][2]) / 2)
        ordered.extend(line for line, _ in tier)
    return ordered
