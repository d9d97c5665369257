"""PowerPoint 97-2003 (.ppt) reader built on olefile, used by the ppt extractor plugin ([MS-PPT]).

The ``PowerPoint Document`` stream is a tree of records. The reader follows the
newest user edit (named by the ``Current User`` stream) to its persist
directory, which maps persist ids to record offsets; the document record lists
the slides in presentation order and the notes pages. Each slide becomes a page:
its outline text (titles and bullets kept beside the slide list), then the text
of its shapes (text boxes, tables), the slides' footer when the presentation
shows one, then its speaker notes. A file whose edit chain cannot be followed
is read in stream order instead.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass, field

from extractkit.errors import CorruptDocument, DocumentError, TooLarge
from extractkit.models import Document, ExtractionResult, ExtractOptions, Page
from extractkit_plugins.legacy_office.ole_container import (
    EXTRA,
    has_stream,
    open_container,
    read_stream,
    summary_metadata,
)
from extractkit_plugins.office.decryption import decrypted_copy

RT_DOCUMENT = 0x03E8
RT_SLIDE = 0x03EE
RT_NOTES = 0x03F0
RT_NOTES_ATOM = 0x03F1
RT_SLIDE_PERSIST_ATOM = 0x03F3
RT_HEADERS_FOOTERS = 0x0FD9
RT_HEADERS_FOOTERS_ATOM = 0x0FDA
HAS_FOOTER = 0x20
RT_CSTRING = 0x0FBA
RT_TEXT_CHARS = 0x0FA0
RT_TEXT_BYTES = 0x0FA8
RT_SLIDE_LIST_WITH_TEXT = 0x0FF0
RT_USER_EDIT_ATOM = 0x0FF5
RT_PERSIST_DIRECTORY = 0x1772
#: SlideListWithText instances and HeadersFooters instances that concern slides and notes (not masters).
SLIDE_LIST, NOTES_LIST = 0, 2
SLIDE_HEADERS_FOOTERS, FOOTER_STRING = 3, 2
ENCRYPTED_HEADER_TOKEN = 0xF3D1C4DF
_HEADER = struct.Struct("<HHI")
_MAX_DEPTH = 32
_MAX_EDITS = 10_000
#: Placeholder text PowerPoint writes where a field (slide number, date) is drawn.
_FIELD_PLACEHOLDERS = frozenset({"*"})


class PptFormatError(ValueError):
    """The PowerPoint record structure is inconsistent."""


@dataclass
class SlideText:
    """What one slide (or notes page) says, gathered from the slide list and its own records."""

    slide_id: int
    persist_id: int
    outline: list[str] = field(default_factory=list)


class PptReader:
    """Extracts slide text, shape text and speaker notes, one page per slide."""

    def __init__(self, options: ExtractOptions) -> None:
        self.options = options

    def extract(self, document: Document) -> ExtractionResult:
        """Open the container, decrypting it with the configured password when it is encrypted."""
        return self._extract(document, decrypted=False)

    def _extract(self, document: Document, *, decrypted: bool) -> ExtractionResult:
        container = open_container(document, "PowerPoint")
        try:
            if not has_stream(container, "PowerPoint Document"):
                raise CorruptDocument(f"{document.name} has no 'PowerPoint Document' stream; it is not a .ppt file")
            stream = read_stream(document, container, "PowerPoint Document")
            user = read_stream(document, container, "Current User") if has_stream(container, "Current User") else b""
            encrypted = has_stream(container, "EncryptedSummary") or _current_edit(user)[1]
            metadata = summary_metadata(container)
        finally:
            container.close()
        if encrypted and not decrypted:  # a decrypted copy keeps the encryption markers
            with decrypted_copy(document, self.options, "PowerPoint", extra=EXTRA) as path:
                plain = Document(uri=document.uri, path=path, name=document.name, size=path.stat().st_size)
                result = self._extract(plain, decrypted=True)
            return ExtractionResult(result.text, result.pages, {**metadata, **result.metadata, "encrypted": True})
        try:
            slides = presentation_pages(stream, user)
        except DocumentError:
            raise
        except (PptFormatError, struct.error, ValueError, IndexError, KeyError, RecursionError) as error:
            raise CorruptDocument(f"{document.name} is a damaged PowerPoint file ({error})") from error
        if len(slides) > self.options.max_pages:
            raise TooLarge(
                f"{document.name} has {len(slides)} slides, over the limit of {self.options.max_pages} (max_pages)"
            )
        pages = tuple(Page(number=index, text=text) for index, text in enumerate(slides, start=1))
        metadata["slides"] = len(pages)
        text = "\n\n".join(page.text for page in pages if page.text)
        return ExtractionResult(text=text, pages=pages, metadata=metadata)


def records(data: bytes, start: int, end: int) -> Iterator[tuple[int, int, int, int, int]]:
    """Yield (type, instance, version, body start, body end) of the records between start and end."""
    position = start
    while position + _HEADER.size <= end:
        version_instance, kind, length = _HEADER.unpack_from(data, position)
        body = position + _HEADER.size
        if body + length > end:
            raise PptFormatError(f"record {kind:#06x} at {position} runs past its container")
        yield kind, version_instance >> 4, version_instance & 0xF, body, body + length
        position = body + length


def texts_within(data: bytes, start: int, end: int, depth: int = 0) -> list[str]:
    """Every text atom inside a container, in record order, one entry per text."""
    if depth > _MAX_DEPTH:
        raise PptFormatError("records are nested too deeply")
    found: list[str] = []
    for kind, _instance, version, body, body_end in records(data, start, end):
        if version == 0xF:
            found.extend(texts_within(data, body, body_end, depth + 1))
        elif kind in (RT_TEXT_CHARS, RT_TEXT_BYTES):
            found.append(_atom_text(data, kind, body, body_end))
    return [text for text in found if text and text not in _FIELD_PLACEHOLDERS]


def _atom_text(data: bytes, kind: int, body: int, end: int) -> str:
    raw = data[body:end]
    text = raw.decode("utf-16-le", "replace") if kind == RT_TEXT_CHARS else raw.decode("latin-1")
    return "\n".join(line.strip() for line in text.replace("\x0b", "\r").split("\r") if line.strip())


def _current_edit(user: bytes) -> tuple[int, bool]:
    """(offset of the newest UserEditAtom, encrypted?) from the Current User stream."""
    if len(user) < 20:
        return 0, False
    token, offset = struct.unpack_from("<II", user, 12)
    return offset, token == ENCRYPTED_HEADER_TOKEN


def persist_directory(stream: bytes, user: bytes) -> tuple[dict[int, int], int]:
    """Map persist ids to stream offsets, newest edit first; return it with the document's persist id."""
    offset, _encrypted = _current_edit(user)
    directory: dict[int, int] = {}
    document_id = -1
    seen: set[int] = set()
    while offset and offset not in seen and len(seen) < _MAX_EDITS:
        seen.add(offset)
        _version, kind, length = _HEADER.unpack_from(stream, offset)
        if kind != RT_USER_EDIT_ATOM or length < 28:
            raise PptFormatError(f"no user edit record at offset {offset}")
        last_edit, directory_offset, persist_id = struct.unpack_from("<III", stream, offset + 16)
        if document_id < 0:
            document_id = persist_id
        _version, kind, length = _HEADER.unpack_from(stream, directory_offset)
        if kind != RT_PERSIST_DIRECTORY:
            raise PptFormatError(f"no persist directory at offset {directory_offset}")
        position, end = directory_offset + _HEADER.size, directory_offset + _HEADER.size + length
        while position + 4 <= end:
            (entry,) = struct.unpack_from("<I", stream, position)
            first, count = entry & 0xFFFFF, entry >> 20
            offsets = struct.unpack_from(f"<{count}I", stream, position + 4)
            for index, value in enumerate(offsets):
                directory.setdefault(first + index, value)
            position += 4 + 4 * count
        offset = last_edit
    if document_id < 0:
        raise PptFormatError("the Current User stream names no user edit")
    return directory, document_id


def presentation_pages(stream: bytes, user: bytes) -> list[str]:
    """One text per slide in presentation order; stream order when the edit chain is unusable."""
    try:
        directory, document_id = persist_directory(stream, user)
        document_at = directory[document_id]
    except (PptFormatError, KeyError, struct.error):
        return _pages_in_stream_order(stream)
    kind, _instance, _version, body, end = next(records(stream, document_at, len(stream)))
    if kind != RT_DOCUMENT:
        return _pages_in_stream_order(stream)
    slides, notes, footer = _document_lists(stream, body, end)
    notes_by_slide: dict[int, list[str]] = {}
    for page in notes:
        at = directory.get(page.persist_id)
        if at is not None:
            slide_id, texts = _container_texts(stream, at, RT_NOTES)
            notes_by_slide.setdefault(slide_id, []).extend(texts)
    pages = []
    for slide in slides:
        at = directory.get(slide.persist_id)
        own = _container_texts(stream, at, RT_SLIDE)[1] if at is not None else []
        pages.append(_page_text(slide.outline + own, notes_by_slide.get(slide.slide_id, []), footer))
    return pages


def _document_lists(stream: bytes, start: int, end: int) -> tuple[list[SlideText], list[SlideText], str]:
    slides: list[SlideText] = []
    notes: list[SlideText] = []
    footer, shown = "", False
    for kind, instance, _version, body, body_end in records(stream, start, end):
        if kind == RT_SLIDE_LIST_WITH_TEXT and instance in (SLIDE_LIST, NOTES_LIST):
            target = slides if instance == SLIDE_LIST else notes
            for child, _child_instance, _child_version, child_body, child_end in records(stream, body, body_end):
                if child == RT_SLIDE_PERSIST_ATOM and child_end - child_body >= 16:
                    persist_id, _flags, _texts, slide_id = struct.unpack_from("<IIiI", stream, child_body)
                    target.append(SlideText(slide_id=slide_id, persist_id=persist_id))
                elif child in (RT_TEXT_CHARS, RT_TEXT_BYTES) and target:
                    text = _atom_text(stream, child, child_body, child_end)
                    if text and text not in _FIELD_PLACEHOLDERS:
                        target[-1].outline.append(text)
        elif kind == RT_HEADERS_FOOTERS and instance == SLIDE_HEADERS_FOOTERS:
            for child, child_instance, _child_version, child_body, child_end in records(stream, body, body_end):
                if child == RT_CSTRING and child_instance == FOOTER_STRING:
                    footer = stream[child_body:child_end].decode("utf-16-le", "replace").strip()
                elif child == RT_HEADERS_FOOTERS_ATOM and child_end - child_body >= 4:
                    shown = bool(struct.unpack_from("<H", stream, child_body + 2)[0] & HAS_FOOTER)
    return slides, notes, footer if shown else ""


def _container_texts(stream: bytes, at: int, expected: int) -> tuple[int, list[str]]:
    """(slide id a notes page belongs to, or 0; texts) of the slide or notes container at ``at``."""
    kind, _instance, version, body, end = next(records(stream, at, len(stream)))
    if kind != expected or version != 0xF:
        return 0, []
    slide_id = 0
    for child, _child_instance, _child_version, child_body, child_end in records(stream, body, end):
        if child == RT_NOTES_ATOM and child_end - child_body >= 4:
            (slide_id,) = struct.unpack_from("<I", stream, child_body)
    return slide_id, texts_within(stream, body, end)


def _page_text(texts: list[str], notes: list[str], footer: str) -> str:
    lines: list[str] = []
    for text in texts:
        if text not in lines and text != footer:
            lines.append(text)
    if footer:
        lines.append(footer)
    notes_text = "\n".join(dict.fromkeys(note for note in notes if note not in lines))
    return "\n".join(lines) + (f"\n\n{notes_text}" if notes_text else "")


def _pages_in_stream_order(stream: bytes) -> list[str]:
    pages = []
    for kind, _instance, version, body, end in records(stream, 0, len(stream)):
        if kind == RT_SLIDE and version == 0xF:
            pages.append(_page_text(texts_within(stream, body, end), [], ""))
    return pages
