"""EPUB extractor (extra ``markup``): chapters in spine order, one page each; title, creator, language, date.

An EPUB is a zip of XHTML chapters plus an OPF package document that lists them
(manifest) and orders them (spine). The zip is checked with the Office archive
guard first (entry count, sizes, ratios, names, zip encryption); the container
and package documents are parsed without entities; chapters go through the HTML
reader. A book whose chapters are DRM-encrypted is ``encrypted``.
"""

from __future__ import annotations

import posixpath
import zipfile
from typing import Any
from urllib.parse import unquote

from extractkit import hookimpl
from extractkit.errors import CorruptDocument, EncryptedDocument
from extractkit.hookspecs import RegisterClass
from extractkit.interfaces import Extractor
from extractkit.models import Document, ExtractionResult
from extractkit_plugins.extras import require
from extractkit_plugins.text.html_text import decode_html, html_to_text
from extractkit_plugins.text.results import text_result

CONTAINER = "META-INF/container.xml"
ENCRYPTION = "META-INF/encryption.xml"
CHAPTER_TYPES = ("application/xhtml+xml", "text/html", "application/x-dtbook+xml")
_NS = {
    "c": "urn:oasis:names:tc:opendocument:xmlns:container",
    "opf": "http://www.idpf.org/2007/opf",
    "dc": "http://purl.org/dc/elements/1.1/",
    "enc": "http://www.w3.org/2001/04/xmlenc#",
}
_METADATA_FIELDS = (
    ("title", "title"),
    ("creator", "creator"),
    ("language", "language"),
    ("date", "date"),
    ("publisher", "publisher"),
    ("identifier", "identifier"),
)


class EpubExtractor(Extractor):
    """Reads EPUB books: chapter text in reading order, one page per chapter, and the package metadata."""

    name = "epub"
    mime_types = ("application/epub+zip",)
    priority = 50

    def extract(self, document: Document) -> ExtractionResult:
        """Check the zip, read the package document, then each chapter in spine order."""
        require("lxml.etree", "markup", "read EPUB books")
        from extractkit_plugins.office import archive_guard

        archive_guard.check_directory_size(document, self.options)
        with archive_guard.open_archive(document) as archive:
            archive_guard.check_entries(document, archive.infolist(), self.options)
            try:
                return _read_book(document, archive)
            except (zipfile.BadZipFile, KeyError, EOFError, OSError, RuntimeError, ValueError) as exc:
                if isinstance(exc, CorruptDocument | EncryptedDocument):
                    raise
                raise CorruptDocument(f"{document.name} is a damaged EPUB ({type(exc).__name__}: {exc})") from exc


def _read_book(document: Document, archive: zipfile.ZipFile) -> ExtractionResult:
    from .xml_safety import parse_untrusted_xml

    names = set(archive.namelist())
    if CONTAINER not in names:
        raise CorruptDocument(f"{document.name} has no {CONTAINER}; it is not an EPUB book")
    container = parse_untrusted_xml(archive.read(CONTAINER), f"{document.name}!/{CONTAINER}")
    rootfile = container.find(".//c:rootfile", _NS)
    package_path = rootfile.get("full-path") if rootfile is not None else None
    if not package_path or package_path not in names:
        raise CorruptDocument(f"{document.name}: its container names no package document that exists")
    package = parse_untrusted_xml(archive.read(package_path), f"{document.name}!/{package_path}")
    base = posixpath.dirname(package_path)
    chapters = _spine_paths(package, base)
    _refuse_encrypted_chapters(document, archive, names, set(chapters))
    pages = []
    for path in chapters:
        if path not in names:
            continue
        markup, _, _ = decode_html(archive.read(path))
        text = html_to_text(markup).text
        if text.strip():
            pages.append(text)
    metadata = _package_metadata(package)
    metadata["chapters"] = len(pages)
    return text_result("\n\n".join(pages), metadata, pages=pages)


def _spine_paths(package: Any, base: str) -> list[str]:
    """Chapter paths inside the zip in reading order (the spine; manifest order when there is none)."""
    manifest = {}
    ordered = []
    for item in package.iterfind(".//opf:manifest/opf:item", _NS):
        href, media_type = item.get("href"), (item.get("media-type") or "").lower()
        if not href or media_type not in CHAPTER_TYPES:
            continue
        path = posixpath.normpath(posixpath.join(base, unquote(href.split("#", 1)[0])))
        manifest[item.get("id")] = path
        ordered.append(path)
    spine = [
        manifest[ref.get("idref")]
        for ref in package.iterfind(".//opf:spine/opf:itemref", _NS)
        if ref.get("idref") in manifest
    ]
    seen: set[str] = set()
    return [path for path in (spine or ordered) if not (path in seen or seen.add(path))]


def _refuse_encrypted_chapters(
    document: Document, archive: zipfile.ZipFile, names: set[str], chapters: set[str]
) -> None:
    """Fonts may be obfuscated in a normal book; encrypted chapters mean DRM."""
    if ENCRYPTION not in names:
        return
    from .xml_safety import parse_untrusted_xml

    encryption = parse_untrusted_xml(archive.read(ENCRYPTION), f"{document.name}!/{ENCRYPTION}")
    for reference in encryption.iterfind(".//enc:CipherReference", _NS):
        uri = posixpath.normpath(unquote(reference.get("URI") or ""))
        if uri in chapters:
            raise EncryptedDocument(f"{document.name} is a DRM-protected EPUB (its chapters are encrypted)")


def _package_metadata(package: Any) -> dict[str, Any]:
    metadata: dict[str, Any] = {}
    block = package.find(".//opf:metadata", _NS)
    if block is None:
        return metadata
    for element_name, key in _METADATA_FIELDS:
        values = [
            " ".join("".join(element.itertext()).split()) for element in block.iterfind(f"dc:{element_name}", _NS)
        ]
        values = [value for value in values if value]
        if values:
            metadata[key] = values[0] if key != "creator" or len(values) == 1 else values
    return metadata


@hookimpl
def register_extractors(register: RegisterClass) -> None:
    """Register the EPUB extractor."""
    register(EpubExtractor)
