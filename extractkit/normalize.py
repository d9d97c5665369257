"""Text clean-up shared by extractors: line endings, control characters, CJK spacing."""

from __future__ import annotations

import re
import unicodedata
from itertools import chain, compress

#: Kana and ideographs: the letters of Japanese and Chinese.
CJK_LETTERS = (
    r"\u3040-\u309f"  # hiragana
    r"\u30a0-\u30ff"  # katakana
    r"\u3400-\u4dbf"  # CJK extension A
    r"\u4e00-\u9fff"  # CJK unified ideographs
    r"\uf900-\ufaff"  # compatibility ideographs
)
#: CJK letters plus CJK punctuation and half- and full-width forms, for a regex character class.
CJK_CLASS = r"\u3000-\u303f" + CJK_LETTERS + r"\uff00-\uffef"
_CJK_CHAR = re.compile(f"[{CJK_CLASS}]")
_CJK_LETTER = re.compile(f"[{CJK_LETTERS}]")
_CJK_SPACE = re.compile(rf"(?<=[{CJK_CLASS}])[ \t\u3000]+(?=[{CJK_CLASS}])")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_TRAILING_SPACE = re.compile(r"[ \t]+\n")
_MANY_BLANK_LINES = re.compile(r"\n{3,}")


def is_cjk(char: str) -> bool:
    """True for a Japanese/Chinese character or CJK punctuation."""
    return _CJK_CHAR.match(char) is not None


def contains_cjk_letters(text: str) -> bool:
    """True when the text has any kana or ideograph."""
    return _CJK_LETTER.search(text) is not None


def remove_cjk_spaces(text: str) -> str:
    """Drop spaces between two CJK characters; spaces between Latin words stay."""
    return _CJK_SPACE.sub("", text)


def clean_text(text: str) -> str:
    """Normalise line endings, drop control characters and trailing spaces, NFC-compose."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _CONTROL.sub("", text)
    if " \n" in text or "\t\n" in text:  # the only places _TRAILING_SPACE can match
        text = _TRAILING_SPACE.sub("\n", text)
    if "\n\n\n" in text:
        text = _MANY_BLANK_LINES.sub("\n\n", text)
    return unicodedata.normalize("NFC", text).strip()


def joins_without_space(left: str, right: str) -> bool:
    """True when a soft line break between ``left`` and ``right`` (the characters either side) is no word boundary.

    Japanese and Chinese put no space between words, so a wrapped line that ends or starts
    with a CJK character continues without one; between two Latin characters the break is a space.
    """
    return bool(left) and bool(right) and (is_cjk(left) or is_cjk(right))


def join_wrapped_lines(lines: list[str], wrapped: list[bool]) -> str:
    """Join text lines: a soft break next to CJK text vanishes, every other break stays a newline.

    ``wrapped[i]`` says line ``i`` runs on into line ``i + 1`` (it was wrapped because it reached
    the end of its measure, as its geometry shows) rather than ending its paragraph or item.
    Latin line breaks are kept as they are (whitespace to an index), so hyphenation is untouched.
    Only the wrapped lines are looked at; the others are joined by newlines as they are.
    """
    joined = []
    for index in compress(range(len(lines) - 1), wrapped):
        previous, current = lines[index].rstrip(), lines[index + 1].lstrip()
        if previous and current and joins_without_space(previous[-1], current[0]):
            joined.append(index)
    if not joined:
        return "\n".join(lines)
    pieces = list(lines)
    breaks = ["\n"] * len(lines)
    breaks[-1] = ""
    for index in joined:
        pieces[index] = pieces[index].rstrip()
        pieces[index + 1] = pieces[index + 1].lstrip()
        breaks[index] = ""
    return "".join(chain.from_iterable(zip(pieces, breaks, strict=True)))
