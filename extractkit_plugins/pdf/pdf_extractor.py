"""The builtin PDF extractor: pdfium's text layer page by page, OCR only for the pages that need it.

pypdfium2 reads text layers several times faster than pdftotext and far faster than pdfplumber
(measured on the public corpus), and renders pages faster than pdftoppm, so pdfium does both.
Each page's text is judged by :mod:`extractkit_plugins.pdf.pdf_text_quality`; only an unusable page
is rendered (in grey, at ``ocr_dpi`` capped so the bitmap stays within the pixel budget) and
read by :mod:`extractkit_plugins.image.ocr`. Vertical Japanese text layers, whose columns pdfium
lists left to right, are put back into reading order (columns right to left).

Each :class:`~extractkit.models.Page` says ``ocr`` (True only when its text came from OCR),
``engine`` (``"pdfium"``, or the OCR engine that read it: ``"tesseract"`` by default) and
``confidence``: the engine's mean confidence on a 0-100 scale, ``None`` for text-layer pages.
A page whose OCR times out keeps its text layer (often empty), carries a ``failure``
(:class:`~extractkit.models.PageFailure`) and is listed in the metadata's ``page_failures``;
pages read with low confidence are listed in ``low_confidence_pages``.

pdfium is not thread-safe: every pdfium call in this process holds :data:`PDFIUM_LOCK`. OCR
runs outside the lock.
"""

from __future__ import annotations

import math
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, NamedTuple

from extractkit import hookimpl
from extractkit.errors import CorruptDocument, EncryptedDocument, TooLarge, UnreadableDocument
from extractkit.interfaces import Extractor
from extractkit.models import Document, ExtractionResult, ExtractOptions, Page
from extractkit.normalize import contains_cjk_letters
from extractkit_plugins.extras import require
from extractkit_plugins.image.ocr_engines import PageNotes

from .pdf_layout import (
    arrange,
    in_bmp,
    is_tabular_text,
    measure_lines,
    measure_lines_and_slants,
    needs_arranging,
    runs_vertically,
)
from .pdf_metadata import pdf_date_to_iso, read_metadata  # noqa: F401 (pdf_date_to_iso is part of this module's API)
from .pdf_text_quality import SPARSE, TextQuality, assess_text, pdfium_flagged_share, pdfium_image_coverage
from .pdfium_bulk import char_indexes, tight_boxes
from .pdfium_pages import DocumentLoadError, PageLoadError, RawDocument, load_document, loaded_page

if TYPE_CHECKING:
    from PIL import Image

#: Serialises every pdfium call in this process (pdfium keeps global state and is not thread-safe).
PDFIUM_LOCK = threading.Lock()

TEXT_ENGINE = "pdfium"
#: Rendering never makes a bitmap bigger than this (nor ``max_image_pixels``), nor a side longer.
MAX_RASTER_PIXELS = 40_000_000
MAX_RASTER_SIDE = 30_000

_PDFIUM_ERROR_NAMES = {1: "unknown error", 2: "file error", 3: "format error", 6: "page error"}


def check_page_count(document: Document, count: int, options: ExtractOptions) -> None:
    """Refuse a PDF with no pages or with more than ``options.max_pages``."""
    if count <= 0:
        raise CorruptDocument(f"{document.name} has no pages; the PDF is damaged or empty")
    if count > options.max_pages:
        raise TooLarge(f"{document.name} has {count} pages, over the {options.max_pages}-page limit (max_pages)")


class PdfExtractor(Extractor):
    """Text layer through pdfium, with per-page OCR where the text layer is unusable."""

    name = "pdf"
    mime_types = ("application/pdf", "application/x-pdf")
    priority = 50

    def extract(self, document: Document) -> ExtractionResult:
        """Read every page; raise a classified error for encrypted, broken or oversized PDFs."""
        with PDFIUM_LOCK:
            pdf = open_document(document, self.options.pdf_password)
        try:
            with PDFIUM_LOCK:
                metadata = read_metadata(pdf)
            check_page_count(document, metadata["page_count"], self.options)
            notes = PageNotes()
            pages = tuple(self._page(document, pdf, index, notes) for index in range(metadata["page_count"]))
        finally:
            with PDFIUM_LOCK:
                pdf.close()
        metadata["ocr_pages"] = sum(1 for page in pages if page.ocr)
        notes.finish(metadata, pages_with_text=sum(1 for page in pages if page.text))
        text = "\n\n".join(page.text for page in pages if page.text)
        return ExtractionResult(text=text, pages=pages, metadata=metadata)

    def _page(self, document: Document, pdf: Any, index: int, notes: PageNotes) -> Page:
        number = index + 1
        with PDFIUM_LOCK:
            reading = read_page(pdf, index, document.name, self.options)
        if reading.image is None:
            return Page(number=number, text=reading.text, ocr=False, engine=TEXT_ENGINE)
        name = f"{document.name} page {number}"
        result = notes.ocr(reading.image, self.options, dpi=reading.dpi, name=name, number=number)
        if result is None:  # timed out: the page keeps what its text layer had, and carries its failure
            return Page(number=number, text=reading.text, ocr=True, engine=None, failure=notes.failure_of(number))
        if reading.quality.reason == SPARSE and result.characters <= reading.quality.characters:
            return Page(number=number, text=reading.text, ocr=False, engine=TEXT_ENGINE)
        return Page(number=number, text=result.text, ocr=True, confidence=result.confidence, engine=result.engine)


class PageReading(NamedTuple):
    """One page's text layer, its verdict, and its rendering when it needs OCR."""

    text: str
    quality: TextQuality
    image: Image.Image | None = None
    dpi: int = 0


def open_pdf(document: Document, password: str = "") -> Any:
    """Open as a pypdfium2 ``PdfDocument``, with the empty user password then ``password``; classify failures."""
    import pypdfium2 as pdfium

    return _open_with(document, password, lambda attempt: pdfium.PdfDocument(str(document.path), password=attempt))


def open_document(document: Document, password: str = "") -> RawDocument:
    """:func:`open_pdf` through pdfium's own functions (:mod:`.pdfium_pages`), as the extractor reads it."""
    return _open_with(document, password, lambda attempt: load_document(document.path, attempt))


def _open_with(document: Document, password: str, open_file: Callable[[str], Any]) -> Any:
    import pypdfium2 as pdfium
    import pypdfium2.raw as pdfium_c

    attempts = [""] + ([password] if password else [])
    for attempt in attempts:
        try:
            return open_file(attempt)
        except (pdfium.PdfiumError, DocumentLoadError) as exc:
            code = getattr(exc, "err_code", None) if isinstance(exc, pdfium.PdfiumError) else exc.code
            if code in (pdfium_c.FPDF_ERR_PASSWORD, pdfium_c.FPDF_ERR_SECURITY):
                continue
            if code == pdfium_c.FPDF_ERR_FILE and not document.path.is_file():
                raise UnreadableDocument(f"{document.name} cannot be opened; check that the file exists") from exc
            reason = _PDFIUM_ERROR_NAMES.get(code or 1, "unknown error")
            raise CorruptDocument(
                f"{document.name} is not a readable PDF (pdfium: {reason}); the file is damaged"
            ) from exc
        except OSError as exc:
            raise UnreadableDocument(f"{document.name} cannot be read: {exc.strerror or exc}") from exc
    if password:
        raise EncryptedDocument(f"{document.name} is encrypted and the configured pdf_password does not open it")
    raise EncryptedDocument(f"{document.name} is encrypted with a user password; set pdf_password to read it")


def read_page(pdf: Any, index: int, name: str, options: ExtractOptions) -> PageReading:
    """Read one page's text and judge it; render the page when it must be OCR'd. Call under the lock."""
    try:
        with loaded_page(pdf, index) as (page, textpage):
            width, height = page.get_size()
            text = page_text(textpage, _content_width(page, width, height))
            quality = assess_text(
                text,
                page_area=width * height,
                flagged_share=pdfium_flagged_share(textpage),
                image_coverage=lambda: pdfium_image_coverage(page),
            )
    except PageLoadError as error:
        problem = "cannot be loaded; the PDF's page tree"
        if error.part == "text":
            problem = "has text that cannot be read; the PDF"
        raise CorruptDocument(f"{name}: page {index + 1} {problem} is damaged") from None
    if quality.usable or not options.ocr_enabled:
        return PageReading(text=text, quality=quality)
    dpi = raster_dpi(width, height, options.ocr_dpi, options.max_image_pixels)
    return PageReading(text=text, quality=quality, image=_rendered(pdf, index, name, dpi), dpi=dpi)


def _rendered(pdf: Any, index: int, name: str, dpi: int) -> Image.Image:
    """Page ``index`` rendered at ``dpi`` through pypdfium2's page object. Call under the lock."""
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


def _content_width(page: Any, width: float, height: float) -> float:
    """The page's width in the coordinates of its text (before ``/Rotate`` turns it for display)."""
    return height if page.get_rotation() in (90, 270) else width


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


def page_text(textpage: Any, page_width: float = 0.0) -> str:
    """A page's text layer with plain line breaks, in reading order.

    Tategaki columns are put right to left; horizontal CJK text, tables and turned text go through
    :func:`.pdf_layout.arrange` (soft line breaks, measured gaps, top-to-bottom order).
    ``page_width`` (points, in the text's own coordinates) places the right margin.
    """
    raw_text = textpage.get_text_range()
    if not raw_text:
        return ""
    lines = geometry = None
    tabular = is_tabular_text(raw_text)
    cjk = contains_cjk_letters(raw_text)
    if cjk:  # only Japanese and Chinese are set in vertical columns
        lines = _lines_with_offsets(raw_text)
        geometry, slanted = measure_lines_and_slants(textpage, lines)
        if slanted >= 2 and runs_vertically(lines, geometry):
            raw_text = "\n".join(_vertical_reading_order(textpage, lines))
            lines = None
    elif needs_arranging(textpage, raw_text, tabular):
        lines = _lines_with_offsets(raw_text)
    if lines is not None:
        raw_text = arrange(textpage, lines, page_width, geometry, tabular, cjk)
    text = raw_text.replace("\r\n", "\n").replace("\r", "\n").replace("\xa0", " ")
    # pdfium marks a hyphen that breaks a word at a line end with U+0002, and the document's own
    # hyphen there (where its font maps none) with the non-character U+FFFE.
    return text.replace("\x02", "-").replace("\ufffe", "-")


def vertical_page_text(pdf: Any, index: int) -> str | None:
    """A page's text in tategaki reading order if it is set in vertical columns, else ``None``; call under the lock."""
    page = pdf[index]
    try:
        textpage = page.get_textpage()
        try:
            lines = _lines_with_offsets(textpage.get_text_range() or "")
            return page_text(textpage) if runs_vertically(lines, measure_lines(textpage, lines)) else None
        finally:
            textpage.close()
    finally:
        page.close()


def _lines_with_offsets(text: str) -> list[tuple[str, int]]:
    """Each line of pdfium's text with its start offset in UTF-16 units (pdfium's text indexes)."""
    lines = []
    offset = 0
    measure = len if in_bmp(text) else _utf16_length  # one unit a character in the BMP
    for line in text.splitlines(keepends=True):
        lines.append((line.rstrip("\r\n"), offset))
        offset += measure(line)
    return lines


def _utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


Box = tuple[float, float, float, float]


def _line_boxes(textpage: Any, lines: list[tuple[str, int]]) -> list[Box | None]:
    """The box spanned by each line's first and last visible characters (their tight boxes); ``None`` for a blank one.

    A character pdfium has no index for is left out; a line with neither is ``None``.
    """
    ends: list[tuple[int, int] | None] = []
    for line, offset in lines:
        first, last = len(line) - len(line.lstrip()), len(line.rstrip()) - 1
        ends.append(
            None if last < first else (offset + _utf16_length(line[:first]), offset + _utf16_length(line[:last]))
        )
    indexes = char_indexes(textpage, [index for pair in ends if pair is not None for index in pair])
    lefts, bottoms, rights, tops = tight_boxes(textpage, indexes)
    spans: list[Box | None] = []
    position = 0
    for pair in ends:
        if pair is None:
            spans.append(None)
            continue
        found = [at for at in (position, position + 1) if indexes[at] >= 0]
        position += 2
        if not found:
            spans.append(None)
            continue
        spans.append(
            (
                min(lefts[at] for at in found),
                min(bottoms[at] for at in found),
                max(rights[at] for at in found),
                max(tops[at] for at in found),
            )
        )
    return spans


def _vertical_reading_order(textpage: Any, lines: list[tuple[str, int]]) -> list[str]:
    """Columns grouped into tiers top to bottom; within a tier, columns right to left."""
    boxed = [(line, box) for (line, _), box in zip(lines, _line_boxes(textpage, lines), strict=True) if box is not None]
    boxed.sort(key=lambda item: -item[1][3])
    tiers: list[list[tuple[str, Box]]] = []
    tier_bottom = math.inf
    for line, box in boxed:
        if tiers and box[3] > tier_bottom:
            tiers[-1].append((line, box))
            tier_bottom = min(tier_bottom, box[1])
        else:
            tiers.append([(line, box)])
            tier_bottom = box[1]
    ordered = []
    for tier in tiers:
        tier.sort(key=lambda item: -(item[1][0] + item[1][2]) / 2)
        ordered.extend(line for line, _ in tier)
    return ordered


@hookimpl
def register_extractors(register: Any) -> None:
    """Register the PDF extractor."""
    register(PdfExtractor)


#: A one-page PDF with a text layer, extracted once in the template process so pdfium starts warm.
WARM_UP_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]/Contents 4 0 R"
    b"/Resources<</Font<</F1 5 0 R>>>>>>endobj\n4 0 obj<</Length 33>>stream\nBT /F1 12 Tf 20 100 Td (warm) Tj ET\n"
    b"endstream endobj\n5 0 obj<</Type/Font/Subtype/Type1/BaseFont/Helvetica>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)


@hookimpl
def estimate_pages(path: Path, mime_type: str, options: ExtractOptions) -> int | None:
    """A PDF's page count from pdfium; ``None`` for other types and for files pdfium cannot open."""
    if mime_type not in PdfExtractor.mime_types:
        return None
    import pypdfium2 as pdfium

    with PDFIUM_LOCK:
        try:
            pdf = pdfium.PdfDocument(str(path), password=options.pdf_password or None)
        except (pdfium.PdfiumError, OSError):
            return None
        try:
            return len(pdf)
        finally:
            pdf.close()


@hookimpl
def warm_up(register_sample: Callable[[str, bytes], None]) -> None:
    """Load pdfium and have a one-page PDF extracted."""
    import pypdfium2  # noqa: F401 (imported to be inherited loaded)

    register_sample("warm.pdf", WARM_UP_PDF)
