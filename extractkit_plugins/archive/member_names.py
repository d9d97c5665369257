"""Member names as their archive meant them: zip names in the right code page, tar names that are not UTF-8.

Zip names without the UTF-8 flag are in whatever code page the writing tool used:
the Info-ZIP Unicode Path field wins when present, then UTF-8 when every name
decodes as it, then CP932 (Japanese Windows) when every name decodes as it and
reads as Japanese, else CP437 as the format says. ``ExtractOptions.extra
["zip_name_encoding"]`` names the code page outright. Tar names that are not
UTF-8 get the same CP932 test.
"""

from __future__ import annotations

import struct
import zipfile
import zlib

from extractkit.models import ExtractOptions

#: The option that names the code page of zip member names written without the UTF-8 flag.
NAME_ENCODING_OPTION = "zip_name_encoding"
UTF8_FLAG = 0x800
UNICODE_PATH_FIELD = 0x7075


def raw_name(info: zipfile.ZipInfo) -> bytes:
    """The name's bytes as stored (zipfile decodes names without the UTF-8 flag as CP437, which round-trips)."""
    if info.flag_bits & UTF8_FLAG:
        return info.orig_filename.encode("utf-8", "surrogateescape")
    return info.orig_filename.encode("cp437")


def unicode_path_field(info: zipfile.ZipInfo) -> str | None:
    """The Info-ZIP Unicode Path extra field's name, when present and written for this very name."""
    extra = info.extra
    while len(extra) >= 4:
        kind, length = struct.unpack("<HH", extra[:4])
        body = extra[4 : 4 + length]
        if kind == UNICODE_PATH_FIELD and len(body) > 5 and body[0] == 1:
            (crc,) = struct.unpack("<L", body[1:5])
            if crc == zlib.crc32(raw_name(info)):
                try:
                    return body[5:].decode("utf-8")
                except UnicodeDecodeError:
                    return None
        extra = extra[4 + length :]
    return None


def _decodes(names: list[bytes], encoding: str) -> list[str] | None:
    try:
        return [name.decode(encoding) for name in names]
    except (UnicodeDecodeError, LookupError):
        return None


def _reads_as_japanese(raw_names: list[bytes], decoded: list[str]) -> bool:
    """Kana, or double-byte characters whose second byte is not ASCII (accented Latin in CP437 never pairs so)."""
    if any("\u3040" <= char <= "\u30ff" for name in decoded for char in name):
        return True
    for name in raw_names:
        high_run = 0
        for byte in name:
            high_run = high_run + 1 if byte >= 0x80 else 0
            if high_run >= 2:
                return True
    return False


def name_encoding(infos: list[zipfile.ZipInfo], options: ExtractOptions) -> str:
    """The code page of the names written without the UTF-8 flag (see the module docstring)."""
    configured = options.extra.get(NAME_ENCODING_OPTION)
    if configured:
        return str(configured)
    legacy = [raw_name(info) for info in infos if not info.flag_bits & UTF8_FLAG]
    if all(name.isascii() for name in legacy):
        return "cp437"
    if _decodes(legacy, "utf-8") is not None:
        return "utf-8"
    japanese = _decodes(legacy, "cp932")
    if japanese is not None and _reads_as_japanese(legacy, japanese):
        return "cp932"
    return "cp437"


def member_names(infos: list[zipfile.ZipInfo], options: ExtractOptions) -> list[str]:
    """Each entry's name, decoded as the module docstring says."""
    encoding = name_encoding(infos, options)
    names = []
    for info in infos:
        unicode_name = unicode_path_field(info)
        if unicode_name is not None:
            names.append(unicode_name)
        elif info.flag_bits & UTF8_FLAG:
            names.append(info.orig_filename)
        else:
            names.append(raw_name(info).decode(encoding, "replace"))
    return names


def repair_tar_name(name: str) -> str:
    """A tar member name read as UTF-8 with ``surrogateescape``: bytes that were not UTF-8 tried as CP932."""
    if not any("\udc80" <= char <= "\udcff" for char in name):
        return name
    raw = name.encode("utf-8", "surrogateescape")
    japanese = _decodes([raw], "cp932")
    if japanese is not None and _reads_as_japanese([raw], japanese):
        return japanese[0]
    return raw.decode("utf-8", "replace")
