"""Kanji item numerals that open a line (``一　法第二十五条…``): their look-alikes, cut-out and numbering.

Japanese legal text numbers its items with a kanji numeral, a space (often U+3000) and the item's
text. OCR reads a lone numeral there as a long-vowel mark, a dash or ``=``: with a blank on its
right and nothing on its left, a single stroke has no context. At a line start such a reading is
implausible (a long-vowel mark cannot open a Japanese line, ``=`` does not stand before a
Japanese sentence), so the character is a suspect whose true value is one of :data:`NUMERALS`.

Two kinds of evidence must agree before it changes:

* a second, CJK-only reading of a cut-out in which the space is closed up (the numeral pasted
  close to the next few characters, :func:`item_cut`), so that the model reads the stroke as part
  of the text that follows; it must read a numeral followed by that text's first character;
* the page's numbering (:func:`numbering_agrees`): items count up (一, 二, 三 …), so the
  numeral must be one more than the nearest numbered item before it (counting the items between)
  or one less than the nearest after it. A column of dash bullets re-read as ``一 一 一`` agrees
  with nothing and stays as it is.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING

from extractkit.normalize import CJK_LETTERS

if TYPE_CHECKING:
    from PIL import Image

    from .ocr_text import TsvLine

#: What OCR reads for a lone kanji numeral 一 二 三 at the start of a line.
LOOKALIKES = frozenset("ー—－=＝ニ")
#: The numerals such a look-alike may be; the second reading says which.
NUMERALS = "一二三"
_DIGITS = {char: value for value, char in enumerate("一二三四五六七八九", start=1)}
#: A gap between two word boxes at least this share of the line's height is a space.
SPACE_EM = 0.3
#: The item cut-out: the numeral, a gap of CLOSED_GAP_EM and the text up to FOLLOWING_EM after the space.
CLOSED_GAP_EM = 0.15
FOLLOWING_EM = 4.0
_CJK_LETTER = re.compile(f"[{CJK_LETTERS}]")
_TEXT_ITEM = re.compile(rf"^[ \t\u3000]*(\S+)[ \t\u3000]+(?=[{CJK_LETTERS}])")


def numeral_value(word: str) -> int | None:
    """The value of a kanji numeral up to 九十九 (``三`` 3, ``十二`` 12, ``二十`` 20), else None."""
    if not word or any(char not in _DIGITS and char != "十" for char in word):
        return None
    if "十" not in word:
        return _DIGITS[word] if len(word) == 1 else None
    tens, _, ones = word.partition("十")
    if len(tens) > 1 or len(ones) > 1 or "十" in ones:
        return None
    return 10 * (_DIGITS[tens] if tens else 1) + (_DIGITS[ones] if ones else 0)


def _height(line: TsvLine) -> int:
    return max(box[1] + box[3] for box in line.boxes) - min(box[1] for box in line.boxes)


def _opening(line: TsvLine) -> int:
    """How many words of the line form its opening item label (0 when it opens with no label and space).

    The label is the first word, or the first run of kanji-numeral words set close together; a space
    (a gap of :data:`SPACE_EM`) must follow it, then a CJK letter.
    """
    if len(line.boxes) < 2 or len(line.boxes) != len(line.words):
        return 0
    height, count = _height(line), 1
    while count < len(line.words) and numeral_value("".join(word for word, _ in line.words[: count + 1])):
        if line.boxes[count][0] - (line.boxes[count - 1][0] + line.boxes[count - 1][2]) >= SPACE_EM * height:
            break
        count += 1
    if count == len(line.words):
        return 0
    gap = line.boxes[count][0] - (line.boxes[count - 1][0] + line.boxes[count - 1][2])
    following = line.words[count][0]
    if gap < SPACE_EM * height or not _CJK_LETTER.match(following) or following[0] in LOOKALIKES:
        return 0
    return count


def opens_item(line: TsvLine) -> bool:
    """True when the line opens with a one-character look-alike of a numeral, a space and CJK text."""
    return _opening(line) == 1 and line.words[0][0] in LOOKALIKES


def item_values(lines: Sequence[TsvLine]) -> list[int | None]:
    """Per line: the number of the item it opens (0 when it opens with a suspect look-alike), else None."""
    values: list[int | None] = []
    for line in lines:
        count = _opening(line)
        label = "".join(word for word, _ in line.words[:count])
        values.append(0 if opens_item(line) else numeral_value(label) if count else None)
    return values


def text_item_values(text: str) -> list[int | None]:
    """:func:`item_values` for plain text, line by line: a label, then whitespace, then a CJK letter."""
    values: list[int | None] = []
    for line in text.split("\n"):
        found = _TEXT_ITEM.match(line)
        label = found.group(1) if found else ""
        values.append(0 if len(label) == 1 and label in LOOKALIKES else numeral_value(label) if found else None)
    return values


def numbering_agrees(values: Sequence[int | None], index: int) -> bool:
    """True when item ``values[index]`` continues the page's numbering.

    ``values`` holds per line the item number (None: no item, 0: an item of unknown number). The
    nearest numbered item before must be ``n`` less when ``n`` items lie between, or the nearest
    after ``n`` more.
    """
    value = values[index]
    if not value:
        return False
    items = [(position, found) for position, found in enumerate(values) if found is not None]
    rank = next(order for order, (position, _) in enumerate(items) if position == index)
    before = next(
        ((rank - order, found) for order, (_, found) in reversed(list(enumerate(items[:rank]))) if found), None
    )
    after = next(((order - rank, found) for order, (_, found) in enumerate(items) if order > rank and found), None)
    return (before is not None and before[1] + before[0] == value) or (
        after is not None and after[1] - after[0] == value
    )


def item_cut(page: Image.Image, line: TsvLine) -> Image.Image:
    """The line's opening numeral and the text after its space, the space closed up to a narrow gap.

    Across the blank a lone stroke is read as a dash; set close to the following characters it is
    read as part of the text, as a kanji.
    """
    from PIL import Image as PILImage

    top = min(box[1] for box in line.boxes)
    height = _height(line)
    left, _, width, _ = line.boxes[0]
    start = line.boxes[1][0]
    end = max(box[0] + box[2] for box in line.boxes[1:] if box[0] < start + FOLLOWING_EM * height)
    numeral = page.crop((left, top, left + width, top + height)).convert("L")
    following = page.crop((start, top, end, top + height)).convert("L")
    gap = round(CLOSED_GAP_EM * height)
    cut = PILImage.new("L", (numeral.width + gap + following.width, height), 255)
    cut.paste(numeral, (0, 0))
    cut.paste(following, (numeral.width + gap, 0))
    return cut


# -- another engine's reading as the evidence ------------------------------------------------------

#: Two lines are the same line when the first BODY_CHARS characters of their text after the label
#: (whitespace aside) match at least BODY_AGREEMENT.
BODY_CHARS = 10
BODY_AGREEMENT = 0.8
_LABEL = re.compile(rf"^([ \t\u3000]*)(\S+?)([ \t\u3000]+)(?=[{CJK_LETTERS}])")


def _parts(line: str) -> tuple[str, str, str] | None:
    """A text line's item label, the whitespace after it and its body, or None when it opens no item."""
    found = _LABEL.match(line)
    if found is None:
        return None
    return found.group(2), found.group(3), line[found.end() :]


def _same_body(body: str, other: str) -> bool:
    """True when two bodies (the text after an item label) begin with the same characters."""
    from difflib import SequenceMatcher

    first, second = "".join(body.split())[:BODY_CHARS], "".join(other.split())[:BODY_CHARS]
    if len(first) < 2 or len(second) < 2 or not _CJK_LETTER.match(first):
        return False
    return SequenceMatcher(None, first, second, autojunk=False).ratio() >= BODY_AGREEMENT


def _repairs(line: str, label: str, body: str) -> list[tuple[str, bool]]:
    """The line as it reads with the other reading's label, and whether its body is that line's.

    A repair exists when the line's label is one look-alike, lost, set without its space or with
    an ASCII one. The space between the kanji numeral and the CJK text is U+3000, as
    :mod:`.ocr_text` sets it.
    """
    space = "\u3000"
    own = _parts(line)
    stripped = line.lstrip()
    indent = line[: len(line) - len(stripped)]
    if own is not None and len(own[0]) == 1 and own[0] in LOOKALIKES and label in NUMERALS:
        return [(f"{indent}{label}{space}{own[2]}", _same_body(own[2], body))]
    if own is not None and own[0] == label and own[1] != space:  # an ASCII space after a kanji numeral
        return [(f"{indent}{label}{space}{own[2]}", _same_body(own[2], body))]
    if own is None and stripped.startswith(label) and numeral_value(stripped[: len(label) + 1]) is None:
        return [(f"{indent}{label}{space}{stripped[len(label) :]}", _same_body(stripped[len(label) :], body))]
    if own is None or numeral_value(own[0]) is None:
        return [(f"{indent}{label}{space}{stripped}", _same_body(stripped, body))]
    return []


def confirm_items(text: str, evidence: str) -> tuple[str, int]:
    """``text`` with its item labels restored where another reading of the page (``evidence``) confirms them.

    A line of ``text`` may open with a numeral's look-alike (``—　法第…``), have lost its numeral
    (``法第…``) or its space (``一法第…``), or have an ASCII space after it (``一 法第…``). It
    changes only where ``evidence`` has a line that opens with a kanji numeral, a space and the
    same body (:data:`BODY_CHARS` characters agreeing), the two lines match only each other, and the
    numeral, set in ``text``, continues ``text``'s numbering (:func:`numbering_agrees`; a column of
    dash bullets that the other engine read as ``一 一 一`` continues nothing). A look-alike becomes
    only one of :data:`NUMERALS`. Returns the text and how many lines changed.
    """
    lines, others = text.split("\n"), evidence.split("\n")
    other_values = text_item_values(evidence)
    labelled = [
        (parts, index)
        for index, parts in enumerate(_parts(line) for line in others)
        if parts is not None and other_values[index]
    ]
    proposals: dict[int, tuple[str, int]] = {}
    for index, line in enumerate(lines):
        found = [
            (repaired, source)
            for (label, _, body), source in labelled
            for repaired, same in _repairs(line, label, body)
            if same
        ]
        if len(found) == 1:
            proposals[index] = found[0]
    sources = Counter(source for _, source in proposals.values())
    proposals = {index: found for index, found in proposals.items() if sources[found[1]] == 1}  # one line each
    values = text_item_values(text)
    for index, (repaired, _) in proposals.items():
        values[index] = text_item_values(repaired)[0]
    accepted = [index for index in proposals if numbering_agrees(values, index)]
    for index in accepted:
        lines[index] = proposals[index][0]
    return "\n".join(lines), len(accepted)
