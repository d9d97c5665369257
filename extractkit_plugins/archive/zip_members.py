"""Reading one zip member's bytes without trusting its declared size, and sealing a member that cannot be read.

:func:`member_chunks` inflates a stored or deflated member straight from the
file, a chunk at a time, and stops with :class:`TooLarge` the moment the output
passes the declared size: a member that lies about its size is how bombs get
past extractors that trust the directory. Bzip2 and LZMA members are read
through :mod:`zipfile`, which never produces more than the declared size.

A member this reader cannot open (zip-encrypted, a compression method Python
lacks, damaged data) is *sealed*: copied as it is, still compressed, into a zip
of its own (:func:`sealed_pieces`). The pipeline extracts that one-member zip like
any child, and the zip extractor then fails it with the member's own reason, so
the failure record (``encrypted``, ``unsupported``, ``corrupt``) sits at the
member's URI.
"""

from __future__ import annotations

import struct
import zipfile
import zlib
from typing import IO, Iterator

from extractkit.errors import CorruptDocument, TooLarge

from .member_files import CHUNK_BYTES

#: Compression methods read here; others are sealed and fail as ``unsupported``.
READABLE_METHODS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA)
METHOD_NAMES = {9: "Deflate64", 12: "bzip2", 14: "LZMA", 93: "Zstandard", 95: "xz", 98: "PPMd", 99: "AES"}

_LOCAL_HEADER = struct.Struct("<4s5H3L2H")
_LOCAL_SIGNATURE = b"PK\x03\x04"
_CENTRAL_HEADER = struct.Struct("<4s6H3L5H2L")
_CENTRAL_SIGNATURE = b"PK\x01\x02"
_END_RECORD = struct.Struct("<4s4H2LH")
_END_SIGNATURE = b"PK\x05\x06"
_DATA_DESCRIPTOR_FLAG = 0x8
_ZIP32_LIMIT = 0xFFFFFFFF


class MemberDamaged(CorruptDocument):
    """One member's data does not inflate to what the directory says (bad CRC, truncated, bad header)."""


def _data_offset(handle: IO[bytes], info: zipfile.ZipInfo, label: str) -> tuple[int, bytes, bytes]:
    """Where the member's compressed data starts, with its local header's name and extra field."""
    handle.seek(info.header_offset)
    header = handle.read(_LOCAL_HEADER.size)
    if len(header) < _LOCAL_HEADER.size or not header.startswith(_LOCAL_SIGNATURE):
        raise MemberDamaged(f"{label} has no local header where the directory points")
    fields = _LOCAL_HEADER.unpack(header)
    name_length, extra_length = fields[9], fields[10]
    name = handle.read(name_length)
    extra = handle.read(extra_length)
    return info.header_offset + _LOCAL_HEADER.size + name_length + extra_length, name, extra


def _raw_pieces(handle: IO[bytes], info: zipfile.ZipInfo, offset: int, label: str) -> Iterator[bytes]:
    handle.seek(offset)
    left = info.compress_size
    while left > 0:
        piece = handle.read(min(CHUNK_BYTES, left))
        if not piece:
            raise MemberDamaged(f"{label} is cut short: the file ends inside its data")
        left -= len(piece)
        yield piece


def _inflate(pieces: Iterator[bytes], label: str) -> Iterator[bytes]:
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    try:
        for piece in pieces:
            pending = piece
            while not inflater.eof:
                out = inflater.decompress(pending, CHUNK_BYTES)
                pending = inflater.unconsumed_tail
                if out:
                    yield out
                if not pending and len(out) < CHUNK_BYTES:
                    break  # a full chunk may leave output inside zlib: ask again before the next piece
            if inflater.eof:
                return
    except zlib.error as exc:
        raise MemberDamaged(f"{label} does not inflate ({exc})") from exc
    if not inflater.eof:
        raise MemberDamaged(f"{label} is cut short: its deflate stream does not end")


def _through_zipfile(archive: zipfile.ZipFile, info: zipfile.ZipInfo, label: str) -> Iterator[bytes]:
    try:
        with archive.open(info) as stream:
            while piece := stream.read(CHUNK_BYTES):
                yield piece
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, NotImplementedError) as exc:
        raise MemberDamaged(f"{label} cannot be read ({exc})") from exc


def member_chunks(archive: zipfile.ZipFile, handle: IO[bytes], info: zipfile.ZipInfo, label: str) -> Iterator[bytes]:
    """The member's bytes in chunks; :class:`TooLarge` past its declared size, :class:`MemberDamaged` on bad data.

    ``label`` names the member in messages (``archive.zip: member a/b.txt``).
    """
    if info.compress_type in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        offset, _, _ = _data_offset(handle, info, label)
        pieces = _raw_pieces(handle, info, offset, label)
        chunks = pieces if info.compress_type == zipfile.ZIP_STORED else _inflate(pieces, label)
    else:
        chunks = _through_zipfile(archive, info, label)
    produced = 0
    crc = 0
    for chunk in chunks:
        produced += len(chunk)
        if produced > info.file_size:
            raise TooLarge(
                f"{label} declares {info.file_size} bytes but inflates to more; "
                "its directory entry lies about its size, as zip bombs do"
            )
        crc = zlib.crc32(chunk, crc)
        yield chunk
    if produced != info.file_size or crc != info.CRC:
        raise MemberDamaged(
            f"{label} inflates to {produced} bytes with CRC {crc:08x}, not the {info.file_size} "
            f"bytes with CRC {info.CRC:08x} its directory entry declares; it is damaged"
        )


def can_seal(info: zipfile.ZipInfo) -> bool:
    """True when the member fits a plain (non-zip64) one-member zip."""
    return max(info.compress_size, info.file_size, info.header_offset) < _ZIP32_LIMIT


def sealed_pieces(handle: IO[bytes], info: zipfile.ZipInfo, label: str) -> Iterator[bytes]:
    """The member, still compressed (and still encrypted), as the only entry of a new zip, in pieces."""
    offset, name, local_extra = _data_offset(handle, info, label)
    flags = info.flag_bits & ~_DATA_DESCRIPTOR_FLAG
    year, month, day, hour, minute, second = info.date_time
    dos_time = (hour << 11) | (minute << 5) | (second // 2)
    dos_date = (max(year - 1980, 0) << 9) | (month << 5) | day
    common = (flags, info.compress_type, dos_time, dos_date, info.CRC, info.compress_size, info.file_size)
    local = _LOCAL_HEADER.pack(_LOCAL_SIGNATURE, info.extract_version, *common, len(name), len(local_extra))
    yield local + name + local_extra
    yield from _raw_pieces(handle, info, offset, label)
    central = _CENTRAL_HEADER.pack(
        _CENTRAL_SIGNATURE,
        (info.create_system << 8) | info.create_version,
        info.extract_version,
        *common,
        len(name),
        len(info.extra),
        0,
        0,
        info.internal_attr,
        info.external_attr,
        0,
    )
    directory_offset = len(local) + len(name) + len(local_extra) + info.compress_size
    directory = central + name + info.extra
    yield directory + _END_RECORD.pack(_END_SIGNATURE, 0, 0, 1, 1, len(directory), directory_offset, 0)
