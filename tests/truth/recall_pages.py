"""Pages for the OCR recall checks, each with its exact text: a ruled table of figures, letter pages, Chinese.

* :func:`table_page`: a real statistics table (a PDF with a text layer, such as pdfplumber's NICS
  background-check report) rasterised with pypdfium2 at a chosen resolution. Its truth is the
  PDF's own text layer, so the page shows exactly that text: a header row, ruled cells, columns of
  figures, many of them a lone ``0`` or ``4``.
* :func:`letter_page`: US-letter prose drawn at 72 dpi (612 x 792 px), as a PDF page rendered at
  screen resolution comes out: 9 pt type, an x-height of about 5 px. ``columns=2`` adds what real
  pages carry besides prose: a shaded title bar, two columns and a frame.
* :func:`chinese_page`: simplified-Chinese prose at 300 dpi in WenQuanYi Micro Hei.
* :func:`save_with_header`: write a page with a chosen DPI header (none, 1, the true one, a wrong one).
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from truth.render import layout_paragraphs, page_font, render_lines, text_of, wrap_paragraphs
from truth.texts import ENGLISH

SERIF = "/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf"
WQY_MICROHEI = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"

#: A US-letter page at 72 dpi, its margins, type size and line pitch (pixels are points here).
LETTER_PX = (612, 792)
LETTER_MARGIN = 54
LETTER_PT = 9
LETTER_SPACING = 1.15
COLUMN_GAP = 18
TITLE = "Quarterly Archive Report"

#: Simplified-Chinese prose (written for this truth set).
CHINESE: tuple[str, ...] = (
    "我们的档案室每天都会收到来自各地办事处的几千份新文件。其中大部分是发票、合同和会议记录，"
    "还有不少是用旧复印机扫描的。在任何人能够检索它们之前，必须可靠地逐页提取文本，不能遗漏任何一份文件。",
    "昨天晚上河水不断上涨，到了清晨，低处的田地已经被水淹没。农民们聚集在桥上，看着水流把树枝和篱笆冲向下游。"
    "大家都没怎么说话。他们以前见过洪水，知道真正的工作要等到河水退回河道以后才开始。",
)


def table_page(pdf_path: Path, dpi: int, page: int = 0) -> tuple[Image.Image, str]:
    """Page ``page`` of a PDF with a text layer, rendered at ``dpi`` and turned grey, and that text layer."""
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(str(pdf_path))
    try:
        pdf_page = document[page]
        truth = pdf_page.get_textpage().get_text_range()
        image = pdf_page.render(scale=dpi / 72.0).to_pil().convert("L")
    finally:
        document.close()
    return image, truth


def letter_page(columns: int = 1) -> tuple[Image.Image, str]:
    """A 72-dpi US-letter page filled with English prose, and its text (columns read one after the other).

    With two columns the page also has a title in white on a dark bar and a frame round the page.
    """
    width, height = LETTER_PX
    font = ImageFont.truetype(SERIF, size=LETTER_PT)
    pitch = round(LETTER_PT * LETTER_SPACING)
    image = Image.new("L", LETTER_PX, 255)
    draw = ImageDraw.Draw(image)
    top, parts = LETTER_MARGIN, []
    if columns > 1:
        draw.rectangle((20, 20, width - 20, height - 20), outline=0, width=3)
        draw.rectangle((LETTER_MARGIN, LETTER_MARGIN, width - LETTER_MARGIN, LETTER_MARGIN + 28), fill=60)
        draw.text((LETTER_MARGIN + 6, LETTER_MARGIN + 6), TITLE, font=ImageFont.truetype(SERIF, 14), fill=255)
        top += 40
        parts.append(TITLE)
    column_width = (width - 2 * LETTER_MARGIN - (columns - 1) * COLUMN_GAP) // columns
    lines = wrap_paragraphs(list(ENGLISH) * 6, font, column_width)
    per_column = (height - LETTER_MARGIN - top) // pitch
    for column in range(columns):
        chunk = lines[column * per_column : (column + 1) * per_column]
        while chunk and not chunk[-1]:
            chunk.pop()
        left = LETTER_MARGIN + column * (column_width + COLUMN_GAP)
        for number, line in enumerate(chunk):
            draw.text((left, top + number * pitch), line, font=font, fill=0)
        parts.append(text_of(chunk))
    return image, "\n".join(parts)


def chinese_page(dpi: int = 300) -> tuple[Image.Image, str]:
    """Simplified-Chinese paragraphs at A4 width, and their text."""
    lines = layout_paragraphs(CHINESE, page_font(WQY_MICROHEI, dpi), dpi)
    return render_lines(lines, WQY_MICROHEI, dpi, full_page=False), text_of(lines)


def save_with_header(image: Image.Image, path: Path, dpi: float | None) -> Path:
    """Save as PNG with a DPI header of ``dpi`` (``None``: no header at all)."""
    if dpi is None:
        image.save(path, format="PNG")
    else:
        image.save(path, format="PNG", dpi=(dpi, dpi))
    return path
