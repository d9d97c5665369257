"""HTML and XHTML to text: visible text one block per line, tables as tab-separated rows, the title once.

The charset comes from the page itself when it says one (byte-order mark, then
``<meta charset>`` or ``http-equiv``, then an XML declaration for XHTML), and is
guessed only when it says nothing. Character references are HTML's own; no
custom entity is ever expanded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

from .text_encoding import decode, decode_declared

#: How far into the page a charset declaration is looked for (the HTML standard says 1024 bytes;
#: real pages put long comments or scripts first).
CHARSET_SNIFF_BYTES = 16 * 1024
_META_CHARSET = re.compile(rb"""<meta\b[^>]*?\bcharset\s*=\s*["']?\s*([A-Za-z0-9_.:()\-]+)""", re.IGNORECASE)
_XML_ENCODING = re.compile(rb"""^\s*<\?xml\b[^>]*?\bencoding\s*=\s*["']([A-Za-z0-9_.\-]+)["']""")
_XHTML_ROOT = re.compile(rb"""<html\b[^>]*\bxmlns\s*=\s*["']http://www\.w3\.org/1999/xhtml["']""", re.IGNORECASE)

_SKIPPED_TAGS = {"script", "style", "noscript", "template"}
_BLOCK_TAGS = {
    "address",
    "article",
    "aside",
    "blockquote",
    "body",
    "br",
    "caption",
    "dd",
    "details",
    "div",
    "dl",
    "dt",
    "fieldset",
    "figcaption",
    "figure",
    "footer",
    "form",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "header",
    "hr",
    "li",
    "main",
    "nav",
    "ol",
    "p",
    "pre",
    "section",
    "summary",
    "ul",
}
_CELL_TAGS = {"td", "th"}
_META_NAMES = {"author": "author", "description": "description", "keywords": "keywords"}


def declared_charset(data: bytes) -> str | None:
    """The charset an HTML or XHTML page declares in its first bytes, or None."""
    head = data[:CHARSET_SNIFF_BYTES]
    match = _XML_ENCODING.match(head) or _META_CHARSET.search(head)
    return match.group(1).decode("ascii") if match else None


def looks_like_xhtml(head: bytes) -> bool:
    """True when a document that may start with ``<?xml`` has an XHTML root element."""
    return _XHTML_ROOT.search(head) is not None or re.search(rb"<html[\s>]", head[:4096], re.IGNORECASE) is not None


def decode_html(data: bytes) -> tuple[str, str, str | None]:
    """Return ``(text, encoding, declared charset)``; the declaration wins over guessing."""
    declared = declared_charset(data)
    decoded = decode_declared(data, declared)
    if decoded is None:
        text, encoding = decode(data)
    else:
        text, encoding = decoded
    return text, encoding, declared


@dataclass
class _Table:
    rows: list[list[str]] = field(default_factory=list)
    row: list[str] | None = None
    cell: list[str] | None = None

    def close_cell(self) -> None:
        if self.cell is not None:
            if self.row is None:
                self.row = []
            self.row.append(" ".join("".join(self.cell).split()))
            self.cell = None

    def close_row(self) -> None:
        self.close_cell()
        if self.row is not None:
            if any(self.row):
                self.rows.append(self.row)
            self.row = None


class HtmlTextParser(HTMLParser):
    """Collects visible text: blocks on lines, table rows as tab-separated cells; title and meta apart."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self.title = ""
        self.headings: list[str] = []
        self.meta: dict[str, str] = {}
        self.language = ""
        self._buffer: list[str] = []
        self._tables: list[_Table] = []
        self._skip_depth = 0
        self._in_title = False
        self._heading: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """Track skipped regions, blocks, tables, the title and meta tags."""
        if tag == "html":
            self.language = dict(attrs).get("lang") or dict(attrs).get("xml:lang") or ""
        if tag == "meta":
            self._read_meta(dict(attrs))
            return
        if tag == "title":
            self._in_title = True
            return
        if tag in _SKIPPED_TAGS:
            self._skip_depth += 1
            return
        if tag == "h1":
            self._heading = []
        self._structure(tag, opening=True)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """Self-closing tags (XHTML ``<br/>``) open and close at once."""
        if tag in _SKIPPED_TAGS or tag == "title":
            return
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        """Close what the tag opened."""
        if tag == "title":
            self._in_title = False
            return
        if tag in _SKIPPED_TAGS:
            self._skip_depth = max(0, self._skip_depth - 1)
            return
        if tag == "h1" and self._heading is not None:
            self.headings.append(" ".join("".join(self._heading).split()))
            self._heading = None
        self._structure(tag, opening=False)

    def handle_data(self, data: str) -> None:
        """Route text to the title, the open table cell or the current block."""
        if self._in_title:
            self.title += data
            return
        if self._skip_depth:
            return
        if self._heading is not None:
            self._heading.append(data)
        table = self._tables[-1] if self._tables else None
        if table is not None:
            if table.cell is None:
                if not data.strip():
                    return
                table.cell = []  # text between cells (sloppy HTML) opens a cell of its own
            table.cell.append(data)
        else:
            self._buffer.append(data)

    def _structure(self, tag: str, *, opening: bool) -> None:
        table = self._tables[-1] if self._tables else None
        if tag == "table":
            if opening:
                self._flush()
                self._tables.append(_Table())
            elif table is not None:
                self._close_table()
        elif table is not None and tag in _CELL_TAGS:
            table.close_cell()
            if opening:
                table.cell = []
        elif table is not None and tag == "tr":
            table.close_row()
        elif tag in _BLOCK_TAGS:
            if table is not None and table.cell is not None:
                table.cell.append(" ")
            elif table is None:
                self._flush()

    def _close_table(self) -> None:
        table = self._tables.pop()
        table.close_row()
        rows = ["\t".join(row) for row in table.rows]
        if self._tables:  # a nested table becomes text inside the outer cell
            outer = self._tables[-1]
            if outer.cell is None:
                outer.cell = []
            outer.cell.append(" " + " ".join(rows) + " ")
        else:
            self.lines.extend(rows)

    def _flush(self) -> None:
        line = " ".join("".join(self._buffer).split())
        if line:
            self.lines.append(line)
        self._buffer = []

    def _read_meta(self, attrs: dict[str, str | None]) -> None:
        name = (attrs.get("name") or "").lower()
        content = (attrs.get("content") or "").strip()
        if name in _META_NAMES and content:
            self.meta[_META_NAMES[name]] = content

    def finish(self) -> None:
        """Flush what is still open at the end of the page."""
        while self._tables:
            self._close_table()
        self._flush()


@dataclass(frozen=True)
class HtmlText:
    """The text of an HTML page and what it says about itself."""

    text: str
    title: str
    metadata: dict[str, str]


def html_to_text(markup: str) -> HtmlText:
    """Convert HTML (already decoded) to text; the title opens the text unless the page repeats it."""
    parser = HtmlTextParser()
    parser.feed(markup)
    parser.close()
    parser.finish()
    title = " ".join(parser.title.split())
    lines = parser.lines
    if title and _fold(title) not in {_fold(line) for line in lines[:50]} | {_fold(h) for h in parser.headings}:
        lines = [title, *lines]
    metadata = dict(parser.meta)
    if title:
        metadata["title"] = title
    if parser.language:
        metadata["language"] = parser.language
    return HtmlText(text="\n".join(lines), title=title, metadata=metadata)


def _fold(text: str) -> str:
    return " ".join(text.split()).casefold()
