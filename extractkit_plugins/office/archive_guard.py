"""Checks on OOXML packages (docx, xlsx, pptx) that run before any parser opens them.

An Office file is a zip of XML parts, and both layers can be weaponised:

- a zip bomb: a small file whose parts inflate to gigabytes (python-docx parses a
  part in full, so a 1.6 MB docx can become 1.6 GB of XML in memory);
- too many entries, overlapping entries, or entry names that climb out of the
  package (``../``, absolute paths);
- XML parts with a DOCTYPE: entity expansion (billion laughs) or external
  entities that pull in local files.

:func:`check_ooxml` refuses all of these with a classified error (``too_large``,
``corrupt`` or ``encrypted``). Sizes come from the zip's central directory, which
can lie; that is safe here because python-docx, openpyxl and python-pptx all read
through :mod:`zipfile`, which stops inflating a member at its declared size and
then checks its CRC, so a member that understates its size fails as damaged.
"""

from __future__ import annotations

import codecs
import re
import zipfile
import zlib
from typing import IO
from xml.etree.ElementTree import ParseError

from lxml import etree

from extractkit.errors import CorruptDocument, EncryptedDocument, TooLarge
from extractkit.models import Document, ExtractOptions
from extractkit_plugins.archive.zip_directory import check_entry_count

#: Parts smaller than this may compress very well (tiny repetitive XML) without being a bomb.
RATIO_GRACE_BYTES = 1024 * 1024
#: Longest entry name accepted; real packages use a few dozen characters.
MAX_NAME_LENGTH = 1024
#: An XML prolog (declaration and comments before the root element) longer than this is refused.
MAX_PROLOG_BYTES = 1024 * 1024
#: OOXML uses only these compression methods.
ALLOWED_COMPRESSION = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)

_DRIVE_LETTER = re.compile(r"^[A-Za-z]:")
_READ_CHUNK = 64 * 1024
_FIRST_PROLOG_CHUNK = 1024
_EBCDIC_XML_DECLARATION = b"\x4c\x6f\xa7\x94"

#: Exceptions that Office parsers raise on damaged input; they mean ``corrupt``, not a crash.
#: python-docx and python-pptx raise AttributeError when a part has an unexpected root element.
PARSER_ERRORS: tuple[type[BaseException], ...] = (
    AttributeError,
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    zlib.error,
    etree.XMLSyntaxError,
    ParseError,
    KeyError,
    IndexError,
    ValueError,
    TypeError,
    EOFError,
    NotImplementedError,
)


def check_ooxml(document: Document, options: ExtractOptions) -> None:
    """Refuse a package that is a bomb, damaged, encrypted or has XML with a DOCTYPE.

    Raises :class:`TooLarge`, :class:`CorruptDocument` or :class:`EncryptedDocument`;
    returns nothing when the package is safe to hand to a parser.
    """
    check_directory_size(document, options)
    with open_archive(document) as archive:
        infos = archive.infolist()
        check_entries(document, infos, options)
        for info in infos:
            check_xml_prolog(document, archive, info)


def open_archive(document: Document) -> zipfile.ZipFile:
    """Open the document as a zip, turning every failure into :class:`CorruptDocument`."""
    try:
        return zipfile.ZipFile(document.path)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as exc:
        raise CorruptDocument(
            f"{document.name} is not a readable zip package ({_one_line(exc)}); the file is damaged or truncated"
        ) from exc


def check_directory_size(document: Document, options: ExtractOptions) -> None:
    """Read the end-of-central-directory record and refuse too many entries before the zip is parsed."""
    check_entry_count(document, options, "; it is not a normal Office file")


def check_entries(document: Document, infos: list[zipfile.ZipInfo], options: ExtractOptions) -> None:
    """Check entry count, names, encryption, compression method, sizes and ratios."""
    if len(infos) > options.max_archive_entries:
        raise TooLarge(
            f"{document.name} has {len(infos)} zip entries, over the limit of "
            f"{options.max_archive_entries} (max_archive_entries)"
        )
    seen: set[str] = set()
    total = 0
    for info in infos:
        check_entry_name(document, info.filename, seen)
        check_entry_format(document, info)
        check_entry_ratio(document, info, options)
        total += info.file_size
    if total > options.max_archive_uncompressed:
        raise TooLarge(
            f"{document.name} inflates to {total / 1e6:.0f} MB, over the "
            f"{options.max_archive_uncompressed / 1e6:.0f} MB limit (max_archive_uncompressed); "
            "it is a zip bomb or far larger than a normal Office file"
        )
    if total > RATIO_GRACE_BYTES and total > options.max_archive_ratio * max(document.size, 1):
        raise TooLarge(
            f"{document.name} inflates {total // max(document.size, 1)}:1 overall, over the "
            f"{options.max_archive_ratio}:1 limit (max_archive_ratio); it looks like a zip bomb"
        )


def check_entry_name(document: Document, name: str, seen: set[str]) -> None:
    """Refuse absolute, climbing, NUL-bearing, overlong or duplicate entry names."""
    parts = re.split(r"[\\/]", name)
    odd = (
        not name
        or "\x00" in name
        or len(name) > MAX_NAME_LENGTH
        or name.startswith(("/", "\\"))
        or _DRIVE_LETTER.match(name) is not None
        or ".." in parts
    )
    if odd:
        raise CorruptDocument(
            f"{document.name} has a zip entry with an unsafe name ({name[:80]!r}); it is not a normal Office file"
        )
    folded = name.lower()
    if folded in seen:
        raise CorruptDocument(
            f"{document.name} has two zip entries named {name[:80]!r}; parsers would disagree on its content"
        )
    seen.add(folded)


def check_entry_format(document: Document, info: zipfile.ZipInfo) -> None:
    """Refuse encrypted entries and compression methods OOXML never uses."""
    if info.flag_bits & 0x1:
        raise EncryptedDocument(
            f"{document.name} has zip-encrypted parts ({info.filename}); remove the password and re-save it"
        )
    if info.compress_type not in ALLOWED_COMPRESSION:
        raise CorruptDocument(
            f"{document.name}: part {info.filename} uses zip compression method {info.compress_type}, "
            "which Office files never use"
        )
    if info.compress_type == zipfile.ZIP_STORED and info.file_size != info.compress_size:
        raise CorruptDocument(
            f"{document.name}: stored part {info.filename} declares {info.file_size} bytes but holds "
            f"{info.compress_size}; the zip directory is inconsistent"
        )


def check_entry_ratio(document: Document, info: zipfile.ZipInfo, options: ExtractOptions) -> None:
    """Refuse one part that inflates far beyond what XML normally compresses to."""
    if info.file_size <= RATIO_GRACE_BYTES:
        return
    ratio = info.file_size / max(info.compress_size, 1)
    if ratio > options.max_archive_ratio:
        raise TooLarge(
            f"{document.name}: part {info.filename} inflates {ratio:.0f}:1 to {info.file_size / 1e6:.0f} MB, "
            f"over the {options.max_archive_ratio}:1 limit (max_archive_ratio); it looks like a zip bomb"
        )


def check_xml_prolog(document: Document, archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> None:
    """Refuse an XML part whose prolog has a DOCTYPE (the only place entities can be declared).

    Reads the part only up to its root element; a part that does not start like
    XML (an image, say) costs one small read.
    """
    try:
        with archive.open(info) as stream:
            problem = prolog_problem(stream)
    except (*PARSER_ERRORS, OSError, RuntimeError) as exc:
        raise CorruptDocument(
            f"{document.name}: part {info.filename} cannot be inflated ({_one_line(exc)}); the file is damaged"
        ) from exc
    if problem:
        raise CorruptDocument(
            f"{document.name}: part {info.filename} {problem}; re-save it from its Office application"
        )


def prolog_problem(stream: IO[bytes]) -> str | None:
    """Say what is wrong with an XML part's prolog, or return None when it is plain XML (or not XML)."""
    first = stream.read(_FIRST_PROLOG_CHUNK)
    if first.startswith(_EBCDIC_XML_DECLARATION):
        return "is XML in EBCDIC, which Office never writes"
    decoder = _decoder_for(first)
    text = decoder.decode(first)
    consumed = len(first)
    position = 0
    while True:
        position, has_dtd = _scan_prolog(text, position)
        if has_dtd is not None:
            return "declares XML entities (a DOCTYPE), which are refused" if has_dtd else None
        chunk = stream.read(_READ_CHUNK)
        consumed += len(chunk)
        if not chunk:
            return None  # the part ends inside its prolog: the parser reports it
        if consumed > MAX_PROLOG_BYTES:
            return f"has over {MAX_PROLOG_BYTES // 1024} KB before its root element, which is refused"
        text = text[position:] + decoder.decode(chunk)
        position = 0


def _scan_prolog(text: str, position: int) -> tuple[int, bool | None]:
    """Advance over the prolog; return (resume position, DOCTYPE seen, or None when more text is needed)."""
    length = len(text)
    while True:
        while position < length and text[position] in " \t\r\n\ufeff":
            position += 1
        if position >= length:
            return position, None
        if text[position] != "<":
            return position, False  # not XML at all
        if text.startswith("<?", position) or text.startswith("<!--", position):
            closing = "?>" if text[position + 1] == "?" else "-->"
            end = text.find(closing, position + 2)
            if end < 0:
                return position, None
            position = end + len(closing)
            continue
        if position + 4 > length:
            return position, None  # might be the start of "<!--"
        return position, text[position + 1] == "!"


def _decoder_for(head: bytes) -> codecs.IncrementalDecoder:
    """Pick a decoder from the byte-order mark or the first bytes, as XML parsers do."""
    if head.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        encoding = "utf-32"
    elif head.startswith(b"<\x00\x00\x00"):
        encoding = "utf-32-le"
    elif head.startswith(b"\x00\x00\x00<"):
        encoding = "utf-32-be"
    elif head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"
    elif head.startswith(b"<\x00"):
        encoding = "utf-16-le"
    elif head.startswith(b"\x00<"):
        encoding = "utf-16-be"
    else:
        encoding = "utf-8-sig"  # ASCII-compatible encodings keep "<" and "!" intact
    return codecs.getincrementaldecoder(encoding)(errors="replace")


def safe_xml_parser() -> etree.XMLParser:
    """An lxml parser that never resolves entities, loads a DTD, touches the network or allows huge trees."""
    return etree.XMLParser(
        resolve_entities=False,
        load_dtd=False,
        no_network=True,
        huge_tree=False,
        dtd_validation=False,
    )


def parse_xml_safely(document: Document, name: str, data: bytes) -> etree._Element:
    """Parse one part's bytes with :func:`safe_xml_parser`, refusing a DOCTYPE outright."""
    try:
        root = etree.fromstring(data, safe_xml_parser())
    except etree.XMLSyntaxError as exc:
        raise CorruptDocument(f"{document.name}: part {name} is not well-formed XML ({_one_line(exc)})") from exc
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:
        raise CorruptDocument(f"{document.name}: part {name} declares XML entities (a DOCTYPE), which are refused")
    return root


def corrupt_error(document: Document, kind: str, error: BaseException) -> CorruptDocument:
    """Turn an exception from an Office parser into a one-line :class:`CorruptDocument`."""
    return CorruptDocument(
        f"{document.name} is a damaged {kind} file ({type(error).__name__}: {_one_line(error)}); "
        "re-save it from its Office application"
    )


def _one_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    first = text[0] if text else type(error).__name__
    return first[:200]
