"""PP-OCR's recognised lines with where each character is, and the word spaces the recogniser left out.

PP-OCRv5's recogniser often runs Latin words together (``AmazonEC2``, ``OpenSearchcluster``),
above all inside Japanese text, where its training rarely saw a space. The line's pixels still
show the gap. Recognition here is the package's own (its resize and normalisation, our session),
but the CTC output is decoded keeping each character's time steps, which place the character on
the line. A blank run in the line crop (:func:`.ocr_text.blank_runs`) falls between two
characters; there:

* between two non-CJK characters, a run of :data:`WORD_SPACE_EM` of the line's height is a word
  space in any font (a monospaced font's narrow ``il`` leaves about 0.35 of it, proportional
  letters under 0.2); a run of :data:`NARROW_SPACE_EM` is one when the two characters' positions
  also lie :data:`PITCH_JUMP` times the line's median character pitch apart (a space adds a
  cell to the pitch, a wide letter pair such as ``mw`` adds no blank);
* next to a CJK character only a gap of :data:`.ocr_text.REAL_SPACE_EM` of the line's height
  (a character wide) splits the line, and never next to punctuation (``、`` leaves white in its
  own cell); :func:`.ocr_text.join_words` then decides on the page,
  as for every engine, whether it is a U+3000 or nothing.

A vertical crop (the package turns tall boxes) keeps the recogniser's text as it is.
"""

from __future__ import annotations

import statistics
import unicodedata
from dataclasses import dataclass
from typing import Any

from extractkit.normalize import is_cjk

from .ocr_text import REAL_SPACE_EM, TsvLine, blank_runs

#: A blank run between two non-CJK characters this share of the line's height wide is a word space.
WORD_SPACE_EM = 0.42
#: A narrower run, down to this share, is one where the characters' positions jump by PITCH_JUMP.
NARROW_SPACE_EM = 0.22
#: ... times the line's median distance between two neighbouring non-CJK characters.
PITCH_JUMP = 1.6


@dataclass(frozen=True)
class Reading:
    """One recognised line: its text, mean character probability and each character's centre (crop pixels)."""

    text: str
    score: float
    positions: tuple[float, ...] | None


def _decode(recogniser: Any, preds: Any, scale: float) -> Reading:
    """CTC decoding as the package does it, plus each character's centre in crop pixels.

    ``scale`` turns a time step into crop pixels (the network's stride over the resized line,
    times the resize factor back to the crop).
    """
    characters = recogniser.postprocess_op.character
    steps = preds.argmax(axis=1)
    probabilities = preds.max(axis=1)
    text, scores, positions = [], [], []
    step = 0
    while step < len(steps):
        end = step + 1
        while end < len(steps) and steps[end] == steps[step]:
            end += 1
        if steps[step] != 0:  # 0 is CTC's blank
            text.append(characters[int(steps[step])])
            scores.append(float(probabilities[step]))
            positions.append((step + end) / 2 * scale)
        step = end
    score = sum(scores) / len(scores) if scores else 0.0
    return Reading("".join(text), score, tuple(positions))


def recognise(recogniser: Any, crops: list[Any]) -> list[Reading]:
    """Recognise line crops one at a time (no padding to the widest), keeping the characters' positions."""
    import numpy

    _, height, width = recogniser.rec_image_shape[:3]
    readings = []
    for crop in crops:
        crop_height, crop_width = crop.shape[:2]
        ratio = max(width / height, crop_width / crop_height)
        batch = recogniser.resize_norm_img(crop, ratio)[numpy.newaxis, :]
        preds = recogniser.run(recogniser.rec_output_name, recogniser.get_input_feed(recogniser.rec_input_name, batch))
        preds = preds[0][0]
        resized = min(batch.shape[3], max(1, int(numpy.ceil(height * crop_width / crop_height))))
        scale = batch.shape[3] / preds.shape[0] * crop_width / resized
        readings.append(_decode(recogniser, preds, scale))
    return readings


def _crop_gaps(crop: Any, minimum: float) -> list[tuple[int, int]]:
    """Blank runs across a (BGR) line crop at least ``minimum`` pixels wide, in crop pixels."""
    from PIL import Image

    height, width = crop.shape[:2]
    image = Image.fromarray(crop[:, :, ::-1].copy())
    return blank_runs(image, TsvLine(("crop",), (("line", 0.0),), ((0, 0, width, height),)), minimum)


def _between(positions: tuple[float, ...], centre: float) -> int:
    """How many characters lie left of ``centre``: the gap is before character number that."""
    return sum(1 for position in positions if position < centre)


def _fold_width(text: str) -> str:
    """Full-width letters and digits next to an ASCII one as ASCII (the recogniser's ``Autｏ``).

    A run of full-width forms (``ＡＢＣ``) is what the page shows and stays.
    """
    characters = list(text)
    for index, char in enumerate(text):
        if not ("\uff10" <= char <= "\uff5a" and char.isalnum()):
            continue
        neighbours = text[max(0, index - 1) : index] + text[index + 1 : index + 2]
        if any(other.isascii() and other.isalnum() for other in neighbours):
            characters[index] = chr(ord(char) - 0xFEE0)
    return "".join(characters)


def restore_spaces(reading: Reading, crop: Any) -> Reading:
    """The reading with a space wherever the crop shows a word gap the recogniser read as nothing.

    Full-width letters inside an ASCII word are folded to ASCII first (:func:`_fold_width`).
    """
    text, positions = _fold_width(reading.text), reading.positions
    height, width = crop.shape[:2]
    if not positions or len(positions) != len(text) or height <= 0 or height / max(width, 1) >= 1.5:
        return reading
    gaps = [gap for gap in _crop_gaps(crop, 1) if 0 < _between(positions, (gap[0] + gap[1]) / 2) < len(text)]
    pitches = [positions[index] - positions[index - 1] for index in range(1, len(text)) if _latin_pair(text, index)]
    pitch = statistics.median(pitches) if pitches else 0.0
    inserted: dict[int, float] = {}
    for start, end in gaps:
        centre, size = (start + end) / 2, (end - start) / height
        index = _between(positions, centre)
        before, after = text[index - 1], text[index]
        if before.isspace() or after.isspace() or index in inserted:
            continue
        if is_cjk(before) or is_cjk(after):
            wide = size >= REAL_SPACE_EM and not (_punctuation(before) or _punctuation(after))
        else:
            jump = positions[index] - positions[index - 1] >= PITCH_JUMP * pitch
            wide = size >= WORD_SPACE_EM or (size >= NARROW_SPACE_EM and jump)
        if wide:
            inserted[index] = centre
    if not inserted:
        return Reading(text, reading.score, positions)
    characters, places = list(text), list(positions)
    for index in sorted(inserted, reverse=True):
        characters.insert(index, " ")
        places.insert(index, inserted[index])
    return Reading("".join(characters), reading.score, tuple(places))


def _punctuation(char: str) -> bool:
    """Punctuation (``、`` ``。`` ``「``): a CJK one leaves white in its own cell, and no space goes next to it."""
    return unicodedata.category(char).startswith("P")


def _latin_pair(text: str, index: int) -> bool:
    """Both characters around boundary ``index`` are non-CJK, non-space characters."""
    if not 0 < index < len(text):
        return False
    before, after = text[index - 1], text[index]
    return not (before.isspace() or after.isspace() or is_cjk(before) or is_cjk(after))
