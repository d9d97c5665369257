"""Text extractor: plain text, CSV, Markdown, JSON, HTML and XHTML, with the encoding detected.

A charset the file declares (byte-order mark, ``<meta charset>``, XML
declaration) wins over guessing. HTML comes out as its visible text, tables as
tab-separated rows. XML other than XHTML belongs to the markup family's XML
extractor, so markup is never indexed as text.
"""

from __future__ import annotations

from extractkit import Document, ExtractionResult, Extractor, hookimpl
from extractkit.hookspecs import RegisterClass

from .html_text import decode_html, html_to_text
from .results import read_document_bytes, text_result
from .text_encoding import decode

HTML_TYPES = ("text/html", "application/xhtml+xml")


class TextExtractor(Extractor):
    """Decodes text files and strips markup from HTML."""

    name = "text"
    mime_types = (
        "text/plain",
        "text/csv",
        "text/markdown",
        "text/tab-separated-values",
        "text/html",
        "application/xhtml+xml",
        "application/json",
        "text/*",
    )

    def extract(self, document: Document) -> ExtractionResult:
        """Decode the file; for HTML keep only the visible text."""
        data = read_document_bytes(document)
        if (document.mime_type or "") in HTML_TYPES:
            return html_result(data)
        text, encoding = decode(data)
        return text_result(text, {"encoding": encoding})


def html_result(data: bytes) -> ExtractionResult:
    """The result for an HTML or XHTML page: visible text, title, author, language and the encoding used."""
    markup, encoding, declared = decode_html(data)
    page = html_to_text(markup)
    metadata: dict[str, object] = {"encoding": encoding, **page.metadata}
    if declared:
        metadata["declared_encoding"] = declared
    return text_result(page.text, metadata)


@hookimpl
def register_extractors(register: RegisterClass) -> None:
    """Register the text extractor."""
    register(TextExtractor)
