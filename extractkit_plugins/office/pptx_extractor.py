"""PowerPoint extractor plugin: registers the extractor; the parsing lives in :mod:`.pptx_reader`.

The reader's libraries load only when a PowerPoint file is extracted, so loading the
plugins stays fast.
"""

from __future__ import annotations

import io

from extractkit import hookimpl
from extractkit.hookspecs import RegisterClass, RegisterSample
from extractkit.interfaces import Extractor
from extractkit.models import Document, ExtractionResult
from extractkit_plugins.extras import require


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
        require("pptx", "office", "read .pptx files")
        require("lxml", "office", "read .pptx files")
        from .pptx_reader import PptxReader

        return PptxReader(self.options).extract(document)


@hookimpl
def register_extractors(register: RegisterClass) -> None:
    """Register the PowerPoint extractor."""
    register(PptxExtractor)


@hookimpl
def warm_up(register_sample: RegisterSample) -> None:
    """Have a tiny PowerPoint file, made by python-pptx, extracted once; nothing when the office extra is missing."""
    try:
        import pptx
    except ImportError:
        return
    buffer = io.BytesIO()
    presentation = pptx.Presentation()
    slide = presentation.slides.add_slide(presentation.slide_layouts[5])
    slide.shapes.title.text = "warm up"
    presentation.save(buffer)
    register_sample("warm.pptx", buffer.getvalue())
