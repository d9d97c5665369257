"""A zip's directory read with suspicion: the entry count before parsing, then declared sizes and ratios.

The end-of-central-directory record says how many entries a zip has before
:mod:`zipfile` parses them all, so a directory of millions of entries is refused
at the cost of one small read. Declared sizes are then checked against
``max_archive_uncompressed`` and ``max_archive_ratio`` (a member that inflates
1000:1 is a bomb whatever its size claims), and entries whose compressed data
add up to more than the file overlap, as in non-recursive zip bombs.
"""

from __future__ import annotations

import struct
import zipfile
from pathlib import Path

from extractkit.errors import TooLarge
from extractkit.models import Document, ExtractOptions

from .member_files import RATIO_GRACE_BYTES

#: A generous average size of one central-directory record (46 bytes plus name and extras).
MAX_DIRECTORY_BYTES_PER_ENTRY = 300

_EOCD = struct.Struct("<4s4H2LH")
_EOCD_SIGNATURE = b"PK\x05\x06"
_ZIP64_LOCATOR = struct.Struct("<4sLQL")
_ZIP64_EOCD = struct.Struct("<4sQ2H2L4Q")
_ZIP64_EOCD_SIGNATURE = b"PK\x06\x06"
_MAX_COMMENT = 0xFFFF


def read_directory_counts(path: Path) -> tuple[int, int]:
    """Return (entry count, central directory size in bytes) from the zip's end records; (0, 0) without one."""
    with path.open("rb") as handle:
        handle.seek(0, 2)
        file_size = handle.tell()
        tail_size = min(file_size, _EOCD.size + _MAX_COMMENT)
        handle.seek(file_size - tail_size)
        tail = handle.read(tail_size)
        position = tail.rfind(_EOCD_SIGNATURE)
        if position < 0 or len(tail) - position < _EOCD.size:
            return 0, 0
        fields = _EOCD.unpack_from(tail, position)
        entries, directory_size = fields[4], fields[5]
        if entries != 0xFFFF and directory_size != 0xFFFFFFFF:
            return entries, directory_size
        record_offset = file_size - tail_size + position - _ZIP64_LOCATOR.size - _ZIP64_EOCD.size
        if record_offset < 0:
            return entries, directory_size
        handle.seek(record_offset)
        record = handle.read(_ZIP64_EOCD.size)
        if len(record) < _ZIP64_EOCD.size or not record.startswith(_ZIP64_EOCD_SIGNATURE):
            return entries, directory_size
        zip64 = _ZIP64_EOCD.unpack(record)
        return zip64[7], zip64[8]


def check_entry_count(document: Document, options: ExtractOptions, why: str = "") -> None:
    """Refuse a zip whose end record announces more than ``max_archive_entries`` entries, before parsing it.

    ``why`` is appended to the message (``"; it is not a normal Office file"``).
    """
    entries, directory_size = read_directory_counts(document.path)
    limit = options.max_archive_entries
    if entries > limit or directory_size > limit * MAX_DIRECTORY_BYTES_PER_ENTRY:
        raise TooLarge(
            f"{document.name} lists {entries} zip entries ({directory_size} bytes of directory), "
            f"over the limit of {limit} (max_archive_entries){why}"
        )


def check_declared_sizes(document: Document, infos: list[zipfile.ZipInfo], options: ExtractOptions) -> None:
    """Refuse a zip whose directory declares a bomb: too much in total, a member or the whole beyond the ratio."""
    if len(infos) > options.max_archive_entries:
        raise TooLarge(
            f"{document.name} has {len(infos)} zip entries, over the limit of {options.max_archive_entries} "
            "(max_archive_entries)"
        )
    ratio = options.max_archive_ratio
    for info in infos:
        if info.file_size > RATIO_GRACE_BYTES and info.file_size > ratio * max(info.compress_size, 1):
            raise TooLarge(
                f"{document.name}: member {info.filename} inflates {info.file_size // max(info.compress_size, 1)}:1 "
                f"to {info.file_size / 1e6:.0f} MB, over the {ratio}:1 limit (max_archive_ratio); "
                "it looks like a zip bomb"
            )
    total = sum(info.file_size for info in infos)
    if total > options.max_archive_uncompressed:
        raise TooLarge(
            f"{document.name} inflates to {total / 1e6:.0f} MB, over the "
            f"{options.max_archive_uncompressed / 1e6:.0f} MB limit (max_archive_uncompressed)"
        )
    if total > RATIO_GRACE_BYTES and total > ratio * max(document.size, 1):
        raise TooLarge(
            f"{document.name} inflates {total // max(document.size, 1)}:1 overall, over the {ratio}:1 limit "
            "(max_archive_ratio); it looks like a zip bomb"
        )
    if sum(info.compress_size for info in infos) > document.size:
        raise TooLarge(
            f"{document.name}: its members' compressed data add up to more than the file itself, so entries "
            "overlap, as in zip bombs"
        )
