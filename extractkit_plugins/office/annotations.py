"""Comments and chart labels of OOXML packages, shared by the docx, xlsx and pptx readers.

- Charts (DrawingML ``c:chartSpace``): the chart title, axis titles and series
  names, the only words on a chart that read as prose.
- Comments: Word's ``w:comment``, Excel's ``comment`` (which also carries the
  text of threaded comments), PowerPoint's legacy ``p:cm`` and modern comments.
  Each comment gives one line (Word comments keep their paragraphs).

Every part is parsed with the archive guard's safe parser.
"""

from __future__ import annotations

import posixpath
import zipfile

from lxml import etree

from extractkit.models import Document
from extractkit_plugins.office.archive_guard import parse_xml_safely

CHART = "{http://schemas.openxmlformats.org/drawingml/2006/chart}"
DRAWING = "{http://schemas.openxmlformats.org/drawingml/2006/main}"
SPREADSHEET = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
PACKAGE_RELATIONSHIPS = "{http://schemas.openxmlformats.org/package/2006/relationships}"
#: Relationship types (their last segment) that point to comment parts.
COMMENT_RELATIONSHIP_SUFFIX = "/comments"
_BREAKS = str.maketrans({"\t": " ", "\r": " ", "\n": " ", "\v": " "})


def chart_lines(chart_space: etree._Element) -> list[str]:
    """Title, axis titles, then series names of one chart, each distinct text once."""
    lines: list[str] = []
    for title in chart_space.iter(f"{CHART}title"):
        _add(lines, _joined(title, f"{DRAWING}t") or _joined(title, f"{CHART}v"))
    for series in chart_space.iter(f"{CHART}ser"):
        name = series.find(f"{CHART}tx")
        if name is not None:
            _add(lines, _joined(name, f"{CHART}v", " ") or _joined(name, f"{DRAWING}t"))
    return lines


def comment_lines(root: etree._Element) -> list[str]:
    """One line per comment of a comments part, whatever the application that wrote it."""
    lines: list[str] = []
    for element in root.iter():
        name = _local_name(element)
        if name == "comment" and element.tag.startswith(SPREADSHEET):
            _add(lines, _joined(element, f"{SPREADSHEET}t"), unique=False)
        elif name == "cm":
            text = _joined(element, f"{DRAWING}t", " ") or " ".join(
                (child.text or "").strip() for child in element if _local_name(child) == "text"
            )
            _add(lines, text, unique=False)
    return lines


def sheet_comment_lines(document: Document, archive: zipfile.ZipFile, sheet_path: str) -> list[str]:
    """The comments attached to one worksheet part, read through its relationships."""
    folder, name = posixpath.split(sheet_path.lstrip("/"))
    relationships_path = posixpath.join(folder, "_rels", f"{name}.rels")
    try:
        relationships = parse_xml_safely(document, relationships_path, archive.read(relationships_path))
    except KeyError:
        return []
    lines: list[str] = []
    for relationship in relationships.iter(f"{PACKAGE_RELATIONSHIPS}Relationship"):
        if not relationship.get("Type", "").endswith(COMMENT_RELATIONSHIP_SUFFIX):
            continue
        if relationship.get("TargetMode") == "External":
            continue
        target = posixpath.normpath(posixpath.join(folder, relationship.get("Target", "")))
        try:
            data = archive.read(target.lstrip("/"))
        except KeyError:
            continue
        lines.extend(comment_lines(parse_xml_safely(document, target, data)))
    return lines


def _joined(element: etree._Element, tag: str, separator: str = "") -> str:
    return separator.join((node.text or "") for node in element.iter(tag)).translate(_BREAKS).strip()


def _add(lines: list[str], text: str, *, unique: bool = True) -> None:
    if text and (not unique or text not in lines):
        lines.append(text)


def _local_name(element: etree._Element) -> str:
    tag = element.tag
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""
