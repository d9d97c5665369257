"""Choosing between two engines' readings of a page, and fixing look-alike confusions with evidence.

Tesseract's mean word confidence and PP-OCR's mean character probability are on different
scales, so neither is compared raw. Each is *calibrated* into an expected character error rate,
``error = intercept + slope * (100 - confidence)``, with one line per engine fitted by least
squares on the generated fixture pages (``python bench/quality.py --calibrate`` refits and prints
them; the fixtures' text, fonts and degradations are not the held-out ones). The reading with
the lower expected error is kept.

Look-alike confusions (the kanji numerals ``一 二`` read as ``ー`` ``—`` ``ニ`` ``=``, ``百`` as
``白``, ``及`` as ``肥``, ``条`` as ``打``, ``O`` as ``0`` in a word, katakana ``カタ`` as the kanji
``力夕``) are corrected only where the
context makes the reading implausible *and* the other engine read the right character at the
same place of the aligned text. Without that evidence nothing changes.

An item label that opens a line (``一　法第…``) has no neighbour to align: the kept reading's
line with a look-alike numeral, a lost numeral or a lost space after it takes the other
reading's label where the other reading has the same line (the same text after the label) opened
by a numeral, and that numeral continues the numbering of both readings
(:func:`.line_items.confirm_items`).
"""

from __future__ import annotations

import difflib
from dataclasses import replace

from .line_items import confirm_items
from .lookalikes import CONFUSIONS
from .ocr import OcrResult

#: (intercept, slope) of the expected CER per engine, from ``bench/quality.py --calibrate``.
CALIBRATION: dict[str, tuple[float, float]] = {
    "tesseract": (-0.01205, 0.00292),
    "ppocr": (0.00363, 0.00784),
}
#: A reading with fewer than this share of the other's characters has lost text: it is not chosen.
MIN_CHARACTER_SHARE = 0.9


def _compact(text: str) -> tuple[str, list[int]]:
    """The text without whitespace, and where each of its characters sits in the original."""
    positions = [index for index, char in enumerate(text) if not char.isspace()]
    return "".join(text[index] for index in positions), positions


def correct_lookalikes(text: str, evidence: str) -> tuple[str, int]:
    """``text`` with look-alike confusions fixed where ``evidence`` (another reading) has the right character.

    The readings are aligned without their whitespace (engines break lines differently). Returns
    the corrected text and how many characters changed.
    """
    if not evidence:
        return text, 0
    compact, positions = _compact(text)
    other, _ = _compact(evidence)
    chars = list(text)
    changed = 0
    matcher = difflib.SequenceMatcher(None, compact, other, autojunk=False)
    for tag, start, end, other_start, other_end in matcher.get_opcodes():
        if tag != "replace" or end - start != other_end - other_start:
            continue
        for offset in range(end - start):
            read, right = compact[start + offset], other[other_start + offset]
            rule = CONFUSIONS.get((read, right))
            if rule is not None and rule(compact, start + offset):
                chars[positions[start + offset]] = right
                changed += 1
    return "".join(chars), changed


def expected_error(result: OcrResult) -> float:
    """The calibrated character error rate expected of a reading from its engine's confidence."""
    intercept, slope = CALIBRATION.get(result.engine, (0.0, 0.002))
    return intercept + slope * (100.0 - result.score)


def choose(first: OcrResult, second: OcrResult) -> OcrResult:
    """The reading with the lower expected error (one that lost text never wins), corrected by the other.

    Look-alikes, then item labels (:func:`.line_items.confirm_items`), are taken from the other reading.
    """
    if not second.characters:
        return first
    if not first.characters:
        return second
    candidates = [
        result
        for result, other in ((first, second), (second, first))
        if result.characters >= MIN_CHARACTER_SHARE * other.characters
    ] or [first, second]
    chosen = min(candidates, key=expected_error)
    other = second if chosen is first else first
    text, _ = correct_lookalikes(chosen.text, other.text)
    text, _ = confirm_items(text, other.text)
    return replace(chosen, text=text)
