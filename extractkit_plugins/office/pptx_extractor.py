"""PowerPoint extractor plugin: registers the extractor; the parsing lives in :mod:`.pptx_reader`.

The reader's libraries load only when a PowerPoint file is extracted, so loading the
plugins stays fast.
"""

from __future__ import annotations

import io

from extractkit import hookimpl
from extractkit.hookspecs import RegisterClass, RegisterSample

from .ooxml_plugin import OoxmlExtractor


class PptxExtractor(OoxmlExtractor):
    """Extracts slide text, tables, grouped shapes and speaker notes, one page per slide."""

    name = "pptx"
    mime_types = (
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "application/vnd.ms-powerpoint.presentation.macroEnabled.12",
        "application/vnd.openxmlformats-officedocument.presentationml.slideshow",
        "application/vnd.openxmlformats-officedocument.presentationml.template",
    )
    library = "pptx"
    suffix = ".pptx"
    reader = ("pptx_reader", "PptxReader")


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
