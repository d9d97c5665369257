"""Word 97-2003 extractor plugin: registers the extractor; the parsing lives in :mod:`.doc_reader`.

olefile loads only when a ``.doc`` file is extracted, so loading the plugins stays fast.
"""

from __future__ import annotations

from extractkit import hookimpl
from extractkit.hookspecs import RegisterClass
from extractkit.interfaces import Extractor
from extractkit.models import Document, ExtractionResult


class DocExtractor(Extractor):
    """Extracts text, tables, headers, footers, notes and comments from Word 97-2003 files."""

    name = "doc"
    mime_types = ("application/msword", "application/vnd.ms-word")
    priority = 50

    def extract(self, document: Document) -> ExtractionResult:
        """Read the document with the Word 97-2003 reader."""
        from .doc_reader import DocReader

        return DocReader(self.options).extract(document)


@hookimpl
def register_extractors(register: RegisterClass) -> None:
    """Register the Word 97-2003 extractor."""
    register(DocExtractor)
