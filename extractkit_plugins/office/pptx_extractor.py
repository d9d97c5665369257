"""PowerPoint extractor plugin: registers the extractor; the parsing lives in :mod:`.pptx_reader`.

The reader's libraries load only when a PowerPoint file is extracted, so loading the
plugins stays fast.
"""

from __future__ import annotations

from typing import Any

from extractkit import hookimpl
from extractkit.interfaces import Extractor
from extractkit.models import Document, ExtractionResult


class PptxExtractor(Extractor):
    """Extracts slide text, tables, grouped shapes and speaker notes, one page per slide."""

    name = "pptx"
    mime_types = (
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "application/vnd.ms-powerpoint.presentation.macroEnabled.12",
        "application/vnd.openxmlformats-officedocument.presentationml.slideshow",
        "application/vnd.openxmlformats-officedocument.presentationml.template",
    )
    priority = 50

    def extract(self, document: Document) -> ExtractionResult:
        """Check the package, then read it with the PowerPoint reader."""
        from .pptx_reader import PptxReader

        return PptxReader(self.options).extract(document)


@hookimpl
def register_extractors(register: Any) -> None:
    """Register the PowerPoint extractor."""
    register(PptxExtractor)
