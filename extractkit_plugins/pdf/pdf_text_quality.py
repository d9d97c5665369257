"""Deciding, page by page, whether a PDF's text layer is usable or the page must be OCR'd.

A page's text is not usable when:

* ``no_text``: it has no visible character (a scan);
* ``unmapped``: a large share of its characters have no Unicode mapping: U+FFFD, private-use
  code points, control characters, or characters pdfium itself flags as badly mapped (a broken
  font map produces such garbage);
* ``sparse``: it has too few characters for the page's area *and* images cover a large part of
  the page (a scan with a stamp, a page number or a date in its text layer).

A sparse page without large images keeps its text: OCR could not find anything more there.
The pdfium helpers take the lock-holding caller's page and text page objects; they never lock.
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple

from .pdfium_bulk import map_errors

USABLE = "ok"
NO_TEXT = "no_text"
UNMAPPED = "unmapped"
SPARSE = "sparse"

#: An A4 page's area in square points, the unit of the density threshold.
A4_AREA = 595.0 * 842.0
#: Fewer visible characters than this per A4-sized area count as sparse.
SPARSE_CHARS_PER_A4 = 100
#: A page is sparse only when images cover at least this share of it.
SCAN_IMAGE_COVERAGE = 0.3
#: From this share of unmapped characters on, the text layer is garbage.
MAX_UNMAPPED_SHARE = 0.25
#: How many characters are asked pdfium about mapping errors on one page: a first sample, and the
#: full one when the first is unclear.
FIRST_MAPPING_SAMPLE = 8
MAPPING_SAMPLE = 256

#: U+FFFD and the non-characters, private-use code points, and control characters other than
#: tab and line breaks: what a glyph without a Unicode mapping comes out as.
_UNMAPPED = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ue000-\uf8ff\ufffd-\uffff\U000f0000-\U0010ffff]")
#: How deep into form XObjects, and through how many objects, images are looked for.
FORM_DEPTH = 4
MAX_OBJECTS_SCANNED = 20_000


class TextQuality(NamedTuple):
    """The verdict on one page's text layer."""

    reason: str
    characters: int
    unmapped_share: float = 0.0

    @property
    def usable(self) -> bool:
        """True when the text layer can be used as it is."""
        return self.reason == USABLE


def is_unmapped(char: str) -> bool:
    """True for a character that stands for a glyph without a Unicode mapping."""
    return bool(_UNMAPPED.fullmatch(char))


def visible_characters(text: str) -> int:
    """Characters that are not whitespace."""
    return sum(map(len, text.split()))  # str.split() splits at exactly what the regex class \s matches


def sparse_limit(page_area: float) -> int:
    """The fewest visible characters a page of this area (square points) needs not to be sparse."""
    return max(10, round(SPARSE_CHARS_PER_A4 * page_area / A4_AREA))


def assess_text(
    text: str,
    *,
    page_area: float,
    flagged_share: float = 0.0,
    image_coverage: Any = None,
    visible: int | None = None,
) -> TextQuality:
    """Judge one page's text.

    ``flagged_share`` is the share of characters the PDF library flags as badly mapped;
    ``image_coverage`` is a callable returning the share of the page covered by images,
    called only when the text is sparse. ``visible`` is :func:`visible_characters` of ``text``
    where the caller has it already.
    """
    if visible is None:
        visible = visible_characters(text)
    if not visible:
        return TextQuality(NO_TEXT, 0)
    share = max(len(_UNMAPPED.findall(text)) / visible, flagged_share)
    if share >= MAX_UNMAPPED_SHARE:
        return TextQuality(UNMAPPED, visible, share)
    too_few = visible < sparse_limit(page_area)
    if too_few and image_coverage is not None and image_coverage() >= SCAN_IMAGE_COVERAGE:
        return TextQuality(SPARSE, visible, share)
    return TextQuality(USABLE, visible, share)


def pdfium_flagged_share(textpage: Any) -> float:
    """Share of a sample of characters that pdfium reports as having a Unicode mapping error.

    A first sample of :data:`FIRST_MAPPING_SAMPLE` evenly spaced characters settles clean pages
    (nothing flagged) and broken ones (most flagged) at a thirty-second of the cost; only an
    unclear first sample is followed by the full :data:`MAPPING_SAMPLE`. Evenly spaced, the first
    sample meets any run of flagged characters longer than an eighth of the page.
    """
    count = textpage.count_chars()
    if count <= 0:
        return 0.0
    for sample in (FIRST_MAPPING_SAMPLE, MAPPING_SAMPLE):
        indexes = range(0, count, max(1, count // sample))
        share = map_errors(textpage, indexes) / len(indexes)
        if share == 0.0 or share >= 2 * MAX_UNMAPPED_SHARE or len(indexes) >= count:
            return share
    return share


def pdfium_image_coverage(page: Any) -> float:
    """Share of the page's crop box covered by image objects (inside forms too), capped at 1.

    ``page`` is a :class:`.pdfium_pages.Page`.
    """
    left, bottom, right, top = page.get_cropbox()
    area = (right - left) * (top - bottom)
    if area <= 0:
        return 0.0
    covered = 0.0
    for x0, y0, x1, y1 in page.image_bounds(FORM_DEPTH, MAX_OBJECTS_SCANNED):
        covered += max(0.0, min(x1, right) - max(x0, left)) * max(0.0, min(y1, top) - max(y0, bottom))
    return min(1.0, covered / area)
