"""Shared helpers for the legacy Office readers: opening the OLE2 container, its streams and its metadata.

Every ``.doc``, ``.xls`` and ``.ppt`` file is an OLE2 compound file (a small FAT
file system) read with olefile (BSD). A stream of an uncompressed container can
never be larger than the file itself, so a stream that claims more is damaged.
The SummaryInformation stream gives the same metadata keys as the OOXML readers.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from extractkit.errors import CorruptDocument
from extractkit.models import Document
from extractkit_plugins.extras import require

EXTRA = "legacy_office"
#: Exceptions olefile and the record parsers raise on damaged input.
OLE_ERRORS: tuple[type[BaseException], ...] = (OSError, ValueError, IndexError, KeyError, EOFError, TypeError)
_SPARE_BYTES = 4096
#: SummaryInformation code pages that have Python codec names of their own.
_CODEPAGE_CODECS = {65001: "utf-8", 1200: "utf-16-le", 1201: "utf-16-be", 10000: "mac_roman", 10001: "shift_jis"}


def open_container(document: Document, kind: str) -> Any:
    """Open the document as an OLE2 compound file, or raise :class:`CorruptDocument`."""
    olefile = require("olefile", EXTRA, f"read legacy {kind} files")
    try:
        return olefile.OleFileIO(str(document.path))
    except (*OLE_ERRORS, RecursionError) as error:
        raise CorruptDocument(
            f"{document.name} is not a readable {kind} file (OLE2: {type(error).__name__}: {error}); "
            "the file is damaged or truncated"
        ) from error


def has_stream(container: Any, name: str) -> bool:
    """True when the container holds a top-level stream of that name (case-insensitive, as OLE2 is)."""
    return bool(container.exists(name)) and container.get_type(name) == 2  # olefile.STGTY_STREAM


def read_stream(document: Document, container: Any, name: str) -> bytes:
    """Read one stream in full, refusing a stream that claims to be larger than the file."""
    try:
        size = container.get_size(name)
        if size > document.size + _SPARE_BYTES:
            raise CorruptDocument(
                f"{document.name}: stream {name!r} claims {size} bytes in a {document.size}-byte file; it is damaged"
            )
        return bytes(container.openstream(name).read())
    except CorruptDocument:
        raise
    except (*OLE_ERRORS, RecursionError) as error:
        raise CorruptDocument(
            f"{document.name}: stream {name!r} cannot be read ({type(error).__name__}: {error})"
        ) from error


def summary_metadata(container: Any) -> dict[str, Any]:
    """Title, author, subject, keywords, last editor and dates (ISO 8601) from SummaryInformation."""
    try:
        properties = container.get_metadata()
    except (*OLE_ERRORS, RecursionError, AttributeError):
        return {}
    codec = _codec(getattr(properties, "codepage", None))
    metadata: dict[str, Any] = {}
    for key, attribute in (
        ("title", "title"),
        ("author", "author"),
        ("subject", "subject"),
        ("keywords", "keywords"),
        ("comments", "comments"),
        ("last_modified_by", "last_saved_by"),
        ("company", "company"),
        ("category", "category"),
    ):
        value = _text(getattr(properties, attribute, None), codec)
        if value:
            metadata[key] = value
    dates = (("created", "create_time"), ("modified", "last_saved_time"), ("last_printed", "last_printed"))
    for key, attribute in dates:
        value = getattr(properties, attribute, None)
        if isinstance(value, datetime) and value.year > 1601:
            metadata[key] = value.isoformat()
    return metadata


def _codec(codepage: Any) -> str:
    if not isinstance(codepage, int):
        return "cp1252"
    codepage %= 0x10000  # stored as a signed 16-bit value: 65001 reads as -535
    name = _CODEPAGE_CODECS.get(codepage, f"cp{codepage}")
    try:
        "".encode(name)
    except LookupError:
        return "cp1252"
    return name


def _text(value: Any, codec: str) -> str:
    if isinstance(value, bytes):
        value = value.decode(codec, "replace")
    if not isinstance(value, str):
        return ""
    return value.replace("\x00", "").strip()
