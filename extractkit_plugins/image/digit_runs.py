"""Runs of digits on CJK lines that the CJK model read unsure of, and the re-readings that may replace them.

With ``-l jpn+eng`` Tesseract reads a number set inside a Japanese line (``第2024-118号``,
``2024年12月1日``, ``¥1,234,500``) with the ``jpn`` model, which misreads digits (``2924``,
``1,234,509``) at a low word confidence. Context never proves a digit wrong; what does is the
``eng`` model's reading of the same glyphs cut out of the page (:mod:`.digit_reread`). This module
holds the pure part: which runs are suspect (:func:`find_digit_runs`), whether a re-reading may
replace one (:func:`accepted_reading`: confident, clearly above the first reading, and of the same
shape), and the lines with the accepted ones put in (:func:`apply_rereads`). The CJK characters
around a run are never changed.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from extractkit.normalize import contains_cjk_letters

if TYPE_CHECKING:
    from collections.abc import Sequence

    from .ocr_text import Box, TsvLine

#: A run read with a word confidence below this is re-read. Measured on CJK lines with dates, codes
#: and amounts in IPA Gothic and Mincho at 200 and 300 dpi: the jpn model's wrong digits came at
#: 53-80 (``1.234,509`` at 79, ``29`` for ``20`` at 80), its right ones at 62-93.
LOW_CONFIDENCE = 85.0
#: A re-reading replaces a run only at this confidence or more, and this much above the first reading.
ACCEPT_CONFIDENCE = 80.0
ACCEPT_MARGIN = 15.0

_DIGITS = "0-9\uff10-\uff19"
#: Characters the CJK model writes for a digit inside a group of digits (``2O24``, ``l8``).
_LOOKALIKES = "OoIl|"
_SEPARATORS = ",.\\-/:\uff0c\uff0e\uff0d\uff0f\uff1a\u30fc\u2212\u2013"
_GROUP = f"[{_DIGITS}{_LOOKALIKES}]*[{_DIGITS}][{_DIGITS}{_LOOKALIKES}]*"
_RUN = re.compile(f"{_GROUP}(?:[{_SEPARATORS}]{_GROUP})*")
_SPLIT = re.compile(f"[{_SEPARATORS}]")
#: A re-reading is a run of plain digits, with at most currency or brackets before and punctuation after.
_READING = re.compile(r"[¥$\\#(（:：]*([0-9]+(?:[,./:\-][0-9]+)*)[)）:：.,、。%]*")
#: Separators that stand for one another: a comma read as a period is the same shape.
_SEPARATOR_CLASS = {",": ",", ".": ",", "-": "-", "ー": "-", "−": "-", "–": "-", "/": "/", ":": ":"}


@dataclass(frozen=True)
class DigitRun:
    """A run of digits of one line, over words ``first`` to ``last``, with the text around it in those words."""

    line: int
    first: int
    last: int
    head: str
    run: str
    tail: str
    confidence: float


def _joined(words: Sequence[str]) -> tuple[str, list[int]]:
    """The words joined, without a break only where a separator meets the junction (``1,`` + ``500``); word starts."""
    text, starts = "", []
    for index, word in enumerate(words):
        if index and not (_SPLIT.fullmatch(text[-1:]) or _SPLIT.fullmatch(word[:1])):
            text += " "
        starts.append(len(text))
        text += word
    return text, starts


def find_digit_runs(lines: Sequence[TsvLine], threshold: float = LOW_CONFIDENCE) -> list[DigitRun]:
    """Runs of digits (and look-alikes within a group of digits) on lines with CJK letters, read below ``threshold``."""
    found = []
    for index, line in enumerate(lines):
        words = [word for word, _ in line.words]
        if line.vertical or not contains_cjk_letters("".join(words)):
            continue
        text, starts = _joined(words)
        for match in _RUN.finditer(text):
            first = max(i for i, start in enumerate(starts) if start <= match.start())
            last = max(i for i, start in enumerate(starts) if start < match.end())
            confidences = [line.words[i][1] for i in range(first, last + 1) if line.words[i][1] >= 0]
            confidence = min(confidences, default=0.0)
            if confidence >= threshold:
                continue
            head = text[starts[first] : match.start()]
            tail = text[match.end() : starts[last] + len(words[last])]
            found.append(DigitRun(index, first, last, head, match.group(0).replace(" ", ""), tail, confidence))
    return found


def _shape(run: str) -> tuple[list[int], list[str]]:
    """The lengths of a run's digit groups and its separators, each by its class."""
    groups = [len(group) for group in _SPLIT.split(run)]
    separators = [_SEPARATOR_CLASS.get(unicodedata.normalize("NFKC", sep), sep) for sep in _SPLIT.findall(run)]
    return groups, separators


def same_shape(first: str, second: str) -> bool:
    """Same separators (by class) and groups of the same lengths, but for one group a glyph longer or shorter.

    One glyph more or less in one group is a merged or split glyph (``11`` read as one stroke, a
    kanji after the run read as a digit); anything else is another number.
    """
    (groups, separators), (other_groups, other_separators) = _shape(first), _shape(second)
    if separators != other_separators or len(groups) != len(other_groups):
        return False
    differences = [abs(a - b) for a, b in zip(groups, other_groups, strict=True) if a != b]
    return not differences or differences == [1]


def accepted_reading(run: DigitRun, reading: str, confidence: float) -> str | None:
    """The digits that replace ``run``, or None when the re-reading is no evidence against it.

    The re-reading must be confident (:data:`ACCEPT_CONFIDENCE`, and :data:`ACCEPT_MARGIN` above the
    run's own), hold one run of digits and nothing but a currency sign, bracket or punctuation
    around it (letters mean the cut-out took in a kanji, read as Latin), have the run's shape, and differ
    from it (or join the words the run was split into: ``1,234,`` ``500``).
    """
    if confidence < ACCEPT_CONFIDENCE or confidence < run.confidence + ACCEPT_MARGIN:
        return None
    match = _READING.fullmatch("".join(reading.split()))
    if match is None:
        return None
    digits = match.group(1)
    if not same_shape(run.run, digits):
        return None
    if unicodedata.normalize("NFKC", run.run) == digits and run.first == run.last:
        return None  # read the same; but a run the first reading split into two words is one
    return digits


def _union(boxes: Sequence[Box]) -> Box:
    left, top = min(box[0] for box in boxes), min(box[1] for box in boxes)
    right, bottom = max(box[0] + box[2] for box in boxes), max(box[1] + box[3] for box in boxes)
    return left, top, right - left, bottom - top


def apply_rereads(
    lines: Sequence[TsvLine], runs: Sequence[DigitRun], readings: Sequence[tuple[str, float]]
) -> tuple[list[TsvLine], int]:
    """The lines with each run whose re-reading is accepted replaced (its words joined into one); how many changed."""
    changed = list(lines)
    accepted = [
        (run, digits, confidence)
        for run, (reading, confidence) in zip(runs, readings, strict=False)
        if (digits := accepted_reading(run, reading, confidence))
    ]
    # Right to left within a line, so that joining a run's words leaves the earlier indices in place.
    for run, digits, confidence in sorted(accepted, key=lambda item: (item[0].line, -item[0].first)):
        line = changed[run.line]
        words, boxes = list(line.words), list(line.boxes)
        words[run.first : run.last + 1] = [(run.head + digits + run.tail, confidence)]
        if len(line.boxes) == len(line.words):
            boxes[run.first : run.last + 1] = [_union(line.boxes[run.first : run.last + 1])]
        changed[run.line] = replace(line, words=tuple(words), boxes=tuple(boxes))
    return changed, len(accepted)
