"""Zip archives: the member listing as text, every file member an embedded document of its own.

Office, OpenDocument and EPUB files are zips too, but type detection names them
by their own MIME types, so they never reach this extractor; a damaged one that
detection could only call ``application/zip`` is declined here and stays a
``corrupt`` Office file rather than becoming an archive of XML parts.

Before a member is inflated: the entry count comes from the end record, and the
declared sizes and ratios must be within the limits (:mod:`.zip_directory`).
While members are inflated, every byte is counted (:mod:`.zip_members`,
:class:`~.member_files.MemberWriter`). Directories, symbolic links and devices
are skipped. A member that cannot be read (encrypted, an unknown compression
method, damaged) is handed over sealed in a one-member zip, so its own failure
record says why; when no member can be read the archive itself fails so.
"""

from __future__ import annotations

import stat
import zipfile
from dataclasses import dataclass, replace
from typing import IO, Any

from extractkit import hookimpl
from extractkit.errors import CorruptDocument, DocumentError, EncryptedDocument, UnsupportedFormat
from extractkit.hookspecs import RegisterClass
from extractkit.interfaces import Extractor
from extractkit.models import Document, ExtractionResult
from extractkit_plugins.text.results import text_result

from .member_files import MemberPaths, MemberWriter, listing_text, member_name
from .member_names import member_names, name_encoding
from .zip_directory import check_declared_sizes, check_entry_count, read_directory_counts
from .zip_members import METHOD_NAMES, READABLE_METHODS, MemberDamaged, can_seal, member_chunks, sealed_pieces

#: Entries that make a zip an Office, OpenDocument or EPUB package rather than an archive.
PACKAGE_MARKERS = frozenset(("[Content_Types].xml", "mimetype", "META-INF/container.xml"))
ZIP_MIME_TYPE = "application/zip"
_ENCRYPTED_FLAG = 0x1
_UNIX = 3
_OPEN_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError, NotImplementedError)


@dataclass(frozen=True)
class ZipMember:
    """One file entry of the zip, with its clean path inside the archive."""

    info: zipfile.ZipInfo
    path: str

    @property
    def label(self) -> str:
        """How messages name the member."""
        return f"member {self.path}"


def open_zip(document: Document) -> zipfile.ZipFile:
    """Open the document as a zip, turning every failure into :class:`CorruptDocument`."""
    try:
        return zipfile.ZipFile(document.path)
    except _OPEN_ERRORS as exc:
        raise CorruptDocument(
            f"{document.name} is not a readable zip archive ({exc}); it is damaged or truncated"
        ) from exc


def is_file_entry(info: zipfile.ZipInfo) -> bool:
    """True for a regular file; False for directories, symbolic links, devices, pipes and sockets."""
    if info.is_dir():
        return False
    mode = info.external_attr >> 16
    return not (info.create_system == _UNIX and stat.S_IFMT(mode) and not stat.S_ISREG(mode))


def unreadable_reason(member: ZipMember) -> DocumentError | None:
    """Why the member cannot be read before trying it (encryption, compression method), or None."""
    info = member.info
    if info.flag_bits & _ENCRYPTED_FLAG:
        return EncryptedDocument(f"{member.label} is zip-encrypted; it cannot be read without its password")
    if info.compress_type not in READABLE_METHODS:
        method = METHOD_NAMES.get(info.compress_type, f"method {info.compress_type}")
        return UnsupportedFormat(f"{member.label} is compressed with {method}, which extractkit cannot inflate")
    return None


class ZipExtractor(Extractor):
    """Zip archives: members as embedded documents, the listing as text, member count and total size as metadata."""

    name = "zip"
    mime_types = (ZIP_MIME_TYPE, "application/x-zip-compressed", "application/x-zip")
    priority = 50

    def accepts(self, document: Document) -> bool:
        """Decline zips holding an Office, OpenDocument or EPUB package's marker entries."""
        try:
            entries, _ = read_directory_counts(document.path)
            if entries > self.options.max_archive_entries:
                return True  # extract() refuses it with the reason
            with zipfile.ZipFile(document.path) as archive:
                return PACKAGE_MARKERS.isdisjoint(archive.namelist())
        except _OPEN_ERRORS:
            return True  # extract() reports the damage

    def extract(self, document: Document) -> ExtractionResult:
        """List the members and, when the document has a workdir, write each out as a child."""
        check_entry_count(document, self.options)
        with open_zip(document) as archive, document.path.open("rb") as handle:
            infos = archive.infolist()
            check_declared_sizes(document, infos, self.options)
            paths = MemberPaths()
            members = []
            names = member_names(infos, self.options)
            for number, (info, name) in enumerate(zip(infos, names, strict=True), start=1):
                if is_file_entry(info):
                    members.append(ZipMember(info, paths.assign(name, f"member-{number}")))
            metadata = self._metadata(infos, members, paths)
            if document.workdir is None:
                return self._listing(document, members, metadata)
            writer = MemberWriter(document, self.options)
            try:
                return self._unpack(document, archive, handle, members, writer, metadata)
            except BaseException:
                writer.discard()
                raise

    def _metadata(self, infos: list[zipfile.ZipInfo], members: list[ZipMember], paths: MemberPaths) -> dict:
        metadata: dict[str, Any] = {
            "archive_format": "zip",
            "member_count": len(members),
            "total_size": sum(member.info.file_size for member in members),
        }
        encoding = name_encoding(infos, self.options)
        if encoding != "cp437":
            metadata["name_encoding"] = encoding
        if len(infos) > len(members):
            metadata["skipped_entries"] = len(infos) - len(members)
        if paths.unsafe:
            metadata["unsafe_names"] = paths.unsafe
        return metadata

    def _listing(self, document: Document, members: list[ZipMember], metadata: dict) -> ExtractionResult:
        problems = [unreadable_reason(member) for member in members]
        _refuse_when_nothing_readable(document, [problem for problem in problems if problem], len(members))
        return text_result(listing_text(member.path for member in members), metadata)

    def _unpack(
        self,
        document: Document,
        archive: zipfile.ZipFile,
        handle: IO[bytes],
        members: list[ZipMember],
        writer: MemberWriter,
        metadata: dict,
    ) -> ExtractionResult:
        unreadable: list[tuple[ZipMember, DocumentError]] = []
        for member in members:
            problem = unreadable_reason(member)
            if problem is None:
                writer.refuse_declared(member.path, member.info.file_size)
                try:
                    chunks = member_chunks(archive, handle, member.info, f"{document.name}: {member.label}")
                    writer.write(chunks, name=member_name(member.path), path_in_parent=member.path)
                except MemberDamaged as damage:
                    problem = damage
            if problem is not None:
                unreadable.append((member, problem))
        _refuse_when_nothing_readable(document, [problem for _, problem in unreadable], len(members))
        for member, _ in unreadable:
            if can_seal(member.info):
                label = f"{document.name}: {member.label}"
                pieces = sealed_pieces(handle, member.info, label)
                writer.write(
                    pieces, name=member_name(member.path), path_in_parent=member.path, mime_type_hint=ZIP_MIME_TYPE
                )
        if unreadable:
            metadata["unreadable_members"] = len(unreadable)
        result = text_result(listing_text(member.path for member in members), metadata)
        return replace(result, children=tuple(writer.children))


def _refuse_when_nothing_readable(document: Document, problems: list[DocumentError], members: int) -> None:
    """Fail the archive itself, with the first member's reason, when no member at all can be read."""
    if not problems or len(problems) < members:
        return
    first = problems[0]
    more = f" (and {len(problems) - 1} more members)" if len(problems) > 1 else ""
    error = type(first)(f"{document.name}: {first.message.removeprefix(f'{document.name}: ')}{more}")
    raise error


@hookimpl
def register_extractors(register: RegisterClass) -> None:
    """Register the zip archive extractor."""
    register(ZipExtractor)
