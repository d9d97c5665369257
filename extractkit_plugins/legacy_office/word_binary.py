"""The structures of a Word 97-2003 binary file ([MS-DOC]) that text extraction needs.

- the File Information Block (FIB) at the start of the ``WordDocument`` stream:
  flags (which table stream, encryption), the character counts of each story
  (main text, footnotes, headers, comments, endnotes, text boxes) and the
  offsets of the structures below;
- the piece table (CLX) in the table stream: which byte ranges of
  ``WordDocument`` hold which characters, as cp1252 bytes or UTF-16LE;
- the paragraph properties (PlcBtePapx and its 512-byte FKP pages), read only
  for the two facts a reader needs to rebuild tables: "this paragraph is in a
  table" and "this mark ends a table row".
"""

from __future__ import annotations

import array
import bisect
import struct
from dataclasses import dataclass

FIB_IDENTIFIER = 0xA5EC
#: The first nFib of Word 97; earlier versions (Word 6 and 95) use another layout.
WORD97_NFIB = 101
FLAG_TABLE_STREAM_1 = 0x0200
FLAG_ENCRYPTED = 0x0100
#: Positions in FibRgLw97 (32-bit counts) of the story lengths, in characters.
STORY_COUNTS = ("text", "footnotes", "headers", "macros", "comments", "endnotes", "text_boxes", "header_text_boxes")
_FIRST_STORY_COUNT = 3
#: Positions of (fc, lcb) pairs in FibRgFcLcb97.
PLCF_HDD = 11
PLCF_BTE_PAPX = 13
CLX = 33

_SPRM_IN_TABLE = 0x2416
_SPRM_TABLE_ROW_END = 0x2417
_SPRM_INNER_CELL = 0x244A
_SPRM_INNER_ROW_END = 0x244B
_SPRM_TABLE_DEPTH = 0x6649
_SPRM_DEFINE_TABLE = 0xD608
_SPRM_CHANGE_TABS = 0xC615
#: Operand sizes by the sprm's spra bits (6 means a length prefix).
_OPERAND_SIZES = (1, 1, 2, 4, 2, 2, 0, 3)
_FKP_SIZE = 512


class WordFormatError(ValueError):
    """The Word binary structures are inconsistent."""


@dataclass(frozen=True)
class Fib:
    """What the File Information Block says about the document."""

    nfib: int
    flags: int
    story_counts: dict[str, int]
    pointers: tuple[tuple[int, int], ...]

    @property
    def encrypted(self) -> bool:
        """True when the document is encrypted or obfuscated with a password."""
        return bool(self.flags & FLAG_ENCRYPTED)

    @property
    def table_stream(self) -> str:
        """The name of the table stream this document uses."""
        return "1Table" if self.flags & FLAG_TABLE_STREAM_1 else "0Table"

    def pointer(self, index: int) -> tuple[int, int]:
        """The (offset, length) pair at ``index`` of FibRgFcLcb, or (0, 0) when the FIB is shorter."""
        return self.pointers[index] if index < len(self.pointers) else (0, 0)


@dataclass(frozen=True)
class Piece:
    """A run of characters [cp_start, cp_end) stored at byte ``fc`` of WordDocument."""

    cp_start: int
    cp_end: int
    fc: int
    compressed: bool

    @property
    def width(self) -> int:
        """Bytes per character: 1 for cp1252 text, 2 for UTF-16LE."""
        return 1 if self.compressed else 2


def read_fib(word: bytes) -> Fib:
    """Parse the FIB at the start of the WordDocument stream."""
    if len(word) < 64:
        raise WordFormatError("the WordDocument stream is too short for a FIB")
    identifier, nfib = struct.unpack_from("<HH", word, 0)
    if identifier != FIB_IDENTIFIER:
        raise WordFormatError(f"the FIB identifier is {identifier:#06x}, not {FIB_IDENTIFIER:#06x}")
    (flags,) = struct.unpack_from("<H", word, 0x0A)
    (short_count,) = struct.unpack_from("<H", word, 32)
    long_start = 34 + short_count * 2 + 2
    (long_count,) = struct.unpack_from("<H", word, long_start - 2)
    longs = struct.unpack_from(f"<{long_count}i", word, long_start)
    pair_start = long_start + long_count * 4 + 2
    (pair_count,) = struct.unpack_from("<H", word, pair_start - 2)
    pair_count = min(pair_count, (len(word) - pair_start) // 8)
    values = struct.unpack_from(f"<{pair_count * 2}I", word, pair_start)
    pointers = tuple(zip(values[0::2], values[1::2], strict=True))
    counts = {
        name: max(longs[_FIRST_STORY_COUNT + index], 0) if _FIRST_STORY_COUNT + index < len(longs) else 0
        for index, name in enumerate(STORY_COUNTS)
    }
    return Fib(nfib=nfib, flags=flags, story_counts=counts, pointers=pointers)


def read_pieces(table: bytes, offset: int, length: int) -> list[Piece]:
    """The piece table from the CLX at ``offset`` of the table stream."""
    position, end = offset, offset + length
    if end > len(table) or length <= 0:
        raise WordFormatError("the piece table lies outside the table stream")
    while position < end and table[position] == 0x01:  # Prc: property modifiers, skipped
        (size,) = struct.unpack_from("<h", table, position + 1)
        position += 3 + max(size, 0)
    if position >= end or table[position] != 0x02:
        raise WordFormatError("the CLX has no piece table (Pcdt)")
    (plc_size,) = struct.unpack_from("<I", table, position + 1)
    plc = table[position + 5 : position + 5 + plc_size]
    count = (len(plc) - 4) // 12
    if count <= 0:
        raise WordFormatError("the piece table is empty")
    cps = struct.unpack_from(f"<{count + 1}I", plc, 0)
    pieces = []
    for index in range(count):
        (raw_fc,) = struct.unpack_from("<I", plc, 4 * (count + 1) + 8 * index + 2)
        compressed = bool(raw_fc & 0x40000000)
        fc = raw_fc & 0x3FFFFFFF
        pieces.append(Piece(cps[index], cps[index + 1], fc // 2 if compressed else fc, compressed))
    return pieces


def piece_text(word: bytes, piece: Piece) -> str:
    """The characters of one piece."""
    length = max(piece.cp_end - piece.cp_start, 0)
    raw = word[piece.fc : piece.fc + length * piece.width]
    if piece.compressed:
        return raw.decode("cp1252", "replace")
    text = raw.decode("utf-16-le", "replace")
    if len(text) * 2 == len(raw):
        return text
    # A surrogate pair is two character positions in Word but one Python character: keep them apart
    # so positions match the FIB's counts; :func:`join_surrogates` pairs them again.
    return "".join(map(chr, array.array("H", raw[: len(raw) // 2 * 2])))


def join_surrogates(text: str) -> str:
    """Turn the surrogate pairs that :func:`piece_text` kept apart back into characters."""
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


@dataclass(frozen=True)
class ParagraphMarks:
    """Table facts per paragraph, looked up by the byte offset (FC) of a paragraph's mark."""

    starts: list[int]
    ends: list[int]
    in_table: list[bool]
    row_end: list[bool]

    def lookup(self, fc: int) -> tuple[bool, bool]:
        """(in a table, ends a table row) for the paragraph whose bytes contain ``fc``."""
        index = bisect.bisect_right(self.starts, fc) - 1
        if index < 0 or fc >= self.ends[index]:
            return False, False
        return self.in_table[index], self.row_end[index]


def read_paragraph_marks(word: bytes, table: bytes, fib: Fib) -> ParagraphMarks:
    """Read every PAPX FKP page named by PlcBtePapx; pages that do not parse are skipped."""
    offset, length = fib.pointer(PLCF_BTE_PAPX)
    runs: list[tuple[int, int, bool, bool]] = []
    if length >= 12 and offset + length <= len(table):
        count = (length - 4) // 8
        pages = struct.unpack_from(f"<{count}I", table, offset + 4 * (count + 1))
        for page_number in pages:
            runs.extend(_fkp_runs(word, (page_number & 0x3FFFFF) * _FKP_SIZE))
    runs.sort()
    return ParagraphMarks(
        starts=[run[0] for run in runs],
        ends=[run[1] for run in runs],
        in_table=[run[2] for run in runs],
        row_end=[run[3] for run in runs],
    )


def _fkp_runs(word: bytes, start: int) -> list[tuple[int, int, bool, bool]]:
    page = word[start : start + _FKP_SIZE]
    if len(page) < _FKP_SIZE:
        return []
    count = page[511]
    if count == 0 or 4 * (count + 1) + 13 * count > 511:
        return []
    fcs = struct.unpack_from(f"<{count + 1}I", page, 0)
    runs = []
    for index in range(count):
        properties = _papx_sprms(page, page[4 * (count + 1) + 13 * index])
        depth = properties.get(_SPRM_TABLE_DEPTH, 0)
        in_table = bool(properties.get(_SPRM_IN_TABLE)) or depth > 0
        row_end = bool(properties.get(_SPRM_TABLE_ROW_END)) and depth <= 1
        nested = bool(properties.get(_SPRM_INNER_CELL) or properties.get(_SPRM_INNER_ROW_END))
        runs.append((fcs[index], fcs[index + 1], in_table or nested, row_end and not nested))
    return runs


def _papx_sprms(page: bytes, word_offset: int) -> dict[int, int]:
    if word_offset == 0:
        return {}
    at = word_offset * 2
    if at + 2 > len(page):
        return {}
    size = page[at]
    if size == 0:
        start, size = at + 2, page[at + 1] * 2
    else:
        start, size = at + 1, size * 2 - 1
    return sprm_values(page[start + 2 : start + size])  # the first two bytes are the style index


def sprm_values(grpprl: bytes) -> dict[int, int]:
    """The fixed-size operands of a property list, by sprm; parsing stops at anything it cannot size."""
    values: dict[int, int] = {}
    position = 0
    while position + 2 <= len(grpprl):
        (opcode,) = struct.unpack_from("<H", grpprl, position)
        position += 2
        size = _OPERAND_SIZES[opcode >> 13]
        if size == 0:
            if opcode == _SPRM_DEFINE_TABLE and position + 2 <= len(grpprl):
                size = struct.unpack_from("<H", grpprl, position)[0] + 1
            elif position < len(grpprl) and not (opcode == _SPRM_CHANGE_TABS and grpprl[position] == 0xFF):
                size = grpprl[position] + 1
            else:
                break
        else:
            operand = grpprl[position : position + size]
            values[opcode] = int.from_bytes(operand, "little")
        position += size
    return values
