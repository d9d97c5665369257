"""Text clean-up shared by extractors: line endings, control characters, CJK spacing."""

from __future__ import annotations

import re
import unicodedata

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
    text = _TRAILING_SPACE.sub("\n", text)
    text = _MANY_BLANK_LINES.sub("\n\n", text)
    return unicodedata.normalize("NFC", text).strip()
