"""Mail header values: RFC 2047 encoded words, raw 8-bit (often Shift_JIS) headers, addresses and dates.

Encoded words are decoded with :mod:`extractkit_plugins.text.charsets`, so
``=?ISO-2022-JP?B?...?=`` keeps CP50220 characters such as ① that Python's own
codec refuses, and a label Python does not know does not lose the header.
"""

from __future__ import annotations

import email.header
import email.utils
from typing import Iterable

from extractkit_plugins.text.charsets import decode_with_charset
from extractkit_plugins.text.text_encoding import decode


def decode_header_value(raw: str | email.header.Header | None) -> str:
    """Decode one header value to text: encoded words, raw 8-bit bytes and folding whitespace.

    The parser hands a header holding raw 8-bit bytes over as a ``Header`` of
    charset ``unknown-8bit``; its bytes are decoded by guessing (CP932, EUC-JP, UTF-8...).
    """
    if not raw:
        return ""
    if not isinstance(raw, email.header.Header):
        raw = str(raw)
    try:
        pieces = email.header.decode_header(raw)
    except (ValueError, LookupError, UnicodeError):
        pieces = [(str(raw), None)]
    out = []
    for piece, charset in pieces:
        if isinstance(piece, str):
            out.append(_decode_raw(piece))
        else:
            out.append(_decode_bytes(piece, charset))
    return " ".join("".join(out).split())


def _decode_raw(value: str) -> str:
    """A header with no encoded words; 8-bit bytes arrive surrogate-escaped."""
    try:
        value.encode("ascii")
    except UnicodeEncodeError:
        data = value.encode("ascii", "surrogateescape") if _has_surrogates(value) else None
        if data is not None:
            return decode(data)[0]
    return value


def _has_surrogates(value: str) -> bool:
    return any("\udc80" <= char <= "\udcff" for char in value)


def _decode_bytes(data: bytes, charset: str | None) -> str:
    if charset in (None, "unknown-8bit"):
        try:
            return data.decode("ascii")
        except UnicodeDecodeError:
            return decode(data)[0]
    try:
        return decode_with_charset(data, charset)
    except (LookupError, UnicodeDecodeError):
        return decode(data)[0]


def decode_addresses(values: Iterable[str | email.header.Header | None]) -> list[str]:
    """Turn address headers into ``"Name <address>"`` strings with their names decoded."""
    # A header with raw 8-bit bytes is decoded first; one with encoded words only after splitting at commas.
    raw = [
        decode_header_value(value) if isinstance(value, email.header.Header) else str(value)
        for value in values
        if value
    ]
    result = []
    for name, address in email.utils.getaddresses(raw):
        name = decode_header_value(name)
        address = address.strip()
        if name and address and name != address:
            result.append(f"{name} <{address}>")
        elif address or name:
            result.append(address or name)
    return result


def iso_date(raw: str | None) -> str | None:
    """An RFC 822 date as ISO 8601, or None when it cannot be read."""
    if not raw:
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(str(raw))
    except (TypeError, ValueError, IndexError):
        return None
    return parsed.isoformat() if parsed is not None else None
