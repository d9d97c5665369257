"""``extract --format markdown``: headings, lists and tables where the structure is known.

- Word (docx): headings from the ``Heading N`` and ``Title`` styles, list items
  from list styles and numbering, tables in document order (read again with
  python-docx, after the docx extractor has vetted the package).
- Every other type: the title from the metadata as ``#``; each page, sheet or
  slide as a ``##`` section when there are several (a sheet's section is its
  name); runs of tab-separated rows as tables; bullet and numbered lines as
  lists.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Iterable

from extractkit.models import ExtractionResult

_BULLET = re.compile(r"^\s*[•・●◦▪‣∙*\-–]\s+(.*)$")
_NUMBERED = re.compile(r"^\s*(\d{1,3})[.)]\s+(.*)$")
_SHEET_TYPES = ("spreadsheet", "excel", "ms-excel", "opendocument.spreadsheet")
_SLIDE_TYPES = ("presentation", "powerpoint", "opendocument.presentation")


def _cell(text: str) -> str:
    return text.strip().replace("|", "\\|").replace("\n", " ") or " "


def table(rows: list[list[str]]) -> list[str]:
    """A Markdown table; the first row is the header."""
    width = max(len(row) for row in rows)
    padded = [row + [""] * (width - len(row)) for row in rows]
    lines = ["| " + " | ".join(_cell(cell) for cell in padded[0]) + " |", "|" + " --- |" * width]
    lines += ["| " + " | ".join(_cell(cell) for cell in row) + " |" for row in padded[1:]]
    return lines


def text_blocks(text: str) -> list[str]:
    """Plain text as Markdown lines: tab-separated runs become tables, bullets and numbers lists."""
    lines: list[str] = []
    rows: list[list[str]] = []

    def flush() -> None:
        if rows:
            if lines and lines[-1] != "":
                lines.append("")
            lines.extend(table(rows) if len(rows) > 1 or len(rows[0]) > 1 else [rows[0][0]])
            lines.append("")
            rows.clear()

    for raw in text.splitlines():
        if "\t" in raw:
            rows.append(raw.split("\t"))
            continue
        flush()
        if bullet := _BULLET.match(raw):
            lines.append(f"- {bullet.group(1).strip()}")
        elif numbered := _NUMBERED.match(raw):
            lines.append(f"{numbered.group(1)}. {numbered.group(2).strip()}")
        elif raw.lstrip().startswith(("#", ">", "|")):
            lines.append("\\" + raw.lstrip())  # literal text, not Markdown syntax
        else:
            lines.append(raw.rstrip())
    flush()
    return lines


def _section_title(result: ExtractionResult, number: int, text: str) -> tuple[str, str]:
    """The heading of one page and its remaining text (a sheet's first line is its name)."""
    mime = result.mime_type
    if any(kind in mime for kind in _SHEET_TYPES):
        first, _, rest = text.partition("\n")
        return first.strip() or f"Sheet {number}", rest
    if any(kind in mime for kind in _SLIDE_TYPES):
        return f"Slide {number}", text
    return f"Page {number}", text


def to_markdown(result: ExtractionResult, path: Path | None = None) -> str:
    """The result as Markdown (see the module docstring)."""
    if result.extractor == "docx" and path is not None:
        structured = _docx_markdown(path)
        if structured is not None:
            return structured
    lines: list[str] = []
    title = result.metadata.get("title")
    if isinstance(title, str) and title.strip():
        lines += [f"# {title.strip()}", ""]
    pages = [page for page in result.pages if page.text.strip()]
    if len(pages) > 1 or (pages and any(kind in result.mime_type for kind in _SHEET_TYPES)):
        for page in pages:
            heading, body = _section_title(result, page.number, page.text)
            lines += [f"## {heading}", "", *text_blocks(body), ""]
    else:
        lines += text_blocks(result.text)
    return _tidy(lines)


def _tidy(lines: Iterable[str]) -> str:
    out: list[str] = []
    for line in lines:
        if line == "" and (not out or out[-1] == ""):
            continue
        out.append(line)
    return "\n".join(out).strip() + "\n"


def _docx_markdown(path: Path) -> str | None:
    """A Word body with its headings, lists and tables; None when python-docx cannot read it."""
    try:
        import docx
        from docx.table import Table
        from docx.text.paragraph import Paragraph
    except ImportError:
        return None
    try:
        document: Any = docx.Document(str(path))
    except Exception:  # the plain rendering still works
        return None
    lines: list[str] = []
    for element in document.element.body.iterchildren():
        tag = element.tag.rsplit("}", 1)[-1]
        if tag == "p":
            lines += _docx_paragraph(Paragraph(element, document))
        elif tag == "tbl":
            rows = [[cell.text for cell in row.cells] for row in Table(element, document).rows]
            if rows:
                lines += ["", *table(rows), ""]
    return _tidy(lines)


def _docx_paragraph(paragraph: Any) -> list[str]:
    text = paragraph.text.strip()
    if not text:
        return [""]
    style = (paragraph.style.name if paragraph.style is not None else "") or ""
    if style == "Title":
        return ["", f"# {text}", ""]
    if match := re.match(r"Heading (\d)", style):
        return ["", "#" * min(int(match.group(1)), 6) + f" {text}", ""]
    numbered = paragraph._p.pPr is not None and paragraph._p.pPr.numPr is not None
    if "List Number" in style:
        return [f"1. {text}"]
    if "List" in style or numbered:
        return [f"- {text}"]
    return [text, ""]
