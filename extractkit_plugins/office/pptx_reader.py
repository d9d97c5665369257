"""PowerPoint (pptx, pptm, ppsx, potx) reader built on python-pptx, used by the pptx extractor plugin.

Each slide becomes a page. Its shapes are read in reading order (top, then
left), groups are opened, tables give one tab-separated line per row, and the
speaker notes, then the slide's comments, follow the slide's text. Charts give
their title, axis titles and series names. Every package passes
:mod:`extractkit_plugins.office.archive_guard` before python-pptx parses it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from lxml import etree
from pptx.exc import PythonPptxError
from pptx.package import Package
from pptx.parts.presentation import PresentationPart
from pptx.shapes.group import GroupShape

from extractkit.errors import DocumentError, TooLarge, UnsupportedFormat
from extractkit.models import Document, ExtractionResult, ExtractOptions, Page
from extractkit_plugins.office.annotations import COMMENT_RELATIONSHIP_SUFFIX, comment_lines
from extractkit_plugins.office.annotations import chart_lines as chart_xml_lines
from extractkit_plugins.office.archive_guard import PARSER_ERRORS, check_ooxml, corrupt_error, safe_xml_parser
from extractkit_plugins.office.docx_reader import core_metadata
from extractkit_plugins.office.strict_ooxml import transitional_package

#: Line breaks inside a table cell would break the row's layout.
_CELL_BREAKS = str.maketrans({"\t": " ", "\r": " ", "\n": " ", "\v": " "})


class PptxReader:
    """Extracts slide text, tables, grouped shapes and speaker notes, one page per slide."""

    def __init__(self, options: ExtractOptions) -> None:
        self.options = options

    def extract(self, document: Document) -> ExtractionResult:
        """Check the package, then read slide by slide."""
        check_ooxml(document, self.options)
        try:
            with transitional_package(document) as readable:
                package = Package.open(str(readable.path))
            main_part = package.main_document_part
            if not isinstance(main_part, PresentationPart):
                raise UnsupportedFormat(
                    f"{document.name} is not a PowerPoint presentation (its main part is {main_part.content_type})"
                )
            slides = list(main_part.presentation.slides)
            if len(slides) > self.options.max_pages:
                raise TooLarge(
                    f"{document.name} has {len(slides)} slides, over the limit of {self.options.max_pages} (max_pages)"
                )
            pages = tuple(Page(number=index, text=slide_text(slide)) for index, slide in enumerate(slides, start=1))
            metadata = core_metadata(package)
        except DocumentError:
            raise
        except (*PARSER_ERRORS, PythonPptxError) as error:
            raise corrupt_error(document, "PowerPoint", error) from error
        metadata["slides"] = len(pages)
        text = "\n\n".join(page.text for page in pages if page.text)
        return ExtractionResult(text=text, pages=pages, metadata=metadata)


def slide_text(slide: Any) -> str:
    """The slide's shapes in reading order, then its speaker notes."""
    lines = shape_lines(slide.shapes)
    notes = notes_text(slide)
    if notes:
        lines.extend(["", notes])
    comments = comment_texts(slide)
    if comments:
        lines.extend(["", *comments])
    return "\n".join(lines).strip()


def reading_order(shape: Any) -> tuple[int, int]:
    """Sort key: top edge, then left edge (a shape without a position counts as top-left)."""
    return (shape.top or 0, shape.left or 0)


def shape_lines(shapes: Iterable[Any]) -> list[str]:
    """Lines of text from shapes sorted top then left, opening groups."""
    lines: list[str] = []
    for shape in sorted(shapes, key=reading_order):
        if isinstance(shape, GroupShape):
            lines.extend(shape_lines(shape.shapes))
        elif shape.has_text_frame:
            text = shape.text_frame.text.replace("\v", "\n").strip()
            if text:
                lines.append(text)
        elif getattr(shape, "has_table", False):
            lines.extend(table_lines(shape.table))
        elif getattr(shape, "has_chart", False):
            lines.extend(chart_lines(shape.chart))
    return lines


def table_lines(table: Any) -> list[str]:
    """One tab-separated line per row; cells covered by a merge stay empty."""
    lines: list[str] = []
    for row in table.rows:
        cells = ["" if cell.is_spanned else cell.text.translate(_CELL_BREAKS).strip() for cell in row.cells]
        while cells and not cells[-1]:
            cells.pop()
        if cells:
            lines.append("\t".join(cells))
    return lines


def chart_lines(chart: Any) -> list[str]:
    """A chart's title, axis titles and series names, the only text on a chart that reads as prose."""
    return chart_xml_lines(chart._chartSpace)


def comment_texts(slide: Any) -> list[str]:
    """One line per comment on the slide (legacy and modern PowerPoint comments)."""
    lines: list[str] = []
    for rel in slide.part.rels.values():
        if rel.is_external or not rel.reltype.endswith(COMMENT_RELATIONSHIP_SUFFIX):
            continue
        # The archive guard has refused any part with a DOCTYPE; a syntax error surfaces as corrupt.
        lines.extend(comment_lines(etree.fromstring(rel.target_part.blob, safe_xml_parser())))
    return lines


def notes_text(slide: Any) -> str:
    """The speaker notes of a slide, or an empty string."""
    if not slide.has_notes_slide:
        return ""
    frame = slide.notes_slide.notes_text_frame
    return frame.text.replace("\v", "\n").strip() if frame is not None else ""
