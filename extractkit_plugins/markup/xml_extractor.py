"""XML extractor: the text content without tags, the root element's name in metadata; XHTML is read as HTML.

Entities are never expanded and DTDs never loaded (see :mod:`.xml_safety`).
Comments, processing instructions and attribute values are not text.
"""

from __future__ import annotations

from typing import Any

from extractkit import hookimpl
from extractkit.hookspecs import RegisterClass
from extractkit.interfaces import Extractor
from extractkit.models import Document, ExtractionResult
from extractkit_plugins.text.results import read_document_bytes, text_result
from extractkit_plugins.text.text_extractor import html_result

XHTML_NAMESPACE = "http://www.w3.org/1999/xhtml"


class XmlExtractor(Extractor):
    """Reads XML documents as their text content, one line per element holding text."""

    name = "xml"
    mime_types = ("text/xml", "application/xml", "application/x-xml")
    priority = 50

    def extract(self, document: Document) -> ExtractionResult:
        """Parse safely; an ``html`` root is handed to the HTML reader."""
        from lxml import etree

        from .xml_safety import parse_untrusted_xml

        data = read_document_bytes(document)
        root = parse_untrusted_xml(data, document.name)
        qualified = etree.QName(root)
        if qualified.localname.lower() == "html" and qualified.namespace in (None, XHTML_NAMESPACE):
            return html_result(data)
        etree.strip_elements(root, etree.Comment, etree.ProcessingInstruction, with_tail=False)
        metadata: dict[str, Any] = {"root_element": qualified.localname}
        if qualified.namespace:
            metadata["namespace"] = qualified.namespace
        encoding = root.getroottree().docinfo.encoding
        if encoding:
            metadata["encoding"] = encoding
        return text_result("\n".join(element_lines(root)), metadata)


def element_lines(element: Any) -> list[str]:
    """Text lines of an element: mixed content (text beside child elements) stays on one line."""
    children = [child for child in element if isinstance(child.tag, str)]
    mixed = bool((element.text or "").strip()) or any((child.tail or "").strip() for child in children)
    if not children or mixed:
        line = " ".join("".join(element.itertext()).split())
        return [line] if line else []
    lines: list[str] = []
    for child in children:
        lines.extend(element_lines(child))
    return lines


@hookimpl
def register_extractors(register: RegisterClass) -> None:
    """Register the XML extractor."""
    register(XmlExtractor)
