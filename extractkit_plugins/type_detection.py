"""MIME type detection: libmagic on the whole file, then structural checks.

The file name's extension is only a hint, used where the bytes cannot decide
(plain text flavours such as Markdown or CSV). A JPEG renamed ``.docx`` is a JPEG.
"""

from __future__ import annotations

import re
import struct
import threading
import zipfile
from pathlib import Path

from extractkit import hookimpl

OCTET_STREAM = "application/octet-stream"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"

#: Legacy Office, Outlook and encrypted-OOXML containers, all OLE2 compound files.
DOC = "application/msword"
XLS = "application/vnd.ms-excel"
PPT = "application/vnd.ms-powerpoint"
OUTLOOK_MSG = "application/vnd.ms-outlook"
#: An OOXML package encrypted with a password (an OLE2 file holding EncryptionInfo and EncryptedPackage).
ENCRYPTED_OOXML = "application/x-tika-ooxml-protected"
OLE2_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
#: Top-level OLE2 stream names (lower case) that say which legacy Office application wrote the file.
OLE2_MAIN_STREAMS = (("worddocument", DOC), ("workbook", XLS), ("book", XLS), ("powerpoint document", PPT))
ODF_PREFIX = "application/vnd.oasis.opendocument."
#: Relationship types that point from ``_rels/.rels`` to an OOXML main part, transitional and strict.
OFFICE_DOCUMENT_RELATIONSHIPS = (
    "http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument",
    "http://purl.oclc.org/ooxml/officeDocument/relationships/officeDocument",
)

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


def _office_container_type(path: Path) -> str | None:
    """Legacy Office, Outlook, encrypted OOXML, OpenDocument or OOXML found through its relationships.

    Decided from the container's structure, whatever libmagic said (its answer for
    OLE2 files varies between versions: a precise type, ``application/CDFV2`` or
    ``application/x-ole-storage``). None when the file is none of these.
    """
    head = _head(path, 8)
    if head == OLE2_SIGNATURE:
        return _ole2_type(path)
    if head.startswith(b"PK\x03\x04"):
        return _odf_type(path) or _ooxml_type_from_relationships(path)
    return None


def _ole2_type(path: Path) -> str | None:
    """Name an OLE2 compound file by its top-level streams; None for other OLE2 files (Visio, MSI...)."""
    try:
        import olefile
    except ImportError:
        return None  # without olefile, libmagic's answer stands
    try:
        with olefile.OleFileIO(str(path)) as container:
            names = {entry[0].lower() for entry in container.listdir(streams=True, storages=True) if entry}
    except (OSError, ValueError, IndexError, struct.error, RecursionError):
        return None
    if any(name.startswith("__substg1.0_") for name in names):
        return OUTLOOK_MSG
    if {"encryptioninfo", "encryptedpackage"} <= names:
        return ENCRYPTED_OOXML
    for stream, mime_type in OLE2_MAIN_STREAMS:
        if stream in names:
            return mime_type
    return None


def _odf_type(path: Path) -> str | None:
    """The OpenDocument type named by a zip's first entry, ``mimetype``, stored uncompressed."""
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
            if not infos or infos[0].filename != "mimetype" or infos[0].file_size > 100:
                return None
            declared = archive.read(infos[0]).decode("ascii", "replace").strip().lower()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError, RuntimeError):
        return None
    return declared if declared.startswith(ODF_PREFIX) else None


def _ooxml_type_from_relationships(path: Path) -> str | None:
    """An OOXML type found by following ``_rels/.rels`` to the main part (strict or transitional namespace)."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist()[:10_000])
            if "[Content_Types].xml" not in names or "_rels/.rels" not in names:
                return None
            relationships = archive.read("_rels/.rels")
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError, RuntimeError):
        return None
    if len(relationships) > 1024 * 1024:
        return None
    targets = re.findall(rb"<Relationship\b[^>]*>", relationships)
    for relationship in targets:
        kind = re.search(rb'Type="([^"]*)"', relationship)
        target = re.search(rb'Target="([^"]*)"', relationship)
        if kind and target and kind.group(1).decode("ascii", "replace") in OFFICE_DOCUMENT_RELATIONSHIPS:
            part = target.group(1).decode("utf-8", "replace").lstrip("/")
            if part not in names:
                return None  # claims OOXML but lacks the main part
            return {"word": DOCX, "xl": XLSX, "ppt": PPTX}.get(part.split("/", 1)[0])
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
    office = _office_container_type(path)
    if office:
        return office
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
