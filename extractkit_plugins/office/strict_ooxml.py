"""Strict Open XML (ISO/IEC 29500 Strict) read through the transitional readers.

A file saved as "Strict Open XML" has the same parts as a transitional one, but
every namespace and relationship type lives under ``http://purl.oclc.org/ooxml/``
instead of ``http://schemas.openxmlformats.org/``. python-docx, python-pptx and
openpyxl know only the transitional names (python-docx fails with "no
relationship of type ...officeDocument"), so :func:`transitional_package`
rewrites the names in a private temporary copy. The package has passed the
archive guard before, so every part's size is already bounded.
"""

from __future__ import annotations

import dataclasses
import re
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from extractkit.models import Document

STRICT_OFFICE_DOCUMENT = b"http://purl.oclc.org/ooxml/officeDocument/relationships/officeDocument"
_STRICT_NAME = re.compile(
    rb"http://purl\.oclc\.org/ooxml/"
    rb"(wordprocessingml|spreadsheetml|presentationml|drawingml|officeDocument|schemaLibrary)/([A-Za-z]+)"
)
#: Strict names that are spelt differently in transitional OOXML.
_RENAMED = {b"extendedProperties": b"extended-properties", b"customProperties": b"custom-properties"}
_RELATIONSHIP_RENAMES = (
    (
        b"officeDocument/2006/relationships/extendedProperties",
        b"officeDocument/2006/relationships/extended-properties",
    ),
    (b"officeDocument/2006/relationships/customProperties", b"officeDocument/2006/relationships/custom-properties"),
)
_XML_SUFFIXES = (".xml", ".rels", ".vml")


def is_strict(path: Path) -> bool:
    """True when the package's root relationships point to its main part with the strict relationship type."""
    try:
        with zipfile.ZipFile(path) as archive:
            return STRICT_OFFICE_DOCUMENT in archive.read("_rels/.rels")
    except (KeyError, zipfile.BadZipFile, OSError, ValueError, EOFError, RuntimeError, NotImplementedError):
        return False


def transitional_names(data: bytes) -> bytes:
    """One part's bytes with every strict namespace and relationship type replaced by its transitional name."""

    def replace(match: re.Match[bytes]) -> bytes:
        family, name = match.group(1), match.group(2)
        return b"http://schemas.openxmlformats.org/" + family + b"/2006/" + _RENAMED.get(name, name)

    data = _STRICT_NAME.sub(replace, data)
    for strict, transitional in _RELATIONSHIP_RENAMES:
        data = data.replace(strict, transitional)
    return data


@contextmanager
def transitional_package(document: Document) -> Iterator[Document]:
    """Yield the document itself, or for a strict package a transitional copy removed when the block ends."""
    if not is_strict(document.path):
        yield document
        return
    with tempfile.TemporaryDirectory(prefix="extractkit-strict-") as folder:
        target = Path(folder) / f"transitional{Path(document.name).suffix.lower()}"
        with zipfile.ZipFile(document.path) as source, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as copy:
            for info in source.infolist():
                data = source.read(info)
                if info.filename.lower().endswith(_XML_SUFFIXES):
                    data = transitional_names(data)
                copy.writestr(info.filename, data)
        yield dataclasses.replace(document, path=target, size=target.stat().st_size)
