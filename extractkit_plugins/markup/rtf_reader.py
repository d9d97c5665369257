"""An RTF reader: the document's text and its ``\\info`` metadata, decoded in the document's code pages.

RTF carries non-ASCII text two ways, and both are handled:

- ``\\'xx`` bytes (and 8-bit literal bytes) in the code page of the current font
  (``\\fcharset128`` is Shift_JIS/CP932, ``\\fcharset134`` GBK, ...) or else of the
  document (``\\ansicpg932``). Consecutive bytes are decoded together, so
  double-byte characters come out whole, including a trail byte written as a
  literal ASCII character.
- ``\\uN`` Unicode characters, followed by ``\\ucN`` fallback characters that are
  skipped.

Destinations that are not text (font and colour tables, stylesheets, pictures,
embedded objects, field instructions, ``{\\*...}`` extensions) are skipped.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, field, replace

#: ``\\fcharsetN`` values and the code pages they stand for.
CHARSET_CODEPAGES = {
    0: None,  # the document's ANSI code page
    77: "mac_roman",
    128: "cp932",
    129: "cp949",
    130: "johab",
    134: "gbk",
    136: "cp950",
    161: "cp1253",
    162: "cp1254",
    163: "cp1258",
    177: "cp1255",
    178: "cp1256",
    186: "cp1257",
    204: "cp1251",
    222: "cp874",
    238: "cp1250",
    254: "cp437",
}
#: Destinations whose content is not document text.
SKIPPED_DESTINATIONS = frozenset(
    [
        "colortbl",
        "stylesheet",
        "listtable",
        "listoverridetable",
        "revtbl",
        "rsidtbl",
        "generator",
        "pict",
        "object",
        "objdata",
        "fldinst",
        "datastore",
        "themedata",
        "colorschememapping",
        "latentstyles",
        "xmlnstbl",
        "mmathPr",
        "filetbl",
        "pgdsctbl",
        "bkmkstart",
        "bkmkend",
        "nonshppict",
        "shppict",
        "picprop",
        "private",
        "htmltag",
        "mhtmltag",
        "pntext",
        "pntxta",
        "pntxtb",
        "listtext",
        "fontemb",
        "fontfile",
        "panose",
        "falt",
    ]
)
#: ``\\info`` fields kept as metadata (dates are read separately).
INFO_FIELDS = {
    "title": "title",
    "subject": "subject",
    "author": "author",
    "keywords": "keywords",
    "company": "company",
    "operator": "last_author",
    "doccomm": "comments",
    "category": "category",
}
INFO_DATES = {"creatim": "created", "revtim": "modified"}
#: Control words that stand for characters.
SYMBOLS = {
    "par": "\n",
    "line": "\n",
    "sect": "\n",
    "page": "\n",
    "row": "\n",
    "nestrow": "\n",
    "tab": "\t",
    "cell": "\t",
    "nestcell": "\t",
    "emdash": "\u2014",
    "endash": "\u2013",
    "bullet": "\u2022",
    "lquote": "\u2018",
    "rquote": "\u2019",
    "ldblquote": "\u201c",
    "rdblquote": "\u201d",
    "emspace": "\u2003",
    "enspace": "\u2002",
    "qmspace": "\u2005",
}
CONTROL_SYMBOLS = {"~": "\u00a0", "_": "\u2011", "-": "", "\\": "\\", "{": "{", "}": "}", "\n": "\n", "\r": "\n"}
#: Deepest group nesting accepted; real documents stay far below it.
MAX_DEPTH = 2000

_TOKEN = re.compile(
    rb"\\([a-zA-Z]{1,32})(-?\d{1,10})? ?|\\'([0-9a-fA-F]{2})|\\([^a-zA-Z])|([{}])|([^\\{}\r\n]+)|[\r\n]+",
    re.DOTALL,
)


class RtfError(ValueError):
    """The data is not RTF, or its structure is broken beyond reading."""


@dataclass(frozen=True)
class _Group:
    destination: str = "body"
    skip: bool = False
    unicode_skip: int = 1
    codec: str | None = None
    font_definition: int | None = None
    #: Set by ``\upr``: its first subgroup (the ANSI twin) is skipped and ``\ud`` returns to this destination.
    upr_outer: str | None = None
    upr_pending: bool = False


@dataclass
class RtfDocument:
    """The text and metadata read from an RTF file."""

    text: str
    metadata: dict[str, str] = field(default_factory=dict)


class _Reader:
    def __init__(self) -> None:
        self.ansi = "cp1252"
        self.fonts: dict[int, str | None] = {}
        self.default_font: int | None = None
        self.out: dict[str, list[str]] = {"body": []}
        self.pending = bytearray()
        self.pending_target = "body"
        self.pending_codec = "cp1252"
        self.skip_fallback = 0
        self.dates: dict[str, dict[str, int]] = {}

    # -- output --------------------------------------------------------------

    def emit_bytes(self, data: bytes, group: _Group) -> None:
        target = self._target(group)
        if target is None:
            return
        if self.skip_fallback:
            skipped = min(self.skip_fallback, len(data))
            self.skip_fallback -= skipped
            data = data[skipped:]
            if not data:
                return
        codec = group.codec or self.fonts.get(self.default_font or 0) or self.ansi
        if self.pending and (target != self.pending_target or codec != self.pending_codec):
            self.flush()
        self.pending_target, self.pending_codec = target, codec
        self.pending += data

    def emit_text(self, text: str, group: _Group) -> None:
        target = self._target(group)
        if target is None:
            return
        self.flush()
        self.out.setdefault(target, []).append(text)

    def flush(self) -> None:
        if self.pending:
            self.out.setdefault(self.pending_target, []).append(
                bytes(self.pending).decode(self.pending_codec, errors="replace")
            )
            self.pending.clear()

    def _target(self, group: _Group) -> str | None:
        if group.skip:
            return None
        return group.destination

    # -- control words -------------------------------------------------------

    def control(self, word: str, argument: int | None, group: _Group) -> _Group:
        """Apply a control word; return the group state that follows it."""
        if word in SKIPPED_DESTINATIONS or word == "fonttbl":
            return replace(group, skip=True, destination="fonttbl" if word == "fonttbl" else word)
        if group.destination == "fonttbl":
            return self._font_table_word(word, argument, group)
        if word == "u" and argument is not None:
            self.emit_text(chr(argument + 65536 if argument < 0 else argument), group)
            self.skip_fallback = group.unicode_skip if not group.skip else 0
            return group
        if word == "uc" and argument is not None:
            return replace(group, unicode_skip=max(0, argument))
        if word in SYMBOLS:
            self.emit_text(SYMBOLS[word], group)
            return group
        if word == "ansicpg" and argument:
            self.ansi = _codec_or(f"cp{argument}", self.ansi)
        elif word in ("mac", "pc", "pca"):
            self.ansi = {"mac": "mac_roman", "pc": "cp437", "pca": "cp850"}[word]
        elif word == "deff" and argument is not None:
            self.default_font = argument
        elif word == "f" and argument is not None:
            return replace(group, codec=self.fonts.get(argument) or self.ansi)
        elif word == "upr":
            return replace(group, upr_pending=True, upr_outer=group.destination)
        elif word == "ud" and group.upr_outer is not None:
            return replace(group, skip=False, destination=group.upr_outer)
        elif word == "result":
            return replace(group, destination="body", skip=False)
        elif word == "info":
            return replace(group, destination="info", skip=True)
        elif group.destination == "info" and (word in INFO_FIELDS or word in INFO_DATES):
            if word in INFO_DATES:
                self.dates[word] = {}
                return replace(group, destination=word, skip=True)
            self.flush()
            self.out[INFO_FIELDS[word]] = []  # a repeated field keeps its last value
            return replace(group, destination=INFO_FIELDS[word], skip=False)
        elif group.destination in INFO_DATES and word in ("yr", "mo", "dy", "hr", "min", "sec"):
            self.dates[group.destination][word] = argument or 0
        elif word in ("header", "footer", "headerl", "headerr", "headerf", "footerl", "footerr", "footerf"):
            return replace(group, destination="body")
        elif word == "bin" and argument:
            raise _SkipBinary(argument)
        return group

    def _font_table_word(self, word: str, argument: int | None, group: _Group) -> _Group:
        if word == "f" and argument is not None:
            self.fonts.setdefault(argument, None)
            return replace(group, font_definition=argument)
        if group.font_definition is not None:
            if word == "fcharset" and argument is not None:
                self.fonts[group.font_definition] = CHARSET_CODEPAGES.get(argument)
            elif word == "cpg" and argument:
                self.fonts[group.font_definition] = _codec_or(f"cp{argument}", None)
        return group

    def result(self) -> RtfDocument:
        self.flush()
        text = _join_surrogates("".join(self.out.get("body", [])))
        text = re.sub(r"\t+\n", "\n", text)
        metadata = {}
        for key in INFO_FIELDS.values():
            value = " ".join(_join_surrogates("".join(self.out.get(key, []))).split())
            if value:
                metadata[key] = value
        for word, key in INFO_DATES.items():
            date = _iso(self.dates.get(word, {}))
            if date:
                metadata[key] = date
        return RtfDocument(text=text, metadata=metadata)


class _SkipBinary(Exception):
    def __init__(self, length: int) -> None:
        self.length = length


def read_rtf(data: bytes) -> RtfDocument:
    """Read RTF bytes; raise :class:`RtfError` when they are not RTF."""
    if not data.lstrip()[:5] == b"{\\rtf":
        raise RtfError("the data does not start with {\\rtf")
    reader = _Reader()
    stack: list[_Group] = []
    group = _Group()
    position = 0
    length = len(data)
    while position < length:
        match = _TOKEN.match(data, position)
        if match is None:  # a lone backslash at the very end
            break
        position = match.end()
        word, argument, hex_byte, symbol, brace, text = match.groups()
        if brace == b"{":
            if len(stack) >= MAX_DEPTH:
                raise RtfError(f"groups nest deeper than {MAX_DEPTH} levels")
            stack.append(group)
            if group.upr_pending:  # the ANSI twin of a \upr pair; the \ud twin follows
                group = replace(group, skip=True, upr_pending=False, destination="upr")
            reader.skip_fallback = 0
            continue
        if brace == b"}":
            reader.flush()
            reader.skip_fallback = 0
            group = stack.pop() if stack else group
            continue
        if word is not None:
            try:
                group = reader.control(word.decode("ascii"), int(argument) if argument else None, group)
            except _SkipBinary as binary:
                position += binary.length
            continue
        if symbol is not None:
            char = symbol.decode("latin-1")
            if char == "*":
                group = replace(group, skip=True, destination="ignorable")
            elif char in CONTROL_SYMBOLS:
                reader.emit_text(CONTROL_SYMBOLS[char], group)
            continue
        if hex_byte is not None:
            reader.emit_bytes(bytes.fromhex(hex_byte.decode("ascii")), group)
        elif text is not None:
            if group.destination == "fonttbl":
                continue
            reader.emit_bytes(text, group)
    return reader.result()


def _codec_or(name: str, fallback: str | None) -> str | None:
    try:
        return codecs.lookup(name).name
    except LookupError:
        return fallback


def _join_surrogates(text: str) -> str:
    if not any("\ud800" <= char <= "\udfff" for char in text):
        return text
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


def _iso(parts: dict[str, int]) -> str | None:
    if not parts.get("yr"):
        return None
    try:
        return "{:04d}-{:02d}-{:02d}T{:02d}:{:02d}:00".format(
            parts["yr"], parts.get("mo", 1) or 1, parts.get("dy", 1) or 1, parts.get("hr", 0), parts.get("min", 0)
        )
    except (TypeError, ValueError):
        return None
