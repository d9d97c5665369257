"""MIME type detection: libmagic on the whole file, then structural checks.

The file name's extension is only a hint, used where the bytes cannot decide
(plain text flavours such as Markdown or CSV). A JPEG renamed ``.docx`` is a JPEG.
"""

from __future__ import annotations

import os
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
PDF_SIGNATURE = b"%PDF-"
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
    """The file's first ``size`` bytes (fewer for a shorter file), read without a buffered file object."""
    descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
    try:
        return os.read(descriptor, size)
    finally:
        os.close(descriptor)


def _looks_like_text(head: bytes) -> bool:
    if head.startswith((b"\xff\xfe", b"\xfe\xff", b"\xef\xbb\xbf")):
        return True
    if b"\x00" in head:
        return False
    from charset_normalizer import from_bytes

    best = from_bytes(head).best()
    return best is not None and best.chaos < 0.3


# -- mail, RTF, EPUB, XHTML and text whatever libmagic guessed -----------------

RFC822 = "message/rfc822"
RTF = "application/rtf"
EPUB = "application/epub+zip"
XHTML = "application/xhtml+xml"
#: Header names that only mail uses; two of them at the top of a file make it a message.
MAIL_HEADERS = frozenset(
    (
        "from",
        "to",
        "cc",
        "bcc",
        "subject",
        "date",
        "message-id",
        "mime-version",
        "received",
        "return-path",
        "delivered-to",
        "reply-to",
        "in-reply-to",
        "references",
        "sender",
        "x-mailer",
        "thread-topic",
        "x-originalarrivaltime",
    )
)
#: libmagic answers that stand even when the bytes read as clean text (formats written in text).
TEXT_BASED_FORMATS = frozenset(("application/pdf", "application/postscript", "application/json", RTF, "text/rtf"))
_HEADER_LINE = re.compile(r"^([A-Za-z][A-Za-z0-9_-]*):")
_XHTML_START = re.compile(
    r"^\s*<\?xml[^>]*\?>(?:\s*<!--.*?-->|\s*<\?[^>]*\?>|\s*<!DOCTYPE[^>\[]*(?:\[.*?\])?\s*>)*\s*<(?:\w+:)?html\b",
    re.DOTALL | re.IGNORECASE,
)
_CONTROL_BYTES = re.compile(rb"[\x00-\x08\x0b\x0e-\x1a\x1c-\x1f\x7f]")


def _head_as_text(head: bytes) -> tuple[str, str] | None:
    """The head decoded for sniffing, with its encoding, when it is clean text; None for binary."""
    import codecs

    from extractkit_plugins.text.text_encoding import bom_encoding, utf16_without_bom

    encoding = bom_encoding(head) or utf16_without_bom(head)
    if encoding:
        text = codecs.getincrementaldecoder(encoding)(errors="replace").decode(head, final=False)
        return text.lstrip("\ufeff"), encoding
    if len(_CONTROL_BYTES.findall(head)) > len(head) * 0.01 or b"\x00" in head:
        return None
    try:
        return codecs.getincrementaldecoder("utf-8")().decode(head, final=False), "utf-8"
    except UnicodeDecodeError:
        pass
    if _looks_like_text(head):
        return head.decode("latin-1"), "8bit"  # header names and tags are ASCII in every legacy encoding
    return None


def _starts_with_mail_headers(text: str) -> bool:
    """True when the text opens with an RFC 822 header block holding at least two mail-only fields."""
    mail_fields = 0
    for number, line in enumerate(text.splitlines()):
        if not line.strip():
            break
        if line[0] in " \t" and number:
            continue  # a folded header line
        match = _HEADER_LINE.match(line)
        if match is None:
            return False
        mail_fields += match.group(1).lower() in MAIL_HEADERS
        if mail_fields >= 2:
            return True
    return False


def _text_format_type(path: Path, mime_type: str, suffix: str) -> str | None:
    """Mail, RTF, EPUB, XHTML or plain text decided from the bytes, whatever libmagic said; None otherwise."""
    head = _head(path, 8192)
    if head.startswith(b"PK\x03\x04"):
        return _epub_type(path)
    if head.startswith(b"{\\rtf"):
        return RTF
    if mime_type in TEXT_BASED_FORMATS:
        return None
    decoded = _head_as_text(head)
    if decoded is None:
        return None
    text, encoding = decoded
    if _starts_with_mail_headers(text):
        return RFC822
    if _XHTML_START.match(text):
        return XHTML
    if mime_type == RFC822:
        return None
    textual = mime_type.startswith("text/") or "xml" in mime_type or mime_type in ("application/csv",)
    if encoding.startswith("utf-16") or not textual:
        # BOM-less UTF-16, or clean text that libmagic took for something else (HP-GL, say).
        if re.match(r"^\s*<(?:\?xml|[A-Za-z_][\w.:-]*[\s>/])", text) and suffix not in (".txt", ".csv", ".tsv"):
            return "text/html" if re.match(r"^\s*<(?:!doctype html|html)\b", text, re.IGNORECASE) else "text/xml"
        return TEXT_EXTENSIONS.get(suffix, "text/plain")
    return None


def _epub_type(path: Path) -> str | None:
    """EPUB when the zip's ``mimetype`` entry holds ``application/epub+zip`` or its container names an OPF.

    The standard puts ``mimetype`` first, but real books (Tika's test EPUB among
    them) store it anywhere or leave it out.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            infos = {info.filename: info for info in archive.infolist()[:10_000]}
            mimetype = infos.get("mimetype")
            if mimetype is not None and mimetype.file_size <= 100:
                return EPUB if archive.read(mimetype).decode("ascii", "replace").strip().lower() == EPUB else None
            container = infos.get("META-INF/container.xml")
            if container is None or container.file_size > 64 * 1024:
                return None
            return EPUB if b"application/oebps-package+xml" in archive.read(container) else None
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError, RuntimeError):
        return None


def detect(path: Path, name: str = "") -> str:
    """Return the MIME type of the file at ``path``; ``name`` is only a hint."""
    if _head(path, len(PDF_SIGNATURE)) == PDF_SIGNATURE:
        # libmagic's PDF rule is this signature at offset 0, and no check below overrides its answer.
        return "application/pdf"
    mime_type = _magic_mime(path).lower()
    suffix = Path(name or path.name).suffix.lower()
    office = _office_container_type(path)
    if office:
        return office
    text_format = _text_format_type(path, mime_type, suffix)
    if text_format:
        return text_format
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
