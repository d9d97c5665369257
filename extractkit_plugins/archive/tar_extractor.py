"""Tar archives and compressed files (gzip, bzip2, xz): members as embedded documents, the listing as text.

A compressed file holds either a tar (``.tar.gz``, ``.tgz``, ``.tar.xz``...),
whose members become documents, or a single file (``report.pdf.gz``), which
becomes one child. Which one is decided from the first 512 bytes it inflates to.

Everything is read in one pass, as a stream: the inflated bytes are counted
(:class:`~.compressed_streams.BoundedStream`), so a compressed stream that
inflates past ``max_archive_uncompressed`` or ``max_archive_ratio`` times the
file's size stops at once as ``too_large``, whatever the tar headers claim;
members are written under the same cap (:class:`~.member_files.MemberWriter`).
Only regular files are kept: directories, symbolic and hard links, devices and
pipes are skipped, and no name is ever used as a path.
"""

from __future__ import annotations

import tarfile
from dataclasses import replace
from typing import IO, Any, Iterator

from extractkit import hookimpl
from extractkit.errors import CorruptDocument, TooLarge
from extractkit.hookspecs import RegisterClass
from extractkit.interfaces import Extractor
from extractkit.models import Document, EmbeddedFile, ExtractionResult
from extractkit_plugins.text.results import text_result

from .compressed_streams import (
    COMPRESSORS,
    STREAM_ERRORS,
    BoundedStream,
    decompressed_name,
    looks_like_tar,
    open_decompressed,
)
from .member_files import CHUNK_BYTES, MemberPaths, MemberWriter, listing_text, member_name
from .member_names import repair_tar_name

TAR_MIME_TYPE = "application/x-tar"
#: What each tar header costs in the inflated stream beyond member data (a header, maybe a long-name header).
TAR_OVERHEAD_PER_ENTRY = 1536


def _chunks(stream: IO[bytes]) -> Iterator[bytes]:
    while chunk := stream.read(CHUNK_BYTES):
        yield chunk


class _TarReading:
    """One pass over a tar stream: the listing, the sizes and (with a workdir) the members written out."""

    def __init__(self, document: Document, extractor: Extractor, compression: str) -> None:
        self.document = document
        self.options = extractor.options
        self.compression = compression
        self.paths = MemberPaths()
        self.listing: list[str] = []
        self.total_size = 0
        self.skipped = 0
        self.writer = MemberWriter(document, self.options) if document.workdir is not None else None

    def read(self, stream: IO[bytes]) -> ExtractionResult:
        try:
            with tarfile.open(fileobj=stream, mode="r|", encoding="utf-8", errors="surrogateescape") as archive:
                for number, entry in enumerate(archive, start=1):
                    if number > self.options.max_archive_entries:
                        raise TooLarge(
                            f"{self.document.name} has more than {self.options.max_archive_entries} tar entries "
                            "(max_archive_entries)"
                        )
                    self._take(archive, entry, number)
        except (tarfile.TarError, *STREAM_ERRORS) as exc:
            if self.writer is not None:
                self.writer.discard()
            raise CorruptDocument(
                f"{self.document.name} is a damaged tar archive ({exc}); it is truncated or broken"
            ) from exc
        except BaseException:
            if self.writer is not None:
                self.writer.discard()
            raise
        return self._result()

    def _take(self, archive: tarfile.TarFile, entry: tarfile.TarInfo, number: int) -> None:
        if not entry.isreg():
            self.skipped += 1
            return
        path = self.paths.assign(repair_tar_name(entry.name), f"member-{number}")
        self.listing.append(path)
        self.total_size += entry.size
        if self.total_size > self.options.max_archive_uncompressed:
            raise TooLarge(
                f"{self.document.name}: its members come to more than "
                f"{self.options.max_archive_uncompressed / 1e6:.0f} MB by member {path} (max_archive_uncompressed)"
            )
        if self.writer is None:
            return
        self.writer.refuse_declared(path, entry.size)
        member = archive.extractfile(entry)
        if member is None:
            return
        with member:
            self.writer.write(_chunks(member), name=member_name(path), path_in_parent=path)

    def _result(self) -> ExtractionResult:
        metadata: dict[str, Any] = {
            "archive_format": f"tar+{self.compression}" if self.compression else "tar",
            "member_count": len(self.listing),
            "total_size": self.total_size,
        }
        if self.skipped:
            metadata["skipped_entries"] = self.skipped
        if self.paths.unsafe:
            metadata["unsafe_names"] = self.paths.unsafe
        result = text_result(listing_text(self.listing), metadata)
        children = tuple(self.writer.children) if self.writer is not None else ()
        return replace(result, children=children)


def stream_limit(document: Document, extractor: Extractor) -> int:
    """How many inflated bytes the whole stream may produce: members within the limits, plus tar headers."""
    options = extractor.options
    ratio_limit = max(1024 * 1024, options.max_archive_ratio * max(document.size, 1))
    return min(options.max_archive_uncompressed, ratio_limit) + TAR_OVERHEAD_PER_ENTRY * options.max_archive_entries


class TarExtractor(Extractor):
    """Uncompressed tar archives."""

    name = "tar"
    mime_types = (TAR_MIME_TYPE, "application/x-gtar", "application/x-ustar")
    priority = 50

    def extract(self, document: Document) -> ExtractionResult:
        """List the members and, with a workdir, write each regular file out as a child."""
        with document.path.open("rb") as raw:
            return _TarReading(document, self, "").read(raw)


class CompressedFileExtractor(Extractor):
    """Gzip, bzip2 and xz files: a compressed tar gives its members, any other file is one child."""

    name = "compressed"
    mime_types = tuple(COMPRESSORS)
    priority = 50

    def extract(self, document: Document) -> ExtractionResult:
        """Inflate the file once to tell a tar from a single file, then read it in one counted pass."""
        compression = COMPRESSORS.get(document.mime_type or "", "gzip")
        limit = stream_limit(document, self)
        with open_decompressed(document, compression, limit) as stream:
            head = stream.read(tarfile.BLOCKSIZE)
        if not head:
            raise CorruptDocument(f"{document.name} inflates to nothing; the {compression} stream is empty or broken")
        with open_decompressed(document, compression, limit) as stream:
            if looks_like_tar(head):
                return _TarReading(document, self, compression).read(stream)
            return self._single_file(document, compression, stream)

    def _single_file(self, document: Document, compression: str, stream: BoundedStream) -> ExtractionResult:
        name = decompressed_name(document.name, compression)
        children: tuple[EmbeddedFile, ...] = ()
        if document.workdir is None:
            while stream.read(CHUNK_BYTES):
                pass  # inflate it all, counted, to give its size and to catch a bomb or damage
        else:
            children = (MemberWriter(document, self.options).write(_chunks(stream), name=name, path_in_parent=name),)
        metadata = {"archive_format": compression, "member_count": 1, "total_size": stream.produced}
        return replace(text_result(name, metadata), children=children)


@hookimpl
def register_extractors(register: RegisterClass) -> None:
    """Register the tar and compressed-file extractors."""
    register(TarExtractor)
    register(CompressedFileExtractor)
