"""RTF extractor: the document's text and ``\\info`` metadata, decoded in its code pages (see :mod:`.rtf_reader`)."""

from __future__ import annotations

from extractkit import hookimpl
from extractkit.errors import CorruptDocument
from extractkit.hookspecs import RegisterClass
from extractkit.interfaces import Extractor
from extractkit.models import Document, ExtractionResult
from extractkit_plugins.text.results import read_document_bytes, text_result


class RtfExtractor(Extractor):
    """Reads RTF: body, headers and footers, table rows as tab-separated cells; title, author and dates."""

    name = "rtf"
    mime_types = ("application/rtf", "text/rtf", "application/x-rtf", "text/richtext")
    priority = 50

    def extract(self, document: Document) -> ExtractionResult:
        """Parse the RTF groups and control words; pictures and objects are skipped."""
        from .rtf_reader import RtfError, read_rtf

        data = read_document_bytes(document)
        try:
            rtf = read_rtf(data)
        except RtfError as exc:
            raise CorruptDocument(f"{document.name} is not readable RTF ({exc})") from exc
        return text_result(rtf.text, rtf.metadata)


@hookimpl
def register_extractors(register: RegisterClass) -> None:
    """Register the RTF extractor."""
    register(RtfExtractor)
