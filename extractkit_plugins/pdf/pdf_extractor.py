"""The builtin PDF extractor: pdfium's text layer page by page, OCR only for the pages that need it.

pypdfium2 reads text layers several times faster than pdftotext and far faster than pdfplumber
(measured on the public corpus), and renders pages faster than pdftoppm, so pdfium does both.
Pages are read a batch at a time by :mod:`.pdf_page_reading`: their text in reading order
(:mod:`.pdf_page_text`) and its verdict (:mod:`.pdf_text_quality`). Only an unusable page is
rendered (in grey, at ``ocr_dpi`` capped so the bitmap stays within the pixel budget) and read by
:mod:`extractkit_plugins.image.ocr`.

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

import threading
from pathlib import Path
from typing import Any, Callable

from extractkit import hookimpl
from extractkit.errors import CorruptDocument, EncryptedDocument, TooLarge, UnreadableDocument
from extractkit.interfaces import Extractor
from extractkit.models import Document, ExtractionResult, ExtractOptions, Page
from extractkit_plugins.image.ocr_engines import PageNotes

from .pdf_metadata import pdf_date_to_iso, read_metadata  # noqa: F401 (pdf_date_to_iso is part of this module's API)
from .pdf_page_reading import PageReading, needs_ocr, read_pages, rendered_reading
from .pdf_text_quality import SPARSE
from .pdfium_pages import DocumentLoadError, RawDocument, load_document

#: Serialises every pdfium call in this process (pdfium keeps global state and is not thread-safe).
PDFIUM_LOCK = threading.Lock()

TEXT_ENGINE = "pdfium"

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
            count = metadata["page_count"]
            check_page_count(document, count, self.options)
            notes = PageNotes()
            pages: list[Page] = []
            while len(pages) < count:
                with PDFIUM_LOCK:
                    readings = read_pages(pdf, len(pages), count, document.name)
                for reading in readings:
                    pages.append(self._page(document, pdf, len(pages), reading, notes))
        finally:
            with PDFIUM_LOCK:
                pdf.close()
        metadata["ocr_pages"] = sum(1 for page in pages if page.ocr)
        notes.finish(metadata, pages_with_text=sum(1 for page in pages if page.text))
        text = "\n\n".join(page.text for page in pages if page.text)
        return ExtractionResult(text=text, pages=tuple(pages), metadata=metadata)

    def _page(self, document: Document, pdf: Any, index: int, reading: PageReading, notes: PageNotes) -> Page:
        number = index + 1
        if not needs_ocr(reading, self.options):
            return Page(number=number, text=reading.text, ocr=False, engine=TEXT_ENGINE)
        with PDFIUM_LOCK:
            reading = rendered_reading(pdf, index, document.name, reading, self.options)
        name = f"{document.name} page {number}"
        result = notes.ocr(reading.image, self.options, dpi=reading.dpi, name=name, number=number)
        if result is None:  # timed out: the page keeps what its text layer had, and carries its failure
            return Page(number=number, text=reading.text, ocr=True, engine=None, failure=notes.failure_of(number))
        if reading.quality.reason == SPARSE and result.characters <= reading.quality.characters:
            return Page(number=number, text=reading.text, ocr=False, engine=TEXT_ENGINE)
        return Page(number=number, text=result.text, ocr=True, confidence=result.confidence, engine=result.engine)


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
