"""Excel (xlsx, xlsm) reader built on openpyxl in read-only mode, used by the xlsx extractor plugin.

Each worksheet becomes a page: the sheet name, then one line per non-empty
row with the cell values separated by tabs, then the sheet's comments. Formulas appear as the values
Excel cached when it last saved the file (``data_only=True``); openpyxl never
computes them. Dates are written in ISO 8601.

A sheet's declared dimension is ignored (files often claim ``A1:XFD1048576``)
and work is bounded by a cell budget, ``ExtractOptions.extra["max_cells"]``
(2,000,000 by default), counting the empty cells openpyxl pads rows with.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from typing import Any

from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException

from extractkit.errors import DocumentError, TooLarge
from extractkit.models import Document, ExtractionResult, ExtractOptions, Page
from extractkit_plugins.office.annotations import sheet_comment_lines
from extractkit_plugins.office.archive_guard import PARSER_ERRORS, check_ooxml, corrupt_error
from extractkit_plugins.office.cell_budget import CellBudget
from extractkit_plugins.office.strict_ooxml import transitional_package

#: A float with an integral value up to this size is printed without ".0".
_LARGEST_EXACT_INTEGER = 2**53
#: Tabs and line breaks inside a cell would break the row's layout.
_LINE_BREAKS = str.maketrans({"\t": " ", "\r": " ", "\n": " ", "\v": " "})


class XlsxReader:
    """Extracts every worksheet's cell values, one page per sheet."""

    def __init__(self, options: ExtractOptions) -> None:
        self.options = options

    def extract(self, document: Document) -> ExtractionResult:
        """Check the package, then read each worksheet's cached values."""
        check_ooxml(document, self.options)
        budget = CellBudget.for_options(document, self.options)
        try:
            with (
                transitional_package(document) as readable,
                readable.path.open("rb") as handle,
                warnings.catch_warnings(),
            ):
                warnings.simplefilter("ignore")  # openpyxl warns about every extension it skips
                workbook = load_workbook(handle, read_only=True, data_only=True, keep_links=False)
                try:
                    pages, metadata = self._read_workbook(document, workbook, budget)
                finally:
                    workbook.close()
        except DocumentError:
            raise
        except (*PARSER_ERRORS, InvalidFileException, OSError) as error:
            # openpyxl raises OSError when the package has no workbook part.
            raise corrupt_error(document, "Excel", error) from error
        text = "\n\n".join(page.text for page in pages if page.text)
        return ExtractionResult(text=text, pages=tuple(pages), metadata=metadata)

    def _read_workbook(self, document: Document, workbook: Any, budget: CellBudget) -> tuple[list[Page], dict]:
        sheets = workbook.worksheets
        if len(sheets) > self.options.max_pages:
            raise TooLarge(
                f"{document.name} has {len(sheets)} worksheets, over the limit of {self.options.max_pages} (max_pages)"
            )
        pages = []
        for index, sheet in enumerate(sheets, start=1):
            text = sheet_text(sheet, budget)
            comments = _sheet_comments(document, workbook, sheet)
            pages.append(Page(number=index, text="\n".join([text, *comments])))
        metadata = workbook_metadata(workbook)
        metadata["sheets"] = [sheet.title for sheet in sheets]
        return pages, metadata


def _sheet_comments(document: Document, workbook: Any, sheet: Any) -> list[str]:
    """The comments on a sheet; openpyxl's read-only mode skips them, so they are read from the package."""
    path = getattr(sheet, "_worksheet_path", None)
    archive = getattr(workbook, "_archive", None)
    if not path or archive is None:
        return []
    return sheet_comment_lines(document, archive, path)


def sheet_text(sheet: Any, budget: CellBudget) -> str:
    """The sheet name, then one tab-separated line per row that has a value."""
    if hasattr(sheet, "reset_dimensions"):
        sheet.reset_dimensions()  # the declared size can claim a million rows
    lines = [sheet.title]
    for row in sheet.iter_rows(values_only=True):
        budget.spend(max(len(row), 1))
        line = row_text(row)
        if line:
            lines.append(line)
    return "\n".join(lines)


def row_text(values: Iterable[Any]) -> str:
    """Cell values separated by tabs, without trailing empty cells."""
    cells = [format_value(value) for value in values]
    while cells and not cells[-1]:
        cells.pop()
    return "\t".join(cells)


def format_value(value: Any) -> str:
    """One cell value as text: ISO dates, integral floats without ``.0``, TRUE/FALSE."""
    if value is None:
        return ""
    if type(value) is str:
        return value.translate(_LINE_BREAKS)
    if type(value) is int:
        return str(value)
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat()
    if isinstance(value, (date, time)):
        return value.isoformat()
    if isinstance(value, timedelta):
        return str(value)
    if isinstance(value, float) and value.is_integer() and abs(value) < _LARGEST_EXACT_INTEGER:
        return str(int(value))
    return str(value).translate(_LINE_BREAKS)


def workbook_metadata(workbook: Any) -> dict[str, Any]:
    """Title, author, dates (ISO 8601) and last editor from the workbook's properties."""
    properties = workbook.properties
    metadata: dict[str, Any] = {}
    for key, attribute in (
        ("title", "title"),
        ("author", "creator"),
        ("subject", "subject"),
        ("keywords", "keywords"),
        ("last_modified_by", "lastModifiedBy"),
    ):
        value = getattr(properties, attribute, None)
        if value:
            metadata[key] = str(value)
    for key in ("created", "modified"):
        value = getattr(properties, key, None)
        if isinstance(value, datetime):
            metadata[key] = value.isoformat()
    return metadata
