"""Look-alike confusions between CJK and Latin characters, the contexts that expose them, and Tesseract's evidence.

OCR engines read the kanji numerals ``一 二`` as a long-vowel mark, a dash, katakana ``ニ`` or
``=``; ``百`` as ``白``, ``及`` as ``肥``, ``条`` as ``打``; katakana ``カ タ`` as the kanji
``力 夕``; ``O`` as ``0`` at the start of a word. Each confusion has a context in which the
reading is implausible (a katakana ``ー`` between kanji, ``=`` before a kanji), but context alone
is not proof: ``ー`` after kanji is rare, not impossible. So a character changes only with
evidence:

* the other engine's reading of the same place (:func:`.ocr_choice.correct_lookalikes`), or
* Tesseract's own second opinion (``ocr.confirm_lookalikes``): every suspect is cut out of the
  page with its neighbours, the cut-outs are stacked into one small strip, and that strip is read
  once with the CJK model alone (``jpn``, no ``eng`` to prefer ``=`` or a dash). A suspect
  changes only when that reading has the right character beside a neighbour.

A numeral that opens an item line (``一　法第…``) has no neighbour in its word: those suspects, their
cut-out and the numbering check that must also agree are in :mod:`.line_items`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from extractkit.normalize import CJK_LETTERS

from .line_items import NUMERALS, item_cut, item_values, numbering_agrees, opens_item

if TYPE_CHECKING:
    from PIL import Image

    from .ocr_text import TsvLine

_KANJI = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_CJK_LETTER = re.compile(f"[{CJK_LETTERS}]")
_KATAKANA = re.compile(r"[\u30a1-\u30fa]")
_LOWER = re.compile(r"[a-z]")


def _kanji(char: str) -> bool:
    return bool(char) and _KANJI.match(char) is not None


def _numeral_context(text: str, index: int) -> bool:
    """A dash or katakana look-alike of a kanji numeral stands next to kanji and away from katakana."""
    before = text[index - 1] if index else ""
    after = text[index + 1] if index + 1 < len(text) else ""
    if (before and _KATAKANA.match(before)) or (after and _KATAKANA.match(after)):
        return False
    return _kanji(before) or _kanji(after)


def _kanji_context(text: str, index: int) -> bool:
    before = text[index - 1] if index else ""
    after = text[index + 1] if index + 1 < len(text) else ""
    return bool((before and _CJK_LETTER.match(before)) or (after and _CJK_LETTER.match(after)))


def _katakana_context(text: str, index: int) -> bool:
    """A kanji look-alike of a katakana letter (力 for カ) standing next to katakana."""
    before = text[index - 1] if index else ""
    after = text[index + 1] if index + 1 < len(text) else ""
    return bool((before and _KATAKANA.match(before)) or (after and _KATAKANA.match(after)))


def _latin_word_context(text: str, index: int) -> bool:
    """A digit zero opening or inside a word of lowercase letters (``0penSearch``)."""
    after = text[index + 1] if index + 1 < len(text) else ""
    return bool(after and _LOWER.match(after))


#: (read, right) -> the context in which ``read`` is implausible.
CONFUSIONS = {
    ("ー", "一"): _numeral_context,
    ("—", "一"): _numeral_context,
    ("－", "一"): _numeral_context,
    ("ニ", "二"): _numeral_context,
    ("=", "二"): _numeral_context,
    ("＝", "二"): _numeral_context,
    ("白", "百"): _kanji_context,
    ("肥", "及"): _kanji_context,
    ("打", "条"): _kanji_context,
    ("0", "O"): _latin_word_context,
    ("力", "カ"): _katakana_context,
    ("夕", "タ"): _katakana_context,
    ("口", "ロ"): _katakana_context,
    ("工", "エ"): _katakana_context,
    ("卜", "ト"): _katakana_context,
}


@dataclass(frozen=True)
class Suspect:
    """One character of a reading that may be a look-alike: where it is and what it may really be."""

    line: int
    word: int
    position: int
    right: str
    #: An item numeral opening its line: ``right`` holds the numerals the second reading chooses from.
    item: bool = False


def find_suspects(lines: list[TsvLine] | tuple[TsvLine, ...]) -> list[Suspect]:
    """Characters of one-character words whose context makes a known confusion plausible."""
    found = []
    for line_index, line in enumerate(lines):
        compact = "".join(word for word, _ in line.words)
        offset = 0
        for word_index, (word, _) in enumerate(line.words):
            if word_index == 0 and opens_item(line):
                found.append(Suspect(line_index, 0, 0, NUMERALS, item=True))
            if len(word) == 1:
                for (read, right), rule in CONFUSIONS.items():
                    if word == read and rule(compact, offset):
                        found.append(Suspect(line_index, word_index, 0, right))
                        break
            offset += len(word)
    return found


#: The strip of cut-outs: white around each, as a share of its line's height.
PADDING_EM = 0.6


def _context_box(line: TsvLine, word: int) -> tuple[int, int, int, int]:
    """The suspect word with its neighbours on either side, across the whole height of its line."""
    first, last = max(0, word - 1), min(len(line.boxes) - 1, word + 1)
    left = min(line.boxes[index][0] for index in range(first, last + 1))
    right = max(line.boxes[index][0] + line.boxes[index][2] for index in range(first, last + 1))
    top = min(box[1] for box in line.boxes)
    bottom = max(box[1] + box[3] for box in line.boxes)
    return left, top, right, bottom


def suspect_strip(
    page: Image.Image, lines: list[TsvLine] | tuple[TsvLine, ...], suspects: list[Suspect]
) -> tuple[Image.Image, list[int]]:
    """Each suspect with its neighbours cut out of the page, stacked top to bottom; and where each cell starts (y).

    A lone stroke is ``一`` or ``ー`` or a dash depending on what surrounds it, so the cut-out keeps
    the neighbouring characters and the line's full height.
    """

    crops = []
    for suspect in suspects:
        left, top, right, bottom = _context_box(lines[suspect.line], suspect.word)
        pad = round(PADDING_EM * (bottom - top))
        if suspect.item:
            crop = item_cut(page, lines[suspect.line])
        else:
            crop = page.crop((left, top, right, bottom)).convert("L")
        crops.append(padded_cell(crop, pad))
    return stacked_cells(crops)


def padded_cell(crop: Image.Image, pad: int) -> Image.Image:
    """A grey cut-out on white paper with ``pad`` pixels all round."""
    from PIL import Image as PILImage

    cell = PILImage.new("L", (crop.width + 2 * pad, crop.height + 2 * pad), 255)
    cell.paste(crop, (pad, pad))
    return cell


def stacked_cells(cells: list[Image.Image]) -> tuple[Image.Image, list[int]]:
    """Cells stacked top to bottom on one white strip, and where each cell starts (y)."""
    from PIL import Image as PILImage

    strip = PILImage.new("L", (max(cell.width for cell in cells), sum(cell.height for cell in cells)), 255)
    y, tops = 0, []
    for cell in cells:
        strip.paste(cell, (0, y))
        tops.append(y)
        y += cell.height
    return strip, tops


def expected_reading(line: TsvLine, suspect: Suspect) -> tuple[str, str]:
    """What the cut-out should read with the suspect corrected: (previous word + right, right + next word)."""
    words = [word for word, _ in line.words]
    before = words[suspect.word - 1] if suspect.word else ""
    after = words[suspect.word + 1] if suspect.word + 1 < len(words) else ""
    return before[-1:] + suspect.right, suspect.right + after[:1]


def readings_by_cell(strip_lines: list[TsvLine], tops: list[int]) -> list[str]:
    """The text read in each cell of the strip (empty where nothing was read), by the lines' positions."""
    import bisect

    readings = [""] * len(tops)
    for line in strip_lines:
        if not line.boxes:
            continue
        centre = line.boxes[0][1] + line.boxes[0][3] / 2
        cell = bisect.bisect_right(tops, centre) - 1
        if 0 <= cell < len(readings):
            readings[cell] += "".join(word for word, _ in line.words)
    return readings


def _confirmed(line: TsvLine, suspect: Suspect, reading: str) -> str | None:
    """The character the second reading shows for the suspect, or None when it does not confirm one.

    A neighbour's suspect must show its right character next to a neighbour as first read
    (``一法``, say); an item numeral must open its cut-out's reading, followed by its text's first
    character (``二前``).
    """
    compact = "".join(reading.split())
    if suspect.item:
        first = line.words[suspect.word + 1][0][:1]
        return next((char for char in suspect.right if compact.startswith(char + first)), None)
    with_before, with_after = expected_reading(line, suspect)
    if (len(with_before) > 1 and with_before in compact) or (len(with_after) > 1 and with_after in compact):
        return suspect.right
    return None


def _item_numerals(
    lines: list[TsvLine] | tuple[TsvLine, ...], confirmed: list[tuple[Suspect, str | None]]
) -> dict[int, str]:
    """Per item line (one opening with a look-alike), the numeral that its readings confirm and that
    continues the page's numbering; the line's own item cut-out is tried first, then the neighbours'."""
    values = item_values(lines)
    options: dict[int, list[str]] = {}
    for suspect, char in sorted(confirmed, key=lambda pair: not pair[0].item):
        if char and char in NUMERALS and suspect.word == 0 and values[suspect.line] == 0:
            options.setdefault(suspect.line, []).append(char)
    for index, chars in options.items():
        values[index] = NUMERALS.index(chars[0]) + 1
    accepted = {}
    for index, chars in options.items():
        for char in chars:
            values[index] = NUMERALS.index(char) + 1
            if numbering_agrees(values, index):
                accepted[index] = char
                break
        else:
            values[index] = 0
    return accepted


def apply_confirmed(
    lines: list[TsvLine] | tuple[TsvLine, ...], suspects: list[Suspect], readings: list[str]
) -> tuple[list[TsvLine], int]:
    """The lines with each suspect replaced where its second reading shows the right character in place.

    A cut-out that was read differently throughout proves nothing. The numeral opening an item line
    must moreover continue the page's numbering (:func:`.line_items.numbering_agrees`).
    """
    from dataclasses import replace

    confirmed = [
        (suspect, _confirmed(lines[suspect.line], suspect, reading))
        for suspect, reading in zip(suspects, readings, strict=False)
    ]
    items = _item_numerals(lines, confirmed)
    values = item_values(lines)
    changed_lines = list(lines)
    done: set[tuple[int, int]] = set()
    for suspect, char in confirmed:
        if char is None or (suspect.line, suspect.word) in done:
            continue
        if suspect.word == 0 and values[suspect.line] == 0 and items.get(suspect.line) != char:
            continue
        line = changed_lines[suspect.line]
        words = list(line.words)
        words[suspect.word] = (char, words[suspect.word][1])
        changed_lines[suspect.line] = replace(line, words=tuple(words))
        done.add((suspect.line, suspect.word))
    return changed_lines, len(done)
