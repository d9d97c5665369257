"""Excel 97-2003 (.xls) reader built on xlrd (BSD), used by the xls extractor plugin.

Each worksheet becomes a page, as for xlsx: the sheet name, one tab-separated
line per non-empty row (formulas as the values Excel cached, dates in ISO
8601), then the sheet's comments, one per line. Metadata comes from the OLE2
SummaryInformation stream. Work is bounded by the same cell budget as xlsx
(``ExtractOptions.extra["max_cells"]``).

A workbook encrypted with Excel's default password (structure protection only)
opens by itself; one encrypted with a user password needs ``office_password``.
"""

from __future__ import annotations

import io
from datetime import datetime, time
from pathlib import Path
from typing import Any

from extractkit.errors import CorruptDocument, DocumentError, TooLarge
from extractkit.models import Document, ExtractionResult, ExtractOptions, Page
from extractkit_plugins.extras import require
from extractkit_plugins.legacy_office.ole_container import EXTRA, OLE_ERRORS, open_container, summary_metadata
from extractkit_plugins.office.cell_budget import CellBudget
from extractkit_plugins.office.decryption import EXCEL_DEFAULT_PASSWORD, decrypted_copy

_LARGEST_EXACT_INTEGER = 2**53
_LINE_BREAKS = str.maketrans({"\t": " ", "\r": " ", "\n": " ", "\v": " "})
#: xlrd cell types (xlrd.XL_CELL_*).
_TEXT, _NUMBER, _DATE, _BOOLEAN, _ERROR = 1, 2, 3, 4, 5


class XlsReader:
    """Extracts every worksheet's cell values and comments, one page per sheet."""

    def __init__(self, options: ExtractOptions) -> None:
        self.options = options

    def extract(self, document: Document) -> ExtractionResult:
        """Read the workbook, decrypting it first when it is encrypted."""
        xlrd = require("xlrd", EXTRA, "read legacy Excel files")
        container = open_container(document, "Excel")
        try:
            metadata = summary_metadata(container)
        finally:
            container.close()
        try:
            pages, sheet_names = self._read(document, document.path)
        except xlrd.XLRDError as error:
            if "encrypted" not in str(error).lower():
                raise CorruptDocument(f"{document.name} is a damaged Excel file ({error})") from error
            options = {"extra": EXTRA, "default_passwords": (EXCEL_DEFAULT_PASSWORD,)}
            with decrypted_copy(document, self.options, "Excel", **options) as path:
                pages, sheet_names = self._read(document, path)
            metadata["encrypted"] = True
        metadata["sheets"] = sheet_names
        text = "\n\n".join(page.text for page in pages if page.text)
        return ExtractionResult(text=text, pages=tuple(pages), metadata=metadata)

    def _read(self, document: Document, path: Path) -> tuple[list[Page], list[str]]:
        xlrd = require("xlrd", EXTRA, "read legacy Excel files")
        budget = CellBudget.for_options(document, self.options)
        try:
            book = xlrd.open_workbook(str(path), on_demand=True, logfile=io.StringIO())
        except xlrd.XLRDError:
            raise
        except (*OLE_ERRORS, AssertionError, RecursionError, UnicodeDecodeError, LookupError) as error:
            raise CorruptDocument(
                f"{document.name} is a damaged Excel file ({type(error).__name__}: {error})"
            ) from error
        try:
            if book.nsheets > self.options.max_pages:
                raise TooLarge(
                    f"{document.name} has {book.nsheets} worksheets, over the limit of {self.options.max_pages} "
                    "(max_pages)"
                )
            pages = []
            for index in range(book.nsheets):
                sheet = book.sheet_by_index(index)
                pages.append(Page(number=index + 1, text=sheet_text(sheet, book.datemode, budget)))
                book.unload_sheet(index)
            return pages, list(book.sheet_names())
        except (DocumentError, xlrd.XLRDError):
            raise
        except (*OLE_ERRORS, AssertionError, RecursionError, UnicodeDecodeError, LookupError) as error:
            raise CorruptDocument(
                f"{document.name} is a damaged Excel file ({type(error).__name__}: {error})"
            ) from error
        finally:
            book.release_resources()


def sheet_text(sheet: Any, datemode: int, budget: CellBudget) -> str:
    """The sheet name, one tab-separated line per row with a value, then the sheet's comments."""
    lines = [sheet.name]
    for row_index in range(sheet.nrows):
        row = sheet.row(row_index)
        budget.spend(max(len(row), 1))
        cells = [cell_text(cell, datemode) for cell in row]
        while cells and not cells[-1]:
            cells.pop()
        if cells:
            lines.append("\t".join(cells))
    notes = getattr(sheet, "cell_note_map", {}) or {}
    for position in sorted(notes):
        note = str(getattr(notes[position], "text", "") or "").translate(_LINE_BREAKS).strip()
        if note:
            lines.append(note)
    return "\n".join(lines)


def cell_text(cell: Any, datemode: int) -> str:
    """One cell as text: ISO dates, integral numbers without ``.0``, TRUE/FALSE, error names."""
    kind, value = cell.ctype, cell.value
    if kind == _TEXT:
        return str(value).translate(_LINE_BREAKS).strip()
    if kind == _NUMBER:
        if float(value).is_integer() and abs(value) < _LARGEST_EXACT_INTEGER:
            return str(int(value))
        return repr(float(value))
    if kind == _DATE:
        return _date_text(value, datemode)
    if kind == _BOOLEAN:
        return "TRUE" if value else "FALSE"
    if kind == _ERROR:
        from xlrd.biffh import error_text_from_code

        return error_text_from_code.get(value, "#ERROR")
    return ""


def _date_text(value: float, datemode: int) -> str:
    from xlrd.xldate import XLDateError, xldate_as_datetime

    try:
        moment = xldate_as_datetime(value, datemode)
    except (XLDateError, ValueError, OverflowError):
        return repr(value)
    if value < 1:
        return moment.time().isoformat()
    if isinstance(moment, datetime) and moment.time() == time(0):
        return moment.date().isoformat()
    return moment.isoformat()
