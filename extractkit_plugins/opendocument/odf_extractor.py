"""OpenDocument extractor plugin: registers the extractor; the parsing lives in :mod:`.odf_reader`.

lxml loads only when an OpenDocument file is extracted, so loading the plugins stays fast.
"""

from __future__ import annotations

from extractkit import hookimpl
from extractkit.hookspecs import RegisterClass
from extractkit.interfaces import Extractor
from extractkit.models import Document, ExtractionResult

_ODF = "application/vnd.oasis.opendocument."


class OdfExtractor(Extractor):
    """Extracts text, tables, headers, footers, notes, comments and metadata from OpenDocument files."""

    name = "odf"
    mime_types = tuple(
        _ODF + kind
        for kind in (
            "text",
            "text-template",
            "text-master",
            "spreadsheet",
            "spreadsheet-template",
            "presentation",
            "presentation-template",
            "graphics",
            "graphics-template",
        )
    )
    priority = 50

    def extract(self, document: Document) -> ExtractionResult:
        """Check the package, then read it with the OpenDocument reader."""
        from extractkit_plugins.extras import require

        require("lxml", "opendocument", "read OpenDocument files")
        from .odf_reader import OdfReader

        return OdfReader(self.options).extract(document)


@hookimpl
def register_extractors(register: RegisterClass) -> None:
    """Register the OpenDocument extractor."""
    register(OdfExtractor)
