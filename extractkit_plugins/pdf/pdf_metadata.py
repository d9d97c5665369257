"""A PDF's metadata through pdfium: title, author, dates as ISO 8601, version, page count, encryption.

The caller holds the pdfium lock; nothing here locks.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from functools import lru_cache
from typing import Any

from .pdfium_bulk import metadata_texts
from .pdfium_calls import calls

_PDF_DATE = re.compile(
    r"^(?:D:)?(?P<year>\d{4})(?P<month>\d{2})?(?P<day>\d{2})?(?P<hour>\d{2})?(?P<minute>\d{2})?(?P<second>\d{2})?"
    r"\s*(?P<sign>[Zz+\-])?\s*(?P<tz_hour>\d{2})?'?\s*(?P<tz_minute>\d{2})?'?"
)
_METADATA_FIELDS = {
    "Title": "title",
    "Author": "author",
    "Subject": "subject",
    "Keywords": "keywords",
    "Creator": "creator",
    "Producer": "producer",
}
_METADATA_DATES = {"CreationDate": "created", "ModDate": "modified"}
_METADATA_KEYS = (*_METADATA_FIELDS, *_METADATA_DATES)


def read_metadata(pdf: Any) -> dict[str, Any]:
    """Title, author, dates (ISO 8601), producer, page count and whether the file is encrypted."""
    metadata: dict[str, Any] = {}
    info = metadata_texts(pdf, _METADATA_KEYS)
    for key, field in _METADATA_FIELDS.items():
        value = str(info.get(key, "")).replace("\x00", "").strip()
        if value:
            metadata[field] = value
    for key, field in _METADATA_DATES.items():
        parsed = pdf_date_to_iso(str(info.get(key, "")))
        if parsed:
            metadata[field] = parsed
    version = pdf.get_version()
    if version:
        metadata["pdf_version"] = f"{version // 10}.{version % 10}"
    metadata["page_count"] = len(pdf)
    metadata["encrypted"] = calls().security_revision(pdf) != -1
    return metadata


def pdf_date_to_iso(value: str) -> str | None:
    """Turn a PDF date (``D:20140509193727+02'00'``) into ISO 8601, keeping only the precision given."""
    match = _PDF_DATE.match(value.strip())
    if not match:
        return None
    year, month, day, hour, minute, second, sign, tz_hour, tz_minute = match.groups()
    try:
        if month is None:
            return f"{int(year):04d}"
        if day is None:
            datetime(int(year), int(month), 1)
            return f"{year}-{month}"
        moment = datetime(
            int(year),
            int(month),
            int(day),
            int(hour or 0),
            int(minute or 0),
            int(second or 0),
            tzinfo=None if sign is None else _pdf_timezone(sign, tz_hour or "0", tz_minute or "0"),
        )
    except ValueError:
        return None
    if hour is None:
        return moment.date().isoformat()
    return moment.isoformat()


@lru_cache(maxsize=64)
def _pdf_timezone(sign: str, hours: str, minutes: str) -> timezone:
    """The zone of a PDF date's ``Z``, ``+HH'mm'`` or ``-HH'mm'`` (a ``Z`` with an offset is read as ``+``)."""
    if sign in "Zz" and not int(hours) and not int(minutes):
        return UTC
    offset = timedelta(hours=int(hours), minutes=int(minutes))
    return timezone(-offset if sign == "-" else offset)
