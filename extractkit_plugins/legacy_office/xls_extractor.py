"""Excel 97-2003 extractor plugin: registers the extractor; the parsing lives in :mod:`.xls_reader`.

xlrd and olefile load only when a ``.xls`` file is extracted, so loading the plugins stays fast.
"""

from __future__ import annotations

from extractkit import hookimpl
from extractkit.hookspecs import RegisterClass
from extractkit.interfaces import Extractor
from extractkit.models import Document, ExtractionResult


class XlsExtractor(Extractor):
    """Extracts every worksheet's cells and comments from Excel 97-2003 files, one page per sheet."""

    name = "xls"
    mime_types = ("application/vnd.ms-excel", "application/x-msexcel")
    priority = 50

    def extract(self, document: Document) -> ExtractionResult:
        """Read the document with the Excel 97-2003 reader."""
        from .xls_reader import XlsReader

        return XlsReader(self.options).extract(document)


@hookimpl
def register_extractors(register: RegisterClass) -> None:
    """Register the Excel 97-2003 extractor."""
    register(XlsExtractor)
