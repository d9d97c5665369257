"""PowerPoint 97-2003 extractor plugin: registers the extractor; the parsing lives in :mod:`.ppt_reader`.

olefile loads only when a ``.ppt`` file is extracted, so loading the plugins stays fast.
"""

from __future__ import annotations

from extractkit import hookimpl
from extractkit.hookspecs import RegisterClass
from extractkit.interfaces import Extractor
from extractkit.models import Document, ExtractionResult


class PptExtractor(Extractor):
    """Extracts slide text, shape text and speaker notes from PowerPoint 97-2003 files, one page per slide."""

    name = "ppt"
    mime_types = ("application/vnd.ms-powerpoint", "application/mspowerpoint")
    priority = 50

    def extract(self, document: Document) -> ExtractionResult:
        """Read the document with the PowerPoint 97-2003 reader."""
        from .ppt_reader import PptReader

        return PptReader(self.options).extract(document)


@hookimpl
def register_extractors(register: RegisterClass) -> None:
    """Register the PowerPoint 97-2003 extractor."""
    register(PptExtractor)
