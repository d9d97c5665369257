"""Word (docx, docm, dotx) reader built on python-docx, used by the docx extractor plugin.

python-docx opens the package and follows its relationships; the text is read
from the WordprocessingML elements directly, because its paragraph API skips
text boxes, content controls and footnotes. The body is walked in document
order, so tables appear where they stand. Output order: headers, body,
chart titles and series names, footnotes and endnotes, comments, footers. A docx has no reliable page breaks, so the
result is one page.

Every package passes :mod:`extractkit_plugins.office.archive_guard` first: a zip bomb
or an XML part with a DOCTYPE is refused before python-docx parses anything.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from docx.exceptions import PythonDocxError
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.opc.exceptions import OpcError
from docx.opc.part import Part
from docx.oxml.exceptions import XmlchemyError
from docx.package import Package
from lxml import etree

from extractkit.errors import CorruptDocument, DocumentError, UnsupportedFormat
from extractkit.models import Document, ExtractionResult, ExtractOptions, Page
from extractkit_plugins.office.annotations import chart_lines
from extractkit_plugins.office.archive_guard import PARSER_ERRORS, check_ooxml, corrupt_error, parse_xml_safely
from extractkit_plugins.office.strict_ooxml import transitional_package

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
MC = "{http://schemas.openxmlformats.org/markup-compatibility/2006}"
MATH = "{http://schemas.openxmlformats.org/officeDocument/2006/math}"
R_ID = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
CHART_REFERENCE = "{http://schemas.openxmlformats.org/drawingml/2006/chart}chart"

#: Content types of a Word main part: document, macro-enabled, template, macro-enabled template.
WORD_MAIN_CONTENT_TYPES = frozenset(
    {
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
        "application/vnd.ms-word.document.macroEnabled.main+xml",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.template.main+xml",
        "application/vnd.ms-word.template.macroEnabledTemplate.main+xml",
    }
)

_TEXT_TAGS = frozenset({f"{W}t", f"{MATH}t"})
_TAB_TAGS = frozenset({f"{W}tab", f"{W}ptab"})
_BREAK_TAGS = frozenset({f"{W}br", f"{W}cr"})
#: Subtrees with no visible text: properties, deleted or moved-away text, legacy fallbacks.
_SKIPPED_TAGS = frozenset(
    {
        f"{W}pPr",
        f"{W}rPr",
        f"{W}tblPr",
        f"{W}tblGrid",
        f"{W}trPr",
        f"{W}tcPr",
        f"{W}sdtPr",
        f"{W}sdtEndPr",
        f"{W}sectPr",
        f"{W}del",
        f"{W}moveFrom",
        f"{MC}Fallback",
    }
)
_BLOCK_TAGS = frozenset({f"{W}p", f"{W}tbl"})
_NOTE_SEPARATOR_TYPES = frozenset({"separator", "continuationSeparator", "continuationNotice"})
_CORE_FIELDS = ("title", "author", "subject", "keywords", "last_modified_by", "category", "comments")
_CORE_DATES = ("created", "modified", "last_printed")


class DocxReader:
    """Extracts body text, tables, text boxes, headers, footers and notes from Word files."""

    def __init__(self, options: ExtractOptions) -> None:
        self.options = options

    def extract(self, document: Document) -> ExtractionResult:
        """Check the package, then read its text and core properties."""
        check_ooxml(document, self.options)
        try:
            with transitional_package(document) as readable:
                package = Package.open(str(readable.path))
                main_part = package.main_document_part
                root = _main_element(document, main_part)
                text = _document_text(document, main_part, root)
                metadata = core_metadata(package)
        except DocumentError:
            raise
        except (*PARSER_ERRORS, OpcError, XmlchemyError, PythonDocxError) as error:
            raise corrupt_error(document, "Word", error) from error
        return ExtractionResult(text=text, pages=(Page(number=1, text=text),), metadata=metadata)


def _main_element(document: Document, main_part: Part) -> etree._Element:
    if main_part.content_type not in WORD_MAIN_CONTENT_TYPES:
        raise UnsupportedFormat(f"{document.name} is not a Word document (its main part is {main_part.content_type})")
    return _part_element(document, main_part)


def _part_element(document: Document, part: Part) -> etree._Element:
    element = getattr(part, "element", None)
    if element is not None:
        return element
    return parse_xml_safely(document, str(part.partname), part.blob)


def _document_text(document: Document, main_part: Part, root: etree._Element) -> str:
    body = root.find(f"{W}body")
    if body is None:
        raise CorruptDocument(f"{document.name} has no document body (w:body); the file is damaged")
    headers, footers = header_footer_texts(document, main_part, body)
    sections = [
        "\n".join(headers),
        "\n".join(block_lines(body)),
        "\n".join(chart_texts(document, main_part, body)),
        "\n".join(note_texts(document, main_part)),
        "\n".join(comment_texts(document, main_part)),
        "\n".join(footers),
    ]
    return "\n\n".join(section for section in sections if section)


def block_lines(container: etree._Element) -> list[str]:
    """Lines of a block container (body, cell, header, note, text box) in document order."""
    lines: list[str] = []
    for block in iter_elements(container, _BLOCK_TAGS):
        if block.tag == f"{W}p":
            lines.extend(paragraph_lines(block))
        else:
            lines.extend(table_lines(block))
    return lines


def iter_elements(container: etree._Element, wanted: frozenset[str]) -> Iterator[etree._Element]:
    """Yield descendants with a wanted tag, looking through wrappers (content controls, custom XML)."""
    for child in container:
        tag = child.tag
        if not isinstance(tag, str) or tag in _SKIPPED_TAGS:
            continue
        if tag in wanted:
            yield child
        else:
            yield from iter_elements(child, wanted)


def paragraph_lines(paragraph: etree._Element) -> list[str]:
    """The paragraph's text, then the lines of any text boxes anchored in it."""
    pieces: list[str] = []
    boxes: list[str] = []
    _collect_inline(paragraph, pieces, boxes)
    text = "".join(pieces).strip()
    return ([text] if text else []) + boxes


def _collect_inline(element: etree._Element, pieces: list[str], boxes: list[str]) -> None:
    for child in element:
        tag = child.tag
        if not isinstance(tag, str) or tag in _SKIPPED_TAGS:
            continue
        if tag in _TEXT_TAGS:
            pieces.append(child.text or "")
        elif tag in _TAB_TAGS:
            pieces.append("\t")
        elif tag in _BREAK_TAGS:
            pieces.append("\n")
        elif tag == f"{W}noBreakHyphen":
            pieces.append("-")
        elif tag == f"{W}txbxContent":
            boxes.extend(block_lines(child))
        else:
            _collect_inline(child, pieces, boxes)


def table_lines(table: etree._Element) -> list[str]:
    """One tab-separated line per row; nested tables follow the row that holds them."""
    lines: list[str] = []
    for row in iter_elements(table, frozenset({f"{W}tr"})):
        cells: list[str] = []
        nested: list[str] = []
        for cell in iter_elements(row, frozenset({f"{W}tc"})):
            cells.append("" if _continues_vertical_merge(cell) else _cell_text(cell, nested))
        while cells and not cells[-1]:
            cells.pop()
        if cells:
            lines.append("\t".join(cells))
        lines.extend(nested)
    return lines


def _continues_vertical_merge(cell: etree._Element) -> bool:
    merge = cell.find(f"{W}tcPr/{W}vMerge")
    return merge is not None and merge.get(f"{W}val", "continue") != "restart"


def _cell_text(cell: etree._Element, nested: list[str]) -> str:
    words: list[str] = []
    for block in iter_elements(cell, _BLOCK_TAGS):
        if block.tag == f"{W}tbl":
            nested.extend(table_lines(block))
        else:
            words.extend(paragraph_lines(block))
    return " ".join(word.replace("\t", " ").replace("\n", " ") for word in words)


def header_footer_texts(document: Document, main_part: Part, body: etree._Element) -> tuple[list[str], list[str]]:
    """Texts of every section's headers and footers, each distinct text once, in section order."""
    related = main_part.rels.related_parts
    found: dict[str, list[str]] = {f"{W}headerReference": [], f"{W}footerReference": []}
    seen_parts: set[str] = set()
    for section in body.iter(f"{W}sectPr"):
        for reference in section:
            kind = reference.tag if reference.tag in found else None
            part = related.get(reference.get(R_ID, "")) if kind else None
            if kind is None or part is None or str(part.partname) in seen_parts:
                continue
            seen_parts.add(str(part.partname))
            text = "\n".join(block_lines(_part_element(document, part)))
            if text and text not in found[kind]:
                found[kind].append(text)
    return found[f"{W}headerReference"], found[f"{W}footerReference"]


def note_texts(document: Document, main_part: Part) -> list[str]:
    """Footnotes then endnotes, without the separator notes Word adds."""
    texts: list[str] = []
    for reltype, tag in ((RT.FOOTNOTES, f"{W}footnote"), (RT.ENDNOTES, f"{W}endnote")):
        for rel in main_part.rels.values():
            if rel.reltype != reltype or rel.is_external:
                continue
            root = _part_element(document, rel.target_part)
            for note in root.iter(tag):
                if note.get(f"{W}type") in _NOTE_SEPARATOR_TYPES:
                    continue
                text = "\n".join(block_lines(note))
                if text:
                    texts.append(text)
    return texts


def chart_texts(document: Document, main_part: Part, body: etree._Element) -> list[str]:
    """Titles and series names of the charts drawn in the body, in the order they appear."""
    related = main_part.rels.related_parts
    lines: list[str] = []
    for reference in body.iter(CHART_REFERENCE):
        part = related.get(reference.get(R_ID, ""))
        if part is not None:
            lines.extend(line for line in chart_lines(_part_element(document, part)) if line not in lines)
    return lines


def comment_texts(document: Document, main_part: Part) -> list[str]:
    """The text of every comment, one entry per comment (its paragraphs on separate lines)."""
    texts: list[str] = []
    for rel in main_part.rels.values():
        if rel.reltype != RT.COMMENTS or rel.is_external:
            continue
        for comment in _part_element(document, rel.target_part).iter(f"{W}comment"):
            text = "\n".join(block_lines(comment))
            if text:
                texts.append(text)
    return texts


def core_metadata(package: Any) -> dict[str, Any]:
    """Core properties of an OPC package (title, author, dates in ISO 8601...), without defaults.

    Works for python-docx and python-pptx packages. Their ``core_properties``
    accessors add default values to a package that has none, so this reads only
    a core-properties part the file really has.
    """
    try:
        part = package.part_related_by(RT.CORE_PROPERTIES)
    except (KeyError, ValueError):
        return {}
    properties = getattr(part, "core_properties", part)
    metadata: dict[str, Any] = {}
    for field in _CORE_FIELDS:
        value = getattr(properties, field, None)
        if value:
            metadata[field] = str(value)
    for field in _CORE_DATES:
        value = getattr(properties, field, None)
        if isinstance(value, datetime):
            metadata[field] = value.isoformat()
    return metadata
