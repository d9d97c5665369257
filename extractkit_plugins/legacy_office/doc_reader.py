"""Word 97-2003 (.doc) reader built on olefile and :mod:`.word_binary`, used by the doc extractor plugin.

A ``.doc`` file keeps all its characters in one sequence, cut into stories by
the counts in its FIB: main text, footnotes, headers and footers, comments,
endnotes, text boxes. The reader rebuilds each story's paragraphs from the
piece table, drops field codes (keeping what a field displays), and writes
table rows as tab-separated lines, as the docx reader does. Output order:
headers, body, text boxes, footnotes, endnotes, comments, footers; one page.

An encrypted file is ``encrypted`` unless the configured ``office_password``
opens it. Word 6 and Word 95 files are ``unsupported``.
"""

from __future__ import annotations

import re
import struct

from extractkit.errors import CorruptDocument, DocumentError, UnsupportedFormat
from extractkit.models import Document, ExtractionResult, ExtractOptions, Page
from extractkit_plugins.legacy_office import word_binary
from extractkit_plugins.legacy_office.ole_container import (
    EXTRA,
    has_stream,
    open_container,
    read_stream,
    summary_metadata,
)
from extractkit_plugins.legacy_office.word_binary import ParagraphMarks, WordFormatError
from extractkit_plugins.office.decryption import decrypted_copy

#: Characters with a meaning of their own in Word's text; everything between them is plain text.
_SPECIAL = re.compile("[\x00-\x08\x0b-\x1f]")
_FIELD_BEGIN, _FIELD_SEPARATOR, _FIELD_END = "\x13", "\x14", "\x15"
_CELL_MARK, _PARAGRAPH_MARK, _LINE_BREAK, _PAGE_BREAK = "\x07", "\r", "\x0b", "\x0c"
_NON_BREAKING_HYPHEN = "\x1e"
#: Header stories come in sixes per section after six separator stories: these positions are headers.
_HEADER_POSITIONS = frozenset({0, 1, 4})
_SEPARATOR_STORIES = 6


class DocReader:
    """Extracts text, tables, headers, footers, notes, comments and text boxes from ``.doc`` files."""

    def __init__(self, options: ExtractOptions) -> None:
        self.options = options

    def extract(self, document: Document) -> ExtractionResult:
        """Open the container, decrypting it with the configured password when it is encrypted."""
        return self._extract(document, decrypted=False)

    def _extract(self, document: Document, *, decrypted: bool) -> ExtractionResult:
        container = open_container(document, "Word")
        try:
            word = self._word_stream(document, container)
            fib = self._fib(document, word)
            if fib.encrypted and not decrypted:
                container.close()
                with decrypted_copy(document, self.options, "Word", extra=EXTRA) as path:
                    plain = Document(uri=document.uri, path=path, name=document.name, size=path.stat().st_size)
                    result = self._extract(plain, decrypted=True)
                metadata = {**result.metadata, "encrypted": True}
                return ExtractionResult(text=result.text, pages=result.pages, metadata=metadata)
            table = b""
            if has_stream(container, fib.table_stream):
                table = read_stream(document, container, fib.table_stream)
            metadata = summary_metadata(container)
        finally:
            container.close()
        if not table:
            raise CorruptDocument(f"{document.name} has no {fib.table_stream} stream; the Word file is damaged")
        try:
            text = document_text(word, table, fib)
        except DocumentError:
            raise
        except (WordFormatError, struct.error, ValueError, IndexError) as error:
            raise CorruptDocument(f"{document.name} is a damaged Word file ({error})") from error
        return ExtractionResult(text=text, pages=(Page(number=1, text=text),), metadata=metadata)

    @staticmethod
    def _word_stream(document: Document, container: object) -> bytes:
        if not has_stream(container, "WordDocument"):
            raise CorruptDocument(f"{document.name} has no WordDocument stream; it is not a Word file")
        return read_stream(document, container, "WordDocument")

    @staticmethod
    def _fib(document: Document, word: bytes) -> word_binary.Fib:
        try:
            fib = word_binary.read_fib(word)
        except (WordFormatError, struct.error) as error:
            raise CorruptDocument(f"{document.name} is a damaged Word file ({error})") from error
        if fib.nfib < word_binary.WORD97_NFIB:
            raise UnsupportedFormat(f"{document.name} is a Word 6 or Word 95 file, which is not supported")
        return fib


def document_text(word: bytes, table: bytes, fib: word_binary.Fib) -> str:
    """All stories of the document, in reading order, as one text."""
    offset, length = fib.pointer(word_binary.CLX)
    pieces = word_binary.read_pieces(table, offset, length)
    marks = word_binary.read_paragraph_marks(word, table, fib)
    characters, in_table, row_ends = _characters(word, pieces, marks)
    stories: dict[str, tuple[int, int]] = {}
    start = 0
    for name in word_binary.STORY_COUNTS:
        count = fib.story_counts[name]
        stories[name] = (start, min(start + count, len(characters)))
        start += count
    lines = _StoryWriter(characters, in_table, row_ends)
    headers, footers = _header_footer_texts(lines, table, fib, stories["headers"])
    sections = [
        "\n".join(headers),
        lines.story(*stories["text"]),
        lines.story(*stories["text_boxes"]),
        lines.story(*stories["footnotes"]),
        lines.story(*stories["endnotes"]),
        lines.story(*stories["comments"]),
        "\n".join(footers),
    ]
    return word_binary.join_surrogates("\n\n".join(section for section in sections if section))


def _characters(word: bytes, pieces: list[word_binary.Piece], marks: ParagraphMarks) -> tuple[str, set[int], set[int]]:
    """The document's characters, the positions of paragraph marks inside tables, and of row-end marks."""
    texts: list[str] = []
    in_table: set[int] = set()
    row_ends: set[int] = set()
    position = 0
    for piece in sorted(pieces, key=lambda piece: piece.cp_start):
        text = word_binary.piece_text(word, piece)
        for match in re.finditer("[\r\x07]", text):
            inside, row_end = marks.lookup(piece.fc + match.start() * piece.width)
            if inside:
                in_table.add(position + match.start())
            if row_end and match.group() == _CELL_MARK:
                row_ends.add(position + match.start())
        texts.append(text)
        position += len(text)
    return "".join(texts), in_table, row_ends


class _StoryWriter:
    """Turns a range of characters into lines: paragraphs, tab-separated table rows, field results."""

    def __init__(self, characters: str, in_table: set[int], row_ends: set[int]) -> None:
        self.characters = characters
        self.in_table = in_table
        self.row_ends = row_ends

    def story(self, start: int, end: int) -> str:
        """The lines of characters [start, end) joined by newlines."""
        return "\n".join(self.lines(start, end))

    def lines(self, start: int, end: int) -> list[str]:
        """The non-empty lines of characters [start, end)."""
        lines: list[str] = []
        paragraph: list[str] = []
        cells: list[str] = []
        fields: list[bool] = []  # one entry per open field: True while its code (not its result) is read
        position = start
        for match in _SPECIAL.finditer(self.characters, start, end):
            if not any(fields):
                paragraph.append(self.characters[position : match.start()])
            position = match.end()
            mark, at = match.group(), match.start()
            if mark == _FIELD_BEGIN:
                fields.append(True)
            elif mark == _FIELD_SEPARATOR:
                if fields:
                    fields[-1] = False
            elif mark == _FIELD_END:
                if fields:
                    fields.pop()
            elif any(fields):
                continue
            elif mark == _CELL_MARK:
                if at in self.row_ends:
                    _add_row(lines, cells)
                    cells = []
                else:
                    cells.append(_cell_text(paragraph))
                paragraph = []
            elif mark == _PARAGRAPH_MARK and at in self.in_table:
                paragraph.append(" ")
            elif mark in (_PARAGRAPH_MARK, _PAGE_BREAK):
                _add_paragraph(lines, cells, paragraph)
                cells, paragraph = [], []
            elif mark == _LINE_BREAK:
                paragraph.append("\n")
            elif mark == _NON_BREAKING_HYPHEN:
                paragraph.append("-")
        if not any(fields):
            paragraph.append(self.characters[position:end])
        _add_paragraph(lines, cells, paragraph)
        return lines


def _cell_text(paragraph: list[str]) -> str:
    return " ".join("".join(paragraph).replace("\t", " ").split())


def _add_row(lines: list[str], cells: list[str]) -> None:
    while cells and not cells[-1]:
        cells.pop()
    if cells:
        lines.append("\t".join(cells))


def _add_paragraph(lines: list[str], cells: list[str], paragraph: list[str]) -> None:
    _add_row(lines, cells)  # cells left open by a row without its end mark
    text = "".join(paragraph).replace("\xa0", " ").strip()
    if text:
        lines.extend(line.strip() for line in text.split("\n") if line.strip())


def _header_footer_texts(
    writer: _StoryWriter, table: bytes, fib: word_binary.Fib, story: tuple[int, int]
) -> tuple[list[str], list[str]]:
    """Distinct header texts and footer texts, in section order."""
    start, end = story
    offset, length = fib.pointer(word_binary.PLCF_HDD)
    if end <= start or length < 8 or offset + length > len(table):
        return [], []
    boundaries = struct.unpack_from(f"<{length // 4}I", table, offset)
    headers: list[str] = []
    footers: list[str] = []
    for index in range(_SEPARATOR_STORIES, len(boundaries) - 1):
        begin, finish = start + boundaries[index], min(start + boundaries[index + 1], end)
        text = writer.story(begin, finish) if finish > begin else ""
        found = headers if (index - _SEPARATOR_STORIES) % 6 in _HEADER_POSITIONS else footers
        if text and text not in found:
            found.append(text)
    return headers, footers
