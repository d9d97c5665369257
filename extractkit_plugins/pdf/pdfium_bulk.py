"""pdfium calls made many at a time: character boxes, angles, index lookups, mapping errors, metadata.

Each is a pdfium function bound without argument checks (:mod:`.pdfium_calls`) mapped over all
the characters at once, with the boxes written into one ctypes array and read back in one piece.
The caller holds the pdfium lock and keeps the document or text page open while these run.
"""

from __future__ import annotations

import ctypes
from collections import deque
from itertools import repeat
from typing import Any, NamedTuple, Sequence

from .pdfium_calls import address_of, calls

Box = tuple[float, float, float, float]
#: Bytes of one FS_RECTF (four C floats: left, top, right, bottom).
RECT_SIZE = 16
#: Bytes of the buffer document information entries are first read into (UTF-16, with the NUL).
META_BUFFER = 512


class CharBoxes(NamedTuple):
    """Loose boxes of a run of characters, one list per edge (page coordinates, points)."""

    lefts: list[float]
    bottoms: list[float]
    rights: list[float]
    tops: list[float]

    def box(self, position: int) -> Box:
        """The box at ``position`` as (left, bottom, right, top)."""
        return (self.lefts[position], self.bottoms[position], self.rights[position], self.tops[position])


def loose_boxes(textpage: Any, indexes: Sequence[int]) -> CharBoxes:
    """The loose box of each character index; an index pdfium refuses (a negative one) gets a zero box."""
    count = len(indexes)
    get_box = calls().loose_box
    rects = (ctypes.c_float * (4 * count))()
    outputs = map(ctypes.byref, repeat(rects, count), range(0, RECT_SIZE * count, RECT_SIZE))
    # The array starts zeroed, so a refused index (the call returns 0) keeps an empty box.
    deque(map(get_box, repeat(address_of(textpage), count), indexes, outputs), maxlen=0)
    values = memoryview(rects).cast("B").cast("f").tolist() if count else []
    return CharBoxes(values[0::4], values[3::4], values[2::4], values[1::4])


def tight_boxes(textpage: Any, indexes: Sequence[int]) -> CharBoxes:
    """The tight box (the glyph's own outline) of each character index; a refused index gets a zero box."""
    count = len(indexes)
    get_box = calls().tight_box
    values = (ctypes.c_double * (4 * count))()
    # pdfium writes left, right, bottom, top: four doubles per character, in that order.
    corners = (map(ctypes.byref, repeat(values, count), range(corner, 32 * count, 32)) for corner in (0, 8, 16, 24))
    deque(map(get_box, repeat(address_of(textpage), count), indexes, *corners), maxlen=0)
    flat = memoryview(values).cast("B").cast("d").tolist() if count else []
    return CharBoxes(flat[0::4], flat[2::4], flat[1::4], flat[3::4])


def char_angles(textpage: Any, indexes: Sequence[int]) -> list[float]:
    """Each character's angle in radians, as ``FPDFText_GetCharAngle`` gives it (-1 where it has none)."""
    return list(map(calls().angle, repeat(address_of(textpage), len(indexes)), indexes))


def char_indexes(textpage: Any, text_indexes: Sequence[int]) -> list[int]:
    """pdfium's character index for each text index (UTF-16 units into the page text); -1 where there is none."""
    return list(map(calls().char_index, repeat(address_of(textpage), len(text_indexes)), text_indexes))


def map_errors(textpage: Any, indexes: Sequence[int]) -> int:
    """How many of these characters pdfium reports as having a Unicode mapping error."""
    return list(map(calls().has_map_error, repeat(address_of(textpage), len(indexes)), indexes)).count(1)


def metadata_texts(pdf: Any, keys: Sequence[str]) -> dict[str, str]:
    """The document information entries named by ``keys`` (``Title``, ``Author``...); a missing one is ``""``."""
    get_text = calls().meta_text
    document = address_of(pdf)
    shared = ctypes.create_string_buffer(META_BUFFER)  # most entries fit: one call each
    shared_size = ctypes.c_ulong(META_BUFFER)
    texts = {}
    for key in keys:
        tag = key.encode("utf-8")
        size = get_text(document, tag, shared, shared_size)
        if size <= 2:  # nothing but the terminating NUL
            texts[key] = ""
            continue
        buffer = shared
        if size > META_BUFFER:
            buffer = ctypes.create_string_buffer(size)
            get_text(document, tag, buffer, ctypes.c_ulong(size))
        texts[key] = buffer.raw[: size - 2].decode("utf-16-le")
    return texts


def char_index(textpage: Any, text_index: int) -> int:
    """pdfium's character index for a text index (UTF-16 units into the page text)."""
    import pypdfium2.raw as pdfium_c

    return int(pdfium_c.FPDFText_GetCharIndexFromTextIndex(textpage, text_index))


def in_bmp(text: str) -> bool:
    """True when every character is in the Basic Multilingual Plane: one UTF-16 unit each, as pdfium counts.

    Told from the UTF-16 encoding's length, which is much cheaper than ``max(text)`` on long text.
    """
    return text.isascii() or len(text.encode("utf-16-le", "surrogatepass")) == 2 * len(text)


def utf16_length(text: str) -> int:
    """The text's length in UTF-16 units, pdfium's text indexes."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2
