"""Tables of figures on a text page: telling one, and the word gaps pdfium misses in it.

Right-aligned numeric columns sit closer than pdfium's space threshold, so ``0 0`` comes out as
``00``. On a tabular page (many lines of three numbers or more) every gap wider than
:data:`TABLE_GAP_EM` of the font size between two characters of a word becomes a space.

Every function takes the caller's (locked) pypdfium2 text page; nothing here locks.
"""

from __future__ import annotations

import bisect
import re
from typing import Any

from .pdfium_bulk import CharBoxes, char_index, char_indexes, in_bmp, loose_boxes, utf16_length

#: A gap between two characters of a tabular line wider than this share of the font size is a space.
TABLE_GAP_EM = 0.3
#: A page is tabular when this many lines, and this share of them, hold three numbers or more.
TABLE_MIN_LINES = 5
TABLE_LINE_SHARE = 0.3

_LONG_WORD = re.compile(r"\S{2,}")
#: A number: a word (white space on both sides) of an optional sign or parenthesis, an optional
#: currency sign, a digit, then digits, commas and points, an optional ``%`` and ``)``. And what
#: such a word starts with besides a digit.
_NUMBER_WORD = re.compile(r"[-+(]?[$€¥£]?\d[\d,.]*%?\)?")
_NUMBER_STARTS = frozenset("-+($€¥£")


def is_tabular(lines: list[str]) -> bool:
    """True when many lines hold three or more numbers: a table of figures."""
    if len(lines) < TABLE_MIN_LINES:
        return False
    numeric = sum(1 for line in lines if count_numbers(line, 3) >= 3)
    return numeric >= TABLE_MIN_LINES and numeric >= TABLE_LINE_SHARE * len(lines)


def is_tabular_text(text: str, words: list[str] | None = None) -> bool:
    """:func:`is_tabular` of the text's lines; text with too few numbers in all for a table is told at once.

    A number never spans a line break, so the whole text holds the sum of its lines' numbers.
    ``words`` is ``text.split()`` where the caller has it already.
    """
    enough = 3 * TABLE_MIN_LINES
    if count_number_words(text.split() if words is None else words, enough) < enough:
        return False
    return is_tabular(text.splitlines())


def count_numbers(text: str, enough: int) -> int:
    """How many numbers (``_NUMBER_WORD`` words) the text holds, counting no further than ``enough``.

    ``str.split()`` splits at exactly what the regex class ``\\s`` matches.
    """
    return count_number_words(text.split(), enough)


def count_number_words(words: list[str], enough: int) -> int:
    """How many of ``words`` are numbers, counting no further than ``enough``.

    Only words that start as a number are matched, and they are few in prose.
    """
    found = 0
    for word in words:
        first = word[0]
        if (first in _NUMBER_STARTS or first.isdecimal()) and _NUMBER_WORD.fullmatch(word):
            found += 1
            if found >= enough:
                break
    return found


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
        position += utf16_length(char)
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
