"""Excel extractor plugin: registers the extractor; the parsing lives in :mod:`.xlsx_reader`.

The reader's libraries load only when an Excel file is extracted, so loading the
plugins stays fast.
"""

from __future__ import annotations

import io

from extractkit import hookimpl
from extractkit.hookspecs import RegisterClass, RegisterSample

from .ooxml_plugin import OoxmlExtractor


class XlsxExtractor(OoxmlExtractor):
    """Extracts every worksheet's cell values, one page per sheet."""

    name = "xlsx"
    mime_types = (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/vnd.ms-excel.sheet.macroEnabled.12",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.template",
        "application/vnd.ms-excel.template.macroEnabled.12",
    )
    library = "openpyxl"
    suffix = ".xlsx"
    reader = ("xlsx_reader", "XlsxReader")


@hookimpl
def register_extractors(register: RegisterClass) -> None:
    """Register the Excel extractor."""
    register(XlsxExtractor)


@hookimpl
def warm_up(register_sample: RegisterSample) -> None:
    """Have a tiny Excel file, made by openpyxl, extracted once; nothing when the office extra is missing."""
    try:
        import openpyxl
    except ImportError:
        return
    buffer = io.BytesIO()
    workbook = openpyxl.Workbook()
    workbook.active["A1"] = "warm up"
    workbook.save(buffer)
    register_sample("warm.xlsx", buffer.getvalue())
