"""Gzip, bzip2 and xz streams inflated with a hard cap on the bytes they may produce.

A compressed stream says nothing trustworthy about its inflated size (gzip's
trailer holds it modulo 4 GiB, at the end), so :class:`BoundedStream` counts
what the decompressor hands out and raises :class:`TooLarge` the moment the
count passes its limit. Decompressor errors become :class:`CorruptDocument`.
"""

from __future__ import annotations

import bz2
import gzip
import lzma
import tarfile
import zlib
from pathlib import PurePosixPath
from typing import IO

from extractkit.errors import CorruptDocument, TooLarge
from extractkit.models import Document

from .member_files import CHUNK_BYTES

#: MIME types of compressed files, with the compression each names.
COMPRESSORS = {
    "application/gzip": "gzip",
    "application/x-gzip": "gzip",
    "application/x-bzip2": "bzip2",
    "application/x-xz": "xz",
}
#: What the decompressors raise on damaged or truncated input.
STREAM_ERRORS: tuple[type[BaseException], ...] = (OSError, EOFError, zlib.error, lzma.LZMAError, ValueError)
#: File name endings each compression adds, and what the name is without them.
_SUFFIXES = {
    "gzip": ((".tgz", ".tar"), (".gz", ""), (".gzip", ""), (".z", "")),
    "bzip2": ((".tbz2", ".tar"), (".tbz", ".tar"), (".bz2", ""), (".bz", "")),
    "xz": ((".txz", ".tar"), (".xz", "")),
}


class BoundedStream:
    """A read-only stream over a decompressor that refuses to produce more than ``limit`` bytes."""

    def __init__(self, inner: IO[bytes], limit: int, document: Document, compression: str) -> None:
        self.inner = inner
        self.limit = limit
        self.document = document
        self.compression = compression
        #: Inflated bytes handed out so far.
        self.produced = 0

    def read(self, size: int = -1) -> bytes:
        """Up to ``size`` inflated bytes (a chunk when ``size`` is negative); raise past the limit."""
        wanted = size if size >= 0 else CHUNK_BYTES
        try:
            data = self.inner.read(min(wanted, self.limit - self.produced + 1))
        except STREAM_ERRORS as exc:
            raise CorruptDocument(
                f"{self.document.name} is a damaged {self.compression} file ({type(exc).__name__}: {exc})"
            ) from exc
        self.produced += len(data)
        if self.produced > self.limit:
            raise TooLarge(
                f"{self.document.name}: its {self.compression} stream inflates to more than {self.limit / 1e6:.0f} MB, "
                "beyond max_archive_uncompressed or max_archive_ratio times its size; it looks like a "
                "decompression bomb"
            )
        return data

    def close(self) -> None:
        """Close the decompressor and the file under it."""
        self.inner.close()

    def __enter__(self) -> BoundedStream:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def open_decompressed(document: Document, compression: str, limit: int) -> BoundedStream:
    """Open the document's inflated bytes as a :class:`BoundedStream`."""
    try:
        if compression == "bzip2":
            inner: IO[bytes] = bz2.BZ2File(document.path)
        elif compression == "xz":
            inner = lzma.LZMAFile(document.path)  # noqa: SIM115 (closed by BoundedStream)
        else:
            inner = gzip.GzipFile(document.path, mode="rb")
    except STREAM_ERRORS as exc:
        raise CorruptDocument(f"{document.name} cannot be opened as {compression} ({exc})") from exc
    return BoundedStream(inner, limit, document, compression)


def looks_like_tar(head: bytes) -> bool:
    """True when the first 512 inflated bytes are a valid tar header (its checksum matches)."""
    if len(head) < tarfile.BLOCKSIZE:
        return False
    try:
        tarfile.TarInfo.frombuf(head[: tarfile.BLOCKSIZE], "utf-8", "surrogateescape")
    except tarfile.HeaderError:
        return False
    return True


def decompressed_name(name: str, compression: str) -> str:
    """The name of what a compressed file holds: ``report.pdf.gz`` holds ``report.pdf``."""
    base = PurePosixPath(name.replace("\\", "/")).name or "document"
    lowered = base.lower()
    for suffix, replacement in _SUFFIXES.get(compression, ()):
        if lowered.endswith(suffix) and len(base) > len(suffix):
            return base[: -len(suffix)] + replacement
    return base
