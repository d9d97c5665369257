"""Decoding text files whose encoding nobody declared.

Order: byte-order marks, ISO-2022-JP escapes, strict UTF-8, then the Japanese
legacy encodings (CP932/Shift_JIS, EUC-JP) scored by how Japanese the result
reads, then charset-normalizer for everything else.
"""

from __future__ import annotations

import codecs
import re

BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
JAPANESE_LEGACY = ("cp932", "euc_jp")
_KANA = re.compile(r"[\u3040-\u30ff]")
_COMMON_JAPANESE = re.compile(r"[\u3000-\u303f\u3040-\u30ff\u4e00-\u9fff\uff01-\uff5e]")
_ODD = re.compile(r"[\ue000-\uf8ff\ufffd\uff61-\uff9f\x80-\x9f]")


def _japanese_score(text: str) -> float:
    if not text:
        return 0.0
    kana = len(_KANA.findall(text))
    common = len(_COMMON_JAPANESE.findall(text))
    odd = len(_ODD.findall(text))
    return (common + 2 * kana - 4 * odd) / len(text)


def decode(data: bytes) -> tuple[str, str]:
    """Return ``(text, encoding)`` for bytes of unknown encoding."""
    for bom, encoding in BOMS:
        if data.startswith(bom):
            return data[len(bom) :].decode(encoding, errors="replace"), encoding
    if b"\x1b$B" in data or b"\x1b$@" in data:
        try:
            return data.decode("iso2022_jp"), "iso2022_jp"
        except UnicodeDecodeError:
            pass
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    candidates = []
    for encoding in JAPANESE_LEGACY:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        candidates.append((_japanese_score(text), encoding, text))
    if candidates:
        score, encoding, text = max(candidates)
        if score > 0.2:
            return text, encoding
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is not None:
        return str(best), best.encoding
    return data.decode("utf-8", errors="replace"), "utf-8"
