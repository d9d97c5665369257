"""MIME type detection: libmagic on the whole file, then structural checks.

The file name's extension is only a hint, used where the bytes cannot decide
(plain text flavours such as Markdown or CSV). A JPEG renamed ``.docx`` is a JPEG.
"""

from __future__ import annotations

import threading
import zipfile
from pathlib import Path

from extractkit import hookimpl

OCTET_STREAM = "application/octet-stream"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"

#: The part each OOXML flavour must contain.
OOXML_MAIN_PARTS = (("word/document.xml", DOCX), ("xl/workbook.xml", XLSX), ("ppt/presentation.xml", PPTX))

#: Plain-text flavours told apart by extension once the bytes say "text".
TEXT_EXTENSIONS = {
    ".md": "text/markdown",
    ".markdown": "text/markdown",
    ".csv": "text/csv",
    ".tsv": "text/tab-separated-values",
    ".htm": "text/html",
    ".html": "text/html",
    ".json": "application/json",
    ".xml": "text/xml",
}

_local = threading.local()


def _magic_mime(path: Path) -> str:
    import magic

    detector = getattr(_local, "detector", None)
    if detector is None:
        detector = _local.detector = magic.Magic(mime=True)
    try:
        return str(detector.from_file(str(path)))
    except (magic.MagicException, OSError):
        return OCTET_STREAM


def _ooxml_type(path: Path) -> str | None:
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist()[:10_000])
    except (zipfile.BadZipFile, OSError, ValueError):
        return None
    if "[Content_Types].xml" not in names:
        return None
    for part, mime_type in OOXML_MAIN_PARTS:
        if part in names:
            return mime_type
    return None


def _head(path: Path, size: int = 4096) -> bytes:
    with path.open("rb") as handle:
        return handle.read(size)


def _looks_like_text(head: bytes) -> bool:
    if head.startswith((b"\xff\xfe", b"\xfe\xff", b"\xef\xbb\xbf")):
        return True
    if b"\x00" in head:
        return False
    from charset_normalizer import from_bytes

    best = from_bytes(head).best()
    return best is not None and best.chaos < 0.3


def detect(path: Path, name: str = "") -> str:
    """Return the MIME type of the file at ``path``; ``name`` is only a hint."""
    mime_type = _magic_mime(path).lower()
    suffix = Path(name or path.name).suffix.lower()
    if mime_type in ("application/zip", OCTET_STREAM, DOCX, XLSX, PPTX, "application/encrypted"):
        ooxml = _ooxml_type(path)
        if ooxml:
            return ooxml
        if mime_type in (DOCX, XLSX, PPTX):
            return "application/zip"  # claims OOXML but lacks the main part
    if mime_type == "application/pdf" and b"%PDF-" not in _head(path, 1024):
        return OCTET_STREAM
    if mime_type.startswith("text/") or mime_type in ("application/csv", "application/json"):
        if mime_type in ("text/plain", "application/csv") and suffix in TEXT_EXTENSIONS:
            return TEXT_EXTENSIONS[suffix]
        return "text/csv" if mime_type == "application/csv" else mime_type
    if mime_type == OCTET_STREAM:
        head = _head(path)
        # libmagic gives up on some legacy Japanese encodings; decide from the bytes.
        if head and _looks_like_text(head):
            return TEXT_EXTENSIONS.get(suffix, "text/plain")
    return mime_type


@hookimpl
def detect_mime_type(path: Path, name: str) -> str:
    """Builtin detector: libmagic plus structural checks."""
    return detect(path, name)
