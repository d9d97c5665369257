"""Reading a PDF's pages: each page's text layer and its verdict, a few pages at a time, and rendering for OCR.

:func:`read_pages` loads a batch of pages (up to :data:`PAGE_BATCH`, fewer when they are heavy)
before it reads the text of any of them. Loading a page parses its content and pushes the text
code out of the processor's caches; loading the batch first lets that code run warm from one
page to the next (about 7 % faster on short documents). A page whose text is unusable is rendered
afterwards, one page at a time (:func:`rendered_reading`), so a batch never holds more than one
bitmap. Every function here runs under the caller's pdfium lock.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, NamedTuple

from extractkit.errors import CorruptDocument
from extractkit.models import ExtractOptions
from extractkit_plugins.extras import require

from .pdf_page_text import read_page_text
from .pdf_text_quality import TextQuality, assess_text, pdfium_flagged_share, pdfium_image_coverage
from .pdfium_pages import Page, PageLoadError, RawDocument, TextPage, loaded_page

if TYPE_CHECKING:
    from PIL import Image

#: Rendering never makes a bitmap bigger than this (nor ``max_image_pixels``), nor a side longer.
MAX_RASTER_PIXELS = 40_000_000
MAX_RASTER_SIDE = 30_000
#: The most pages loaded at once, and the page objects and characters after which a batch ends
#: (a page of a million vector objects is loaded alone, as it would be without batches).
PAGE_BATCH = 8
BATCH_OBJECTS = 20_000
BATCH_CHARACTERS = 100_000


class PageReading(NamedTuple):
    """One page's text layer, its verdict and its size in points; its rendering when it is to be OCR'd."""

    text: str
    quality: TextQuality
    image: Image.Image | None = None
    dpi: int = 0
    size: tuple[float, float] = (0.0, 0.0)


def read_page(pdf: Any, index: int, name: str, options: ExtractOptions) -> PageReading:
    """Read one page's text and judge it; render the page when it must be OCR'd."""
    return rendered_reading(pdf, index, name, read_pages(pdf, index, index + 1, name)[0], options)


def read_pages(pdf: Any, start: int, stop: int, name: str) -> list[PageReading]:
    """The text readings of the pages from ``start`` on: a batch that ends at ``stop`` or before, never empty.

    Raises :class:`~extractkit.errors.CorruptDocument` for a page pdfium cannot load; the pages
    loaded before it are closed.
    """
    loaded: list[loaded_page] = []
    objects = characters = 0
    try:
        for index in range(start, stop):
            if loaded and (len(loaded) >= PAGE_BATCH or objects >= BATCH_OBJECTS or characters >= BATCH_CHARACTERS):
                break
            entry = loaded_page(pdf, index)
            try:
                page, textpage = entry.__enter__()
            except PageLoadError as error:
                problem = "cannot be loaded; the PDF's page tree"
                if error.part == "text":
                    problem = "has text that cannot be read; the PDF"
                raise CorruptDocument(f"{name}: page {index + 1} {problem} is damaged") from None
            loaded.append(entry)
            objects += page.count_objects()
            characters += textpage.count_chars()
        return [_reading(entry.page, entry.textpage) for entry in loaded]  # type: ignore[arg-type]
    finally:
        for entry in loaded:
            entry.__exit__(None, None, None)


def _reading(page: Page, textpage: TextPage) -> PageReading:
    width, height = page.get_size()
    text, visible = read_page_text(textpage, height if page.get_rotation() in (90, 270) else width)  # its own width
    quality = assess_text(
        text,
        page_area=width * height,
        flagged_share=pdfium_flagged_share(textpage),
        image_coverage=lambda: pdfium_image_coverage(page),
        visible=visible,
    )
    return PageReading(text=text, quality=quality, size=(width, height))


def needs_ocr(reading: PageReading, options: ExtractOptions) -> bool:
    """True when the page's text is unusable and OCR is on: the page is to be rendered and read."""
    return not reading.quality.usable and options.ocr_enabled


def rendered_reading(pdf: Any, index: int, name: str, reading: PageReading, options: ExtractOptions) -> PageReading:
    """``reading`` with page ``index`` rendered for OCR when it :func:`needs_ocr`; else ``reading``."""
    if not needs_ocr(reading, options):
        return reading
    dpi = raster_dpi(*reading.size, options.ocr_dpi, options.max_image_pixels)
    return reading._replace(image=_rendered(pdf, index, name, dpi), dpi=dpi)


def _rendered(pdf: Any, index: int, name: str, dpi: int) -> Image.Image:
    """Page ``index`` rendered at ``dpi`` through pypdfium2's page object."""
    import pypdfium2 as pdfium

    try:
        page = (pdf.for_rendering() if isinstance(pdf, RawDocument) else pdf)[index]
    except pdfium.PdfiumError:
        raise CorruptDocument(f"{name}: page {index + 1} cannot be loaded; the PDF's page tree is damaged") from None
    try:
        return render_page(page, dpi)
    except pdfium.PdfiumError as exc:
        raise CorruptDocument(f"{name}: page {index + 1} cannot be rendered ({exc}); the PDF is damaged") from None
    finally:
        page.close()


def raster_dpi(width_pt: float, height_pt: float, wanted_dpi: int, max_pixels: int) -> int:
    """The DPI to render a page at: ``wanted_dpi`` unless the bitmap would exceed the pixel or side limits."""
    width_in, height_in = width_pt / 72.0, height_pt / 72.0
    if width_in <= 0 or height_in <= 0:
        return wanted_dpi
    budget = min(max_pixels, MAX_RASTER_PIXELS)
    by_area = math.sqrt(budget / (width_in * height_in))
    by_side = MAX_RASTER_SIDE / max(width_in, height_in)
    return max(1, int(min(wanted_dpi, by_area, by_side)))


def render_page(page: Any, dpi: int) -> Image.Image:
    """Render a page in grey at ``dpi``; the image owns its pixels (the pdfium bitmap is freed)."""
    require("PIL", "ocr", "OCR scanned PDF pages")
    bitmap = page.render(scale=dpi / 72.0, grayscale=True, draw_annots=True)
    try:
        image = bitmap.to_pil().copy()
    finally:
        bitmap.close()
    image.info["dpi"] = (dpi, dpi)
    return image
