"""An optional PDF extractor built on pdfplumber, for layout-preserving text (tables keep their columns).

It is registered with a worse priority than the ``pdf`` extractor, so it runs only when a user
prefers it (``ExtractOptions.preferred_extractors = ("pdfplumber",)``). pdfplumber is much slower
than pdfium and fragile on broken files, which is why it is not the default.

Text comes from ``Page.extract_text(layout=True)`` (set ``extra["pdfplumber_layout"] = False``
for plain reading order). Pages whose text is unusable are rendered with pdfium and OCR'd, with
the same rules as the ``pdf`` extractor.

pdfplumber lays every page out in horizontal rows, which scatters vertical Japanese (tategaki)
into rows of single characters padded with hundreds of spaces. It declines such pages: their
text comes from the ``pdf`` extractor's vertical reading order (engine ``pdfium``).
"""

from __future__ import annotations

import struct
import zlib
from typing import Any

from extractkit import hookimpl
from extractkit.errors import CorruptDocument, EncryptedDocument
from extractkit.interfaces import Extractor
from extractkit.models import Document, ExtractionResult, Page
from extractkit.normalize import contains_cjk_letters
from extractkit_plugins.extras import require
from extractkit_plugins.image.ocr_engines import PageNotes

from .pdf_extractor import PDFIUM_LOCK, TEXT_ENGINE, check_page_count, open_pdf, read_metadata
from .pdf_page_reading import raster_dpi, render_page
from .pdf_page_text import vertical_page_text
from .pdf_text_quality import SPARSE, TextQuality, assess_text

ENGINE = "pdfplumber"
LAYOUT_OPTION = "pdfplumber_layout"
#: What pdfminer raises (besides its own exceptions) when a file is malformed.
PARSER_ERRORS: tuple[type[BaseException], ...] = (
    ValueError,
    KeyError,
    TypeError,
    IndexError,
    AssertionError,
    AttributeError,
    EOFError,
    RecursionError,
    struct.error,
    zlib.error,
)


class PdfplumberExtractor(Extractor):
    """Layout-preserving PDF text through pdfplumber, with per-page OCR where the text is unusable."""

    name = "pdfplumber"
    mime_types = ("application/pdf", "application/x-pdf")
    priority = 200

    def extract(self, document: Document) -> ExtractionResult:
        """Read every page with pdfplumber; classify encrypted and broken files."""
        require("pdfplumber", "pdf", "read PDFs with the pdfplumber extractor")
        import pdfplumber
        from pdfminer.pdfdocument import PDFEncryptionError, PDFPasswordIncorrect
        from pdfminer.psexceptions import PSException
        from pdfplumber.utils.exceptions import PdfminerException

        metadata = self._pdfium_metadata(document)
        check_page_count(document, metadata["page_count"], self.options)
        layout = bool(self.options.extra.get(LAYOUT_OPTION, True))
        try:
            with pdfplumber.open(document.path, password=self.options.pdf_password or "") as pdf:
                readings = [self._read(page, layout) for page in pdf.pages]
        except PdfminerException as exc:
            cause = exc.args[0] if exc.args else exc
            if isinstance(cause, (PDFPasswordIncorrect, PDFEncryptionError)):
                raise EncryptedDocument(f"{document.name} is encrypted; set pdf_password to read it") from None
            raise CorruptDocument(
                f"{document.name} cannot be parsed by pdfplumber ({cause!r}); the file is damaged"
            ) from exc
        except (PSException, *PARSER_ERRORS) as exc:
            raise CorruptDocument(
                f"{document.name} cannot be parsed by pdfplumber ({exc!r}); the file is damaged"
            ) from exc
        vertical = self._vertical_pages(
            document, [index for index, (text, _) in enumerate(readings) if contains_cjk_letters(text)]
        )
        notes = PageNotes()
        pages = tuple(
            Page(number=index + 1, text=vertical[index], ocr=False, engine=TEXT_ENGINE)
            if index in vertical
            else self._page(document, index, text, quality, notes)
            for index, (text, quality) in enumerate(readings)
        )
        metadata["ocr_pages"] = sum(1 for page in pages if page.ocr)
        notes.finish(metadata, pages_with_text=sum(1 for page in pages if page.text))
        text = "\n\n".join(page.text for page in pages if page.text)
        return ExtractionResult(text=text, pages=pages, metadata=metadata)

    def _pdfium_metadata(self, document: Document) -> dict[str, Any]:
        """Metadata and the encryption verdict come from pdfium, which opens files quickly and safely."""
        with PDFIUM_LOCK:
            pdf = open_pdf(document, self.options.pdf_password)
            try:
                return read_metadata(pdf)
            finally:
                pdf.close()

    def _vertical_pages(self, document: Document, indexes: list[int]) -> dict[int, str]:
        """The pdfium reading-order text of those pages (by index) that are set in vertical columns."""
        if not indexes:
            return {}
        found: dict[int, str] = {}
        with PDFIUM_LOCK:
            pdf = open_pdf(document, self.options.pdf_password)
            try:
                for index in indexes:
                    text = vertical_page_text(pdf, index)
                    if text is not None:
                        found[index] = text
            finally:
                pdf.close()
        return found

    @staticmethod
    def _read(page: Any, layout: bool) -> tuple[str, TextQuality]:
        try:
            text = page.extract_text(layout=layout) or ""
            area = float(page.width) * float(page.height)
            quality = assess_text(text, page_area=area, image_coverage=lambda: _image_coverage(page, area))
        finally:
            page.close()
        text = "\n".join(line.rstrip() for line in text.splitlines())
        return text, quality

    def _page(self, document: Document, index: int, text: str, quality: TextQuality, notes: PageNotes) -> Page:
        number = index + 1
        if quality.usable or not self.options.ocr_enabled:
            return Page(number=number, text=text, ocr=False, engine=ENGINE)
        with PDFIUM_LOCK:
            pdf = open_pdf(document, self.options.pdf_password)
            try:
                page = pdf[index]
                try:
                    dpi = raster_dpi(*page.get_size(), self.options.ocr_dpi, self.options.max_image_pixels)
                    image = render_page(page, dpi)
                finally:
                    page.close()
            finally:
                pdf.close()
        result = notes.ocr(image, self.options, dpi=dpi, name=f"{document.name} page {number}", number=number)
        if result is None:  # timed out: the page keeps what its text layer had
            return Page(number=number, text=text, ocr=True, engine=None)
        if quality.reason == SPARSE and result.characters <= quality.characters:
            return Page(number=number, text=text, ocr=False, engine=ENGINE)
        return Page(number=number, text=result.text, ocr=True, confidence=result.confidence, engine=result.engine)


def _image_coverage(page: Any, area: float) -> float:
    if area <= 0:
        return 0.0
    covered = 0.0
    for image in page.images:
        width = max(0.0, min(float(image["x1"]), float(page.width)) - max(float(image["x0"]), 0.0))
        height = max(0.0, min(float(image["bottom"]), float(page.height)) - max(float(image["top"]), 0.0))
        covered += width * height
    return min(1.0, covered / area)


@hookimpl
def register_extractors(register: Any) -> None:
    """Register the pdfplumber extractor."""
    register(PdfplumberExtractor)
