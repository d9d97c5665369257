"""Decoding text files: a declared charset wins, otherwise the bytes decide.

Without a declaration the order is: byte-order marks, UTF-16 without a BOM
(recognised from where its zero bytes fall), ISO-2022-JP escapes, strict UTF-8,
then the Japanese legacy encodings (CP932/Shift_JIS, EUC-JP) scored by how
Japanese the result reads, then charset-normalizer for everything else.
"""

from __future__ import annotations

import codecs
import re

from .charsets import codec_for_charset, decode_iso2022jp, decode_with_charset

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


#: Share of code units whose high (or low) byte must be zero before BOM-less UTF-16 is considered.
_UTF16_ZERO_SHARE = 0.2
_UTF16_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\ufffe\uffff]")


def bom_encoding(data: bytes) -> str | None:
    """The encoding named by a byte-order mark at the start of ``data``, or None."""
    for bom, encoding in BOMS:
        if data.startswith(bom):
            return encoding
    return None


def utf16_without_bom(data: bytes) -> str | None:
    """Return ``"utf-16-le"`` or ``"utf-16-be"`` when BOM-less bytes read as UTF-16 text, else None.

    Text in UTF-16 puts a zero byte in every code unit of ASCII (digits, spaces,
    line breaks) on one side only; binary data scatters zeros on both sides. The
    sample must then decode cleanly, without stray control characters.
    """
    sample = data[:8192]
    sample = sample[: len(sample) - len(sample) % 2]
    units = len(sample) // 2
    if units < 4:
        return None
    zeros_even = sample[0::2].count(0)
    zeros_odd = sample[1::2].count(0)
    if zeros_odd >= units * _UTF16_ZERO_SHARE and zeros_even <= units * 0.02:
        encoding = "utf-16-le"
    elif zeros_even >= units * _UTF16_ZERO_SHARE and zeros_odd <= units * 0.02:
        encoding = "utf-16-be"
    else:
        return None
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    try:
        text = decoder.decode(sample, final=False)
    except UnicodeDecodeError:
        return None
    if len(_UTF16_CONTROL.findall(text)) > len(text) * 0.01:
        return None
    return encoding


def decode_declared(data: bytes, declared: str | None) -> tuple[str, str] | None:
    """Decode with a declared charset (a byte-order mark still wins); None when nothing usable is declared.

    A declaration that the bytes contradict (invalid sequences) gives way to strict
    UTF-8 when that works, the commonest mislabelling; otherwise the declared
    charset is kept and the bad bytes are replaced.
    """
    encoding = bom_encoding(data)
    if encoding:
        return data[len(_bom_for(encoding)) :].decode(encoding, errors="replace"), encoding
    codec = codec_for_charset(declared)
    if codec is None:
        return None
    if codec == "utf-16":  # no BOM (checked above): the byte pattern says which order
        codec = utf16_without_bom(data) or "utf-16-le"
    elif codec == "utf-32":
        codec = "utf-32-le"
    try:
        return decode_with_charset(data, codec), codec
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return decode_with_charset(data, codec, errors="replace"), codec


def _bom_for(encoding: str) -> bytes:
    return next(bom for bom, name in BOMS if name == encoding)


def decode(data: bytes) -> tuple[str, str]:
    """Return ``(text, encoding)`` for bytes of unknown encoding."""
    encoding = bom_encoding(data)
    if encoding:
        return data[len(_bom_for(encoding)) :].decode(encoding, errors="replace"), encoding
    encoding = utf16_without_bom(data)
    if encoding:
        return data.decode(encoding, errors="replace"), encoding
    if b"\x1b$B" in data or b"\x1b$@" in data:
        try:
            return decode_iso2022jp(data), "iso2022_jp"
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
