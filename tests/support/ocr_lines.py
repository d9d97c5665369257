"""OCR lines as Tesseract's TSV gives them (:class:`~extractkit_plugins.image.ocr_text.TsvLine`), for pure tests."""

from __future__ import annotations

from collections.abc import Sequence

from extractkit_plugins.image.ocr_text import TsvLine

Box = tuple[int, int, int, int]
FIRST_PARAGRAPH = ("1", "1", "1")


def character_line(
    text: str,
    *,
    left: int = 100,
    top: int = 50,
    size: int = 40,
    spacing: int = 4,
    gaps: Sequence[int] = (),
    paragraph: tuple[str, str, str] = FIRST_PARAGRAPH,
) -> TsvLine:
    """A line of one-character words ``size`` pixels square, read at confidence 90.

    Words start at ``left`` and stand ``spacing`` pixels apart, plus ``gaps[i]`` pixels after word ``i``.
    """
    boxes, x = [], left
    for index in range(len(text)):
        boxes.append((x, top, size, size))
        x += size + spacing + (gaps[index] if index < len(gaps) else 0)
    return TsvLine(paragraph, tuple((char, 90.0) for char in text), tuple(boxes))


def boxed_line(
    words: Sequence[tuple[str, float]], boxes: Sequence[Box], paragraph: tuple[str, str, str] = FIRST_PARAGRAPH
) -> TsvLine:
    """A line of ``words`` (text, confidence) with their boxes (left, top, width, height)."""
    return TsvLine(paragraph, tuple(words), tuple(boxes))
