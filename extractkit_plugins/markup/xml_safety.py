"""Parsing XML that nobody vetted: no entity is ever expanded, no DTD is loaded, no network is touched.

A DOCTYPE that only names an external DTD (XHTML's, DocBook's) is allowed: the
DTD is not fetched. A DOCTYPE with an internal subset is refused, since that is
where entities are declared (billion laughs, external entities pulling in local
files), as :mod:`extractkit_plugins.office.archive_guard` refuses any DOCTYPE in
Office parts.
"""

from __future__ import annotations

import re
from typing import Any

from extractkit.errors import CorruptDocument
from extractkit_plugins.extras import require

#: How much of the file may come before the root element.
MAX_PROLOG_BYTES = 1024 * 1024
_DOCTYPE = re.compile(rb"<!DOCTYPE\b", re.IGNORECASE)


def _prolog(data: bytes) -> bytes:
    """The bytes before the root element (ASCII-compatible encodings; UTF-16 is narrowed first)."""
    head = data[:MAX_PROLOG_BYTES]
    if head[:2] in (b"\xff\xfe", b"\xfe\xff") or head[:2] in (b"<\x00", b"\x00<"):
        head = head.replace(b"\x00", b"")
    position = 0
    while True:
        start = head.find(b"<", position)
        if start < 0 or start + 1 >= len(head):
            return head
        if head.startswith((b"<?", b"<!--"), start):
            end = head.find(b"?>" if head[start + 1 : start + 2] == b"?" else b"-->", start + 2)
            if end < 0:
                return head
            position = end + 2
            continue
        if head.startswith(b"<!", start):
            depth, cursor = 0, start
            while cursor < len(head):  # the DOCTYPE ends at the first '>' outside its [...] subset
                char = head[cursor : cursor + 1]
                depth += char == b"["
                depth -= char == b"]"
                if char == b">" and depth <= 0:
                    break
                cursor += 1
            position = cursor + 1
            continue
        return head[:start]


def refuse_entity_declarations(data: bytes, name: str) -> None:
    """Raise ``corrupt`` when the document's DOCTYPE has an internal subset (entity declarations)."""
    prolog = _prolog(data)
    match = _DOCTYPE.search(prolog)
    if match and b"[" in prolog[match.end() :]:
        raise CorruptDocument(f"{name} declares XML entities in its DOCTYPE, which are refused (entity expansion)")


def parse_untrusted_xml(data: bytes, name: str) -> Any:
    """Parse XML bytes with lxml after :func:`refuse_entity_declarations`; raise ``corrupt`` when malformed."""
    etree = require("lxml.etree", "markup", "read XML and EPUB files")
    refuse_entity_declarations(data, name)
    parser = etree.XMLParser(
        resolve_entities=False, load_dtd=False, no_network=True, huge_tree=False, dtd_validation=False
    )
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise CorruptDocument(f"{name} is not well-formed XML ({str(exc).splitlines()[0][:200]})") from exc
    if root is None:
        raise CorruptDocument(f"{name} holds no XML element")
    return root
