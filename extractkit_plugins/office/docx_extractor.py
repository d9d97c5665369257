"""Word extractor plugin: registers the extractor; the parsing lives in :mod:`.docx_reader`.

The reader's libraries load only when a Word file is extracted, so loading the
plugins stays fast.
"""

from __future__ import annotations

import io

from extractkit import hookimpl
from extractkit.hookspecs import RegisterClass, RegisterSample

from .ooxml_plugin import OoxmlExtractor


class DocxExtractor(OoxmlExtractor):
    """Extracts body text, tables, text boxes, headers, footers and notes from Word files."""

    name = "docx"
    mime_types = (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.ms-word.document.macroEnabled.12",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.template",
        "application/vnd.ms-word.template.macroEnabled.12",
    )
    library = "docx"
    suffix = ".docx"
    reader = ("docx_reader", "DocxReader")


@hookimpl
def register_extractors(register: RegisterClass) -> None:
    """Register the Word extractor."""
    register(DocxExtractor)


@hookimpl
def warm_up(register_sample: RegisterSample) -> None:
    """Have a tiny Word file, made by python-docx, extracted once; nothing when the office extra is missing."""
    try:
        import docx
    except ImportError:
        return
    buffer = io.BytesIO()
    document = docx.Document()
    document.add_paragraph("warm up")
    document.save(buffer)
    register_sample("warm.docx", buffer.getvalue())
