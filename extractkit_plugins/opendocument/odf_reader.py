"""OpenDocument reader (odt, ods, odp and their templates) on zipfile and lxml, used by the odf extractor plugin.

An OpenDocument file is a zip whose ``content.xml`` holds the body, ``styles.xml``
the page styles with their headers and footers, and ``meta.xml`` the metadata.
The package passes the same zip checks as OOXML (bombs, unsafe names, entry
counts) before any part is parsed, and the parts read are parsed without
entities and refused if they declare a DOCTYPE.

- Text documents give one page: headers, body (tables as tab-separated rows,
  text boxes after the paragraph that anchors them), footnotes and endnotes,
  comments, footers.
- Spreadsheets give one page per sheet: its name, then one tab-separated line
  per non-empty row, then its comments. Repeated rows and columns are expanded
  only where they hold a value, within the ``max_cells`` budget.
- Presentations and drawings give one page per slide: its shapes' text, then
  its speaker notes, then its comments.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass, field
from typing import Any

from lxml import etree

from extractkit.errors import CorruptDocument, EncryptedDocument, TooLarge
from extractkit.models import Document, ExtractionResult, ExtractOptions, Page
from extractkit_plugins.office.archive_guard import check_directory_size, check_entries, open_archive, parse_xml_safely
from extractkit_plugins.office.cell_budget import DEFAULT_MAX_CELLS

OFFICE = "{urn:oasis:names:tc:opendocument:xmlns:office:1.0}"
TEXT = "{urn:oasis:names:tc:opendocument:xmlns:text:1.0}"
TABLE = "{urn:oasis:names:tc:opendocument:xmlns:table:1.0}"
DRAW = "{urn:oasis:names:tc:opendocument:xmlns:drawing:1.0}"
STYLE = "{urn:oasis:names:tc:opendocument:xmlns:style:1.0}"
PRESENTATION = "{urn:oasis:names:tc:opendocument:xmlns:presentation:1.0}"
META = "{urn:oasis:names:tc:opendocument:xmlns:meta:1.0}"
DC = "{http://purl.org/dc/elements/1.1/}"
_CELL_BREAKS = str.maketrans({"\t": " ", "\r": " ", "\n": " ", "\v": " "})
_MAX_SPACES = 1000
_PARAGRAPHS = frozenset({f"{TEXT}p", f"{TEXT}h"})
_CELLS = frozenset({f"{TABLE}table-cell", f"{TABLE}covered-table-cell"})
#: Elements with no readable text, or whose text is read elsewhere (notes, comments).
_SKIPPED = frozenset(
    {
        f"{TEXT}tracked-changes",
        f"{TEXT}sequence-decls",
        f"{TEXT}variable-decls",
        f"{TEXT}user-field-decls",
        f"{TEXT}note-citation",
        f"{TEXT}page-number",  # a placeholder ("<number>") or the number of one page only
        f"{TEXT}page-count",
        f"{TABLE}table-columns",
        f"{TABLE}table-column",
        f"{OFFICE}forms",
        f"{DRAW}page-thumbnail",
        f"{PRESENTATION}notes",
        f"{OFFICE}annotation-end",
        f"{DC}creator",
        f"{DC}date",
        f"{META}date-string",
    }
)


@dataclass
class Gathered:
    """Text found off the main flow while a part is read: notes, comments, and the budget of cells."""

    budget: int
    notes: list[str] = field(default_factory=list)
    comments: list[str] = field(default_factory=list)

    def spend(self, document: Document, cells: int) -> None:
        """Count expanded cells; raise :class:`TooLarge` past the budget."""
        self.budget -= cells
        if self.budget < 0:
            raise TooLarge(
                f"{document.name} has more cells to read than ExtractOptions.extra['max_cells'] allows; "
                "split the file or raise the limit"
            )


class OdfReader:
    """Extracts text, tables, headers, footers, notes, comments and metadata from OpenDocument files."""

    def __init__(self, options: ExtractOptions) -> None:
        self.options = options

    def extract(self, document: Document) -> ExtractionResult:
        """Check the package, then read its body according to its kind."""
        check_directory_size(document, self.options)
        with open_archive(document) as archive:
            # Only the three parts below are parsed, and each refuses a DOCTYPE itself: embedded objects
            # (MathML formulas) legitimately carry one and must not make the whole file unreadable.
            check_entries(document, archive.infolist(), self.options)
            parts = _read_parts(document, archive)
        gathered = Gathered(budget=int(self.options.extra.get("max_cells", DEFAULT_MAX_CELLS)))
        body = parts["content.xml"].find(f"{OFFICE}body")
        if body is None or len(body) == 0:
            raise CorruptDocument(f"{document.name} has no office:body in content.xml; the file is damaged")
        kind = body[0]
        metadata = odf_metadata(parts.get("meta.xml"))
        if kind.tag == f"{OFFICE}spreadsheet":
            pages = self._pages(document, [sheet_text(document, sheet, gathered) for sheet in _tables(kind)])
            metadata["sheets"] = [sheet.get(f"{TABLE}name", "") for sheet in _tables(kind)]
        elif kind.tag in (f"{OFFICE}presentation", f"{OFFICE}drawing"):
            slides = kind.findall(f"{DRAW}page")
            pages = self._pages(document, [slide_text(document, slide, gathered) for slide in slides])
            metadata["slides"] = len(pages)
        else:
            text = text_document(document, kind, parts.get("styles.xml"), gathered)
            pages = (Page(number=1, text=text),)
        text = "\n\n".join(page.text for page in pages if page.text)
        return ExtractionResult(text=text, pages=pages, metadata=metadata)

    def _pages(self, document: Document, texts: list[str]) -> tuple[Page, ...]:
        if len(texts) > self.options.max_pages:
            raise TooLarge(
                f"{document.name} has {len(texts)} sheets or slides, over the limit of {self.options.max_pages} "
                "(max_pages)"
            )
        return tuple(Page(number=index, text=text) for index, text in enumerate(texts, start=1))


def _read_parts(document: Document, archive: zipfile.ZipFile) -> dict[str, etree._Element]:
    names = set(archive.namelist())
    if "META-INF/manifest.xml" in names and b"encryption-data" in archive.read("META-INF/manifest.xml"):
        raise EncryptedDocument(f"{document.name} is a password-protected OpenDocument file")
    if "content.xml" not in names:
        raise CorruptDocument(f"{document.name} has no content.xml; it is not an OpenDocument file")
    parts = {}
    for name in ("content.xml", "styles.xml", "meta.xml"):
        if name in names:
            try:
                data = archive.read(name)
            except (zipfile.BadZipFile, OSError, EOFError, ValueError) as error:
                raise CorruptDocument(f"{document.name}: part {name} cannot be read ({error})") from error
            parts[name] = parse_xml_safely(document, name, data)
    return parts


def _tables(spreadsheet: etree._Element) -> list[etree._Element]:
    return spreadsheet.findall(f"{TABLE}table")


def inline_text(element: etree._Element, gathered: Gathered, boxes: list[str], document: Document) -> str:
    """A paragraph's text; notes and comments go to ``gathered``, text boxes to ``boxes``."""
    pieces = [element.text or ""]
    for child in element:
        tag = child.tag
        if not isinstance(tag, str):
            pass
        elif tag == f"{TEXT}s":
            pieces.append(" " * min(int(child.get(f"{TEXT}c", "1") or 1), _MAX_SPACES))
        elif tag == f"{TEXT}tab":
            pieces.append("\t")
        elif tag == f"{TEXT}line-break":
            pieces.append("\n")
        elif tag == f"{TEXT}note":
            body = child.find(f"{TEXT}note-body")
            note = "\n".join(block_lines(body, gathered, document)) if body is not None else ""
            if note:
                gathered.notes.append(note)
        elif tag == f"{OFFICE}annotation":
            _add_comment(child, gathered, document)
        elif tag.startswith(DRAW):
            boxes.extend(block_lines(child, gathered, document))
        elif tag not in _SKIPPED:
            pieces.append(inline_text(child, gathered, boxes, document))
        pieces.append(child.tail or "")
    return "".join(pieces)


def _add_comment(annotation: etree._Element, gathered: Gathered, document: Document) -> None:
    comment = " ".join(block_lines(annotation, gathered, document))
    if comment:
        gathered.comments.append(comment)


def block_lines(container: etree._Element, gathered: Gathered, document: Document) -> list[str]:
    """Lines of a block container (body, section, list, cell, frame, note) in document order."""
    lines: list[str] = []
    for child in container:
        tag = child.tag
        if not isinstance(tag, str) or tag in _SKIPPED:
            continue
        if tag in _PARAGRAPHS:
            boxes: list[str] = []
            text = inline_text(child, gathered, boxes, document).strip()
            lines.extend(line.strip() for line in text.split("\n") if line.strip())
            lines.extend(boxes)
        elif tag == f"{TABLE}table":
            lines.extend(table_lines(document, child, gathered))
        elif tag == f"{OFFICE}annotation":
            _add_comment(child, gathered, document)
        else:
            lines.extend(block_lines(child, gathered, document))
    return lines


def table_lines(document: Document, table: etree._Element, gathered: Gathered) -> list[str]:
    """One tab-separated line per non-empty row; repeated rows and cells expand only where they hold text."""
    lines: list[str] = []
    for row in _rows(table):
        cells: list[str] = []
        pending_empty = 0
        for cell in row:
            if cell.tag not in _CELLS:
                continue
            repeat = max(int(cell.get(f"{TABLE}number-columns-repeated", "1") or 1), 1)
            text = "" if cell.tag == f"{TABLE}covered-table-cell" else _cell_text(cell, gathered, document)
            if not text:
                pending_empty += repeat
                continue
            gathered.spend(document, pending_empty + repeat)
            cells.extend([""] * pending_empty + [text] * repeat)
            pending_empty = 0
        if cells:
            line = "\t".join(cells)
            repeat = max(int(row.get(f"{TABLE}number-rows-repeated", "1") or 1), 1)
            gathered.spend(document, len(cells) * (repeat - 1))
            lines.extend([line] * repeat)
    return lines


def _rows(table: etree._Element) -> list[etree._Element]:
    """The table's rows, looking through header-row and row-group wrappers but not into nested tables."""
    rows: list[etree._Element] = []
    for child in table:
        if child.tag == f"{TABLE}table-row":
            rows.append(child)
        elif child.tag in (f"{TABLE}table-header-rows", f"{TABLE}table-rows", f"{TABLE}table-row-group"):
            rows.extend(_rows(child))
    return rows


def _cell_text(cell: etree._Element, gathered: Gathered, document: Document) -> str:
    return " ".join(line.translate(_CELL_BREAKS) for line in block_lines(cell, gathered, document)).strip()


def text_document(document: Document, body: etree._Element, styles: Any, gathered: Gathered) -> str:
    """Headers, body, notes, comments and footers of a text document."""
    body_lines = block_lines(body, gathered, document)
    headers, footers = header_footer_texts(document, styles, gathered)
    sections = ["\n".join(headers), "\n".join(body_lines), "\n".join(gathered.notes), "\n".join(gathered.comments)]
    sections.append("\n".join(footers))
    return "\n\n".join(section for section in sections if section)


def header_footer_texts(document: Document, styles: Any, gathered: Gathered) -> tuple[list[str], list[str]]:
    """Distinct header and footer texts of the master pages in styles.xml."""
    headers: list[str] = []
    footers: list[str] = []
    if styles is None:
        return headers, footers
    for page in styles.iter(f"{STYLE}master-page"):
        for element in page:
            name = element.tag.rsplit("}", 1)[-1] if isinstance(element.tag, str) else ""
            found = headers if name.startswith("header") else footers if name.startswith("footer") else None
            text = "\n".join(block_lines(element, gathered, document)) if found is not None else ""
            if found is not None and text and text not in found:
                found.append(text)
    return headers, footers


def sheet_text(document: Document, sheet: etree._Element, gathered: Gathered) -> str:
    """The sheet name, its non-empty rows, then the comments on its cells."""
    gathered.comments = []
    lines = [sheet.get(f"{TABLE}name", ""), *table_lines(document, sheet, gathered), *gathered.comments]
    gathered.comments = []
    return "\n".join(line for line in lines if line)


def slide_text(document: Document, slide: etree._Element, gathered: Gathered) -> str:
    """A slide's shape text, then its speaker notes, then its comments."""
    gathered.comments = []
    lines = block_lines(slide, gathered, document)
    notes_element = slide.find(f"{PRESENTATION}notes")
    notes = block_lines(notes_element, gathered, document) if notes_element is not None else []
    text = "\n".join(lines)
    for extra in ("\n".join(notes), "\n".join(gathered.comments)):
        if extra:
            text = f"{text}\n\n{extra}" if text else extra
    gathered.comments = []
    return text


def odf_metadata(meta: Any) -> dict[str, Any]:
    """Title, author, last editor, subject, keywords and dates from meta.xml, under the OOXML readers' keys."""
    metadata: dict[str, Any] = {}
    if meta is None:
        return metadata
    fields = meta.find(f"{OFFICE}meta")
    if fields is None:
        return metadata
    for key, tag in (
        ("title", f"{DC}title"),
        ("subject", f"{DC}subject"),
        ("comments", f"{DC}description"),
        ("author", f"{META}initial-creator"),
        ("last_modified_by", f"{DC}creator"),
        ("created", f"{META}creation-date"),
        ("modified", f"{DC}date"),
    ):
        value = (fields.findtext(tag) or "").strip()
        if value:
            metadata[key] = value
    if "author" not in metadata and "last_modified_by" in metadata:
        metadata["author"] = metadata["last_modified_by"]
    keywords = [keyword.text.strip() for keyword in fields.iter(f"{META}keyword") if (keyword.text or "").strip()]
    if keywords:
        metadata["keywords"] = ", ".join(keywords)
    return metadata
