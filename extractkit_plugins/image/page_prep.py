"""Getting a page image ready for OCR: levelled when skewed, enlarged when its text is small.

* **Skew**: projection profile on a reduced copy, the angle at which row darkness varies most.
* **Small text**: Tesseract reads best at about 300 dpi with an x-height of 20 px or more, and
  poorly below 10 px; a 72-dpi page image, or a 200-dpi scan of 8 pt print, is far below. The text
  size is measured on the page itself (a stated DPI is often missing, or 1, or 72 for a scan):
  the median height of the ink bands in the row profile is the text line's height (about the
  x-height of prose, the digit height of a table of figures). A page whose lines are lower than
  :data:`MIN_LINE_HEIGHT` px is enlarged (Lanczos) to :data:`TARGET_LINE_HEIGHT`, at most
  :data:`MAX_UPSCALE` times, and the DPI told to the engine grows with it. Enlarging further does
  harm: at an x-height of 40 px the ``jpn+eng`` models read a lone ``1`` or ``4`` in a table cell as ``ー``.
* **Resolution**: a stated DPI more than :data:`DPI_DOUBT` times what the page's own text size
  suggests (body text has an x-height of about :data:`BODY_X_HEIGHT_PT`) is wrong (a 72-dpi image
  saved with a 300-dpi header, or no header at all); the page's own estimate replaces it, so the
  engine's layout analysis is not told that 5 px letters are 1 pt high.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PIL import Image

#: Deskewing: the widest angle searched, the smallest one corrected, the profile gain that
#: makes an angle believable, and the width the page is reduced to for the search.
MAX_SKEW = 4.0
MIN_SKEW = 0.3
SKEW_GAIN = 1.1
SKEW_SAMPLE_WIDTH = 400
#: Text lines lower than this (ink band, pixels) are enlarged to about TARGET_LINE_HEIGHT.
MIN_LINE_HEIGHT = 20
TARGET_LINE_HEIGHT = 22
MAX_UPSCALE = 4.0
#: Never enlarge past this effective resolution: a page rendered or scanned at 300 dpi whose
#: lines measure small holds small print (or several columns that blur the row profile), and
#: reading it at 1200 dpi costs many times the time for no gain.
MAX_EFFECTIVE_DPI = 600
#: Bands lower than this are specks or rules, not text lines; fewer bands than this is no text.
MIN_BAND = 3
MIN_BANDS = 2
#: The ink level rows are measured against: this share of the inked rows is darker. Table rules,
#: bars and underlines are the darkest rows of a page and few; against them the text's rows
#: would fall under the ink limit and the bands would shrink to a few rows, or vanish.
INK_ROW_QUANTILE = 0.9
#: Rows darker than paper by less than this (of 255) hold no ink.
MIN_ROW_CONTRAST = 8
#: The x-height (points) of body text, from which a page's resolution is estimated, and how far
#: a stated resolution may exceed that estimate before it is taken for wrong.
BODY_X_HEIGHT_PT = 5.0
DPI_DOUBT = 2.0
#: Grey levels below this are ink when looking for what a reading left out, and this many ink
#: pixels before a line's first word are a dropped glyph rather than a speck.
INK_THRESHOLD = 128
MIN_DROPPED_INK = 40
PT_PER_INCH = 72.0


def skew_angle(image: Image.Image) -> float:
    """The small counter-clockwise rotation (degrees) that levels a scan's text lines; 0 when unsure.

    Projection profile on a reduced copy: the angle at which row darkness varies most. A coarse
    search, then a fine one around the best; an angle is kept only when it clearly beats 0.
    """
    from PIL import ImageOps

    grey = image if image.mode == "L" else image.convert("L")
    small = ImageOps.invert(grey.reduce(max(1, grey.width // SKEW_SAMPLE_WIDTH)))
    baseline = _row_variance(small, 0.0)
    if baseline <= 0:
        return 0.0
    coarse = max((_row_variance(small, angle), angle) for angle in _angles(-MAX_SKEW, MAX_SKEW, 1.0))
    fine = max((_row_variance(small, angle), angle) for angle in _angles(coarse[1] - 0.75, coarse[1] + 0.75, 0.25))
    best_score, best_angle = max(coarse, fine)
    if abs(best_angle) < MIN_SKEW or best_score < SKEW_GAIN * baseline:
        return 0.0
    return best_angle


def _angles(start: float, stop: float, step: float) -> list[float]:
    return [start + index * step for index in range(round((stop - start) / step) + 1)]


def _row_variance(inverted: Image.Image, angle: float) -> float:
    from PIL import Image as PILImage
    from PIL import ImageStat

    rotated = inverted.rotate(angle, resample=PILImage.Resampling.BILINEAR, fillcolor=0) if angle else inverted
    profile = rotated.resize((1, rotated.height), PILImage.Resampling.BOX)
    return float(ImageStat.Stat(profile).var[0])


def line_height(image: Image.Image) -> float | None:
    """The median height (px) of the page's text lines: runs of rows holding ink; ``None`` when there are none.

    Rows are averaged across the page; a row is ink when it is darker than the page's paper by a
    fair share of the contrast of its dark rows (:data:`INK_ROW_QUANTILE`, so that a few table rules
    do not set the scale), so a clean scan and a grey, noisy one are measured alike.
    """
    from PIL import Image as PILImage
    from PIL import ImageOps

    grey = image if image.mode == "L" else image.convert("L")
    profile = list(ImageOps.invert(grey).resize((1, grey.height), PILImage.Resampling.BOX).tobytes())
    ordered = sorted(profile)
    paper = ordered[len(ordered) // 5]
    inked = [value for value in ordered if value >= paper + MIN_ROW_CONTRAST]
    if not inked:
        return None
    darkest = inked[int(INK_ROW_QUANTILE * (len(inked) - 1))]
    limit = paper + 0.2 * (darkest - paper)
    bands, start = [], None
    for row, value in enumerate([*profile, 0]):
        if value > limit and row < len(profile):
            start = row if start is None else start
        elif start is not None:
            if row - start >= MIN_BAND:
                bands.append(row - start)
            start = None
    if len(bands) < MIN_BANDS:
        return None
    bands.sort()
    return float(bands[len(bands) // 2])


def upscale_factor(image: Image.Image, dpi: float | None = None) -> float:
    """How much to enlarge the page so its text lines reach the size Tesseract reads well (1.0: leave it).

    With the page's resolution known (``dpi``), the result never passes :data:`MAX_EFFECTIVE_DPI`.
    """
    height = line_height(image)
    if height is None or height >= MIN_LINE_HEIGHT:
        return 1.0
    factor = min(MAX_UPSCALE, TARGET_LINE_HEIGHT / height)
    if dpi:
        factor = min(factor, MAX_EFFECTIVE_DPI / dpi)
    return max(1.0, factor)


def page_resolution(image: Image.Image, stated: float) -> int:
    """The page's resolution: ``stated``, unless the page's text is too small for it to be true.

    When the text lines measure less than :data:`MIN_LINE_HEIGHT` and ``stated`` is more than
    :data:`DPI_DOUBT` times the resolution at which they would be body text, that estimate is
    returned instead: the image was made at a lower resolution than it says (or says nothing).
    """
    height = line_height(image)
    if height is None or height >= MIN_LINE_HEIGHT:
        return round(stated)
    estimate = height * PT_PER_INCH / BODY_X_HEIGHT_PT
    return round(estimate) if stated > DPI_DOUBT * estimate else round(stated)


def upscaled(image: Image.Image, factor: float) -> Image.Image:
    """The image enlarged by ``factor`` with Lanczos resampling."""
    from PIL import Image as PILImage

    size = (round(image.width * factor), round(image.height * factor))
    return image.resize(size, PILImage.Resampling.LANCZOS)


def ink_before_lines(image: Image.Image, lines: list[tuple[int, int, int, int]]) -> bool:
    """True when some line has ink just before its first word: a glyph the layout pass dropped.

    ``lines`` are each line's (left, top, width, height) of its first word and the line's height.
    Tesseract's automatic layout can split a column of item numbers (``一 二 三``) off the lines they
    open and then lose it; the ink is still on the page, within three characters left of the line.
    """
    grey = image if image.mode == "L" else image.convert("L")
    for left, top, _, height in lines:
        region = grey.crop((max(0, left - 3 * height), top, max(0, left - 2), top + height))
        if region.width <= 0:
            continue
        if region.point(lambda value: 255 if value < INK_THRESHOLD else 0).histogram()[255] >= MIN_DROPPED_INK:
            return True
    return False
