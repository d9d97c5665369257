"""Declared charset labels (MIME, ``<meta charset>``, XML declarations) mapped to the codecs that read them.

Labels follow what browsers and mail clients do rather than the letter of the
registry: ``iso-8859-1`` and ``us-ascii`` are read as windows-1252 (pages that say
Latin-1 use its C1 punctuation), ``shift_jis`` as CP932, ``gb2312`` as GB18030,
``big5`` as CP950, ``ks_c_5601-1987`` as CP949. ISO-2022-JP is read the way
Windows writes it (CP50220): NEC and IBM extensions such as ① come through, which
Python's ``iso2022_jp`` codec refuses.
"""

from __future__ import annotations

import codecs
import re

#: Labels whose everyday meaning differs from Python's codec of the same name.
_LABEL_CODECS = {
    "iso-8859-1": "cp1252",
    "iso8859-1": "cp1252",
    "latin1": "cp1252",
    "latin-1": "cp1252",
    "l1": "cp1252",
    "us-ascii": "cp1252",
    "ascii": "cp1252",
    "ansi_x3.4-1968": "cp1252",
    "iso-8859-9": "cp1254",
    "iso-8859-11": "cp874",
    "tis-620": "cp874",
    "shift_jis": "cp932",
    "shift-jis": "cp932",
    "sjis": "cp932",
    "x-sjis": "cp932",
    "ms_kanji": "cp932",
    "windows-31j": "cp932",
    "csshiftjis": "cp932",
    "x-ms-cp932": "cp932",
    "euc-jp": "euc_jp",
    "x-euc-jp": "euc_jp",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "big5": "cp950",
    "big5-hkscs": "big5hkscs",
    "x-x-big5": "cp950",
    "ks_c_5601-1987": "cp949",
    "ks_c_5601": "cp949",
    "euc-kr": "cp949",
    "iso-8859-8-i": "iso8859-8",
    "utf8": "utf-8",
    "unicode": "utf-16",
    "ucs-2": "utf-16",
}
#: Pseudo-codec name returned for ISO-2022-JP, decoded by :func:`decode_iso2022jp`.
ISO2022JP = "iso2022_jp"
_ISO2022JP_LABELS = {"iso-2022-jp", "iso2022jp", "iso2022_jp", "csiso2022jp", "cp50220", "cp50221", "cp50222"}
_MS_CODEPAGE = re.compile(r"^(?:windows|cp|x-cp|ms|ibm)[-_]?(\d{3,5})$")

_ESCAPE = 0x1B
_SHIFT_OUT = 0x0E
_SHIFT_IN = 0x0F
#: ISO-2022-JP escape sequences and the character set each one selects.
_DESIGNATIONS = {
    b"\x1b(B": "ascii",
    b"\x1b(J": "ascii",  # JIS X 0201 Roman: Windows reads it as ASCII
    b"\x1b(H": "ascii",
    b"\x1b(I": "katakana",  # JIS X 0201 half-width katakana (CP50221)
    b"\x1b$@": "jis0208",
    b"\x1b$B": "jis0208",
    b"\x1b&@\x1b$B": "jis0208",
    b"\x1b$(D": "jis0212",
}


def codec_for_charset(label: str | None) -> str | None:
    """Return the Python codec that reads a declared charset ``label``, or None when unknown.

    ISO-2022-JP comes back as :data:`ISO2022JP`; pass it to :func:`decode_with_charset`.
    """
    if not label:
        return None
    name = label.strip().strip("\"'").lower()
    if not name:
        return None
    if name in _ISO2022JP_LABELS:
        return ISO2022JP
    if name in _LABEL_CODECS:
        return _LABEL_CODECS[name]
    match = _MS_CODEPAGE.match(name)
    candidates = (name, f"cp{match.group(1)}") if match else (name,)
    for candidate in candidates:
        try:
            return codecs.lookup(candidate).name
        except LookupError:
            continue
    return None


def decode_with_charset(data: bytes, label: str | None, errors: str = "strict") -> str:
    """Decode ``data`` in the declared charset; raise LookupError when the label is unknown."""
    codec = codec_for_charset(label)
    if codec is None:
        raise LookupError(f"unknown charset {label!r}")
    if codec == ISO2022JP:
        return decode_iso2022jp(data, errors)
    return data.decode(codec, errors)


def decode_iso2022jp(data: bytes, errors: str = "strict") -> str:
    """Decode ISO-2022-JP as Windows does (CP50220/CP50221), including NEC and IBM extensions such as ①.

    Each JIS X 0208 pair is moved to its Shift_JIS position and read with CP932,
    which holds the extension rows that the strict JIS table leaves empty.
    """
    out: list[str] = []
    mode = "ascii"
    shifted = False
    position = 0
    length = len(data)
    while position < length:
        byte = data[position]
        if byte == _ESCAPE:
            for sequence, charset in _DESIGNATIONS.items():
                if data.startswith(sequence, position):
                    mode = charset
                    position += len(sequence)
                    break
            else:
                out.append(_undecodable(data, position, errors))
                position += 1
            continue
        if byte in (_SHIFT_OUT, _SHIFT_IN):
            shifted = byte == _SHIFT_OUT
            position += 1
            continue
        if byte in (0x0A, 0x0D):
            out.append(chr(byte))
            position += 1
            continue
        if shifted or mode == "katakana":
            if 0x21 <= byte <= 0x5F:
                out.append(chr(0xFF61 + byte - 0x21))
            else:
                out.append(chr(byte) if byte < 0x80 else _undecodable(data, position, errors))
            position += 1
        elif mode in ("jis0208", "jis0212"):
            pair = data[position : position + 2]
            out.append(_decode_jis_pair(pair, mode, errors))
            position += 2
        else:
            out.append(chr(byte) if byte < 0x80 else _undecodable(data, position, errors))
            position += 1
    return "".join(out)


def _decode_jis_pair(pair: bytes, mode: str, errors: str) -> str:
    if len(pair) < 2 or not (0x21 <= pair[0] <= 0x7E and 0x21 <= pair[1] <= 0x7E):
        return _undecodable(pair, 0, errors)
    if mode == "jis0212":
        return bytes((0x8F, pair[0] | 0x80, pair[1] | 0x80)).decode("euc_jp", errors)
    first, second = pair[0], pair[1]
    odd_row = first % 2 == 1
    trail = second + (0x20 if second >= 0x60 else 0x1F) if odd_row else second + 0x7E
    lead = (first + 1) // 2 + (0x70 if first <= 0x5E else 0xB0)
    return bytes((lead, trail)).decode("cp932", errors)


def _undecodable(data: bytes, position: int, errors: str) -> str:
    if errors == "strict":
        raise UnicodeDecodeError("iso2022_jp", data, position, position + 1, "illegal ISO-2022-JP sequence")
    return "" if errors == "ignore" else "\ufffd"
