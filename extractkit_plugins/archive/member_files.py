"""Writing embedded documents (archive members, mail attachments) into the job folder, under a hard byte cap.

A member's name is never used as a path: each member goes to a ``mkstemp`` file
inside ``Document.workdir`` (:func:`extractkit.tempfiles.private_file`), and its
name survives only as ``path_in_parent``, cleaned of ``..``, absolute prefixes
and drive letters so that it reads well in a URI such as ``archive.zip!/a/b.txt``.

Sizes declared by an archive can lie, so :class:`MemberWriter` counts the bytes
it actually writes and refuses the next chunk once the parent has produced more
than ``max_archive_uncompressed`` bytes, or more than ``max_archive_ratio`` times
its own size (beyond a small grace). The refusal is :class:`TooLarge`, raised
before the chunk is written, and every file written so far is removed.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Iterable

from extractkit.errors import TooLarge
from extractkit.models import Document, EmbeddedFile, ExtractOptions
from extractkit.tempfiles import private_file

#: Parents that produce less than this are never refused for their ratio (tiny, repetitive files compress well).
RATIO_GRACE_BYTES = 1024 * 1024
#: Members are streamed in pieces of this size, so memory stays flat whatever a member's size.
CHUNK_BYTES = 64 * 1024
_DRIVE_LETTER = re.compile(r"^[A-Za-z]:$")
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")


def safe_member_path(name: str) -> str:
    """A member name as a relative ``/``-separated path: no ``..``, ``.``, empty parts, drive letters or controls.

    Returns an empty string when nothing is left (the caller names the member then).
    """
    parts = []
    for part in _CONTROL_CHARACTERS.sub("_", name).replace("\\", "/").split("/"):
        if part in ("", ".", "..") or (not parts and _DRIVE_LETTER.match(part)):
            continue
        parts.append(part)
    return "/".join(parts)


class MemberPaths:
    """Gives each member of one parent a clean ``path_in_parent`` of its own (``a.txt``, then ``a.txt~2``)."""

    def __init__(self) -> None:
        self._taken: set[str] = set()
        #: How many names would have escaped a folder (``../``, absolute, a drive letter).
        self.unsafe = 0

    def assign(self, name: str, fallback: str) -> str:
        """The cleaned, unique path for a member called ``name``; ``fallback`` when nothing of it is left."""
        path = safe_member_path(name)
        if path != name.replace("\\", "/").rstrip("/"):
            self.unsafe += 1
        path = path or fallback
        candidate, number = path, 1
        while candidate.lower() in self._taken:
            number += 1
            candidate = f"{path}~{number}"
        self._taken.add(candidate.lower())
        return candidate


class MemberWriter:
    """Writes the embedded documents of one parent into its job folder, counting every byte written."""

    def __init__(self, document: Document, options: ExtractOptions) -> None:
        if document.workdir is None:
            raise ValueError("MemberWriter needs a document with a workdir")
        self.document = document
        self.workdir: Path = document.workdir
        self.size_limit = options.max_archive_uncompressed
        self.ratio = options.max_archive_ratio
        self.ratio_limit = max(RATIO_GRACE_BYTES, options.max_archive_ratio * max(document.size, 1))
        #: Bytes written so far for this parent.
        self.written = 0
        self.children: list[EmbeddedFile] = []

    @property
    def remaining(self) -> int:
        """How many more bytes this parent may produce."""
        return max(0, min(self.size_limit, self.ratio_limit) - self.written)

    def refuse_declared(self, member: str, declared: int) -> None:
        """Raise :class:`TooLarge` at once when a member's declared size cannot fit in what is left."""
        if declared > self.remaining:
            self._raise(member, self.written + declared)

    def charge(self, member: str, count: int) -> None:
        """Account for ``count`` more bytes about to be produced; raise :class:`TooLarge` past a limit."""
        if self.written + count > min(self.size_limit, self.ratio_limit):
            self._raise(member, self.written + count)
        self.written += count

    def _raise(self, member: str, total: int) -> None:
        name = self.document.name
        if total > self.size_limit:
            raise TooLarge(
                f"{name}: its embedded documents come to more than {self.size_limit / 1e6:.0f} MB "
                f"(max_archive_uncompressed) by member {member}; it is a decompression bomb or too large to unpack"
            )
        raise TooLarge(
            f"{name}: its embedded documents come to more than {self.ratio} times its own size "
            f"(max_archive_ratio) by member {member}; it looks like a decompression bomb"
        )

    def write(
        self, chunks: Iterable[bytes], *, name: str, path_in_parent: str, mime_type_hint: str | None = None
    ) -> EmbeddedFile:
        """Stream ``chunks`` into a new private file and record it as a child.

        Every chunk is charged before it is written, so the cap holds even when
        the chunks come from a decompressor that was lied to. On any error the
        partial file is removed and the error propagates.
        """
        target = private_file(self.workdir, name)
        size = 0
        try:
            with target.open("wb") as out:
                for chunk in chunks:
                    self.charge(path_in_parent, len(chunk))
                    out.write(chunk)
                    size += len(chunk)
        except BaseException:
            target.unlink(missing_ok=True)
            raise
        child = EmbeddedFile(
            name=name, path_in_parent=path_in_parent, path=target, size=size, mime_type_hint=mime_type_hint
        )
        self.children.append(child)
        return child

    def write_bytes(
        self, data: bytes, *, name: str, path_in_parent: str, mime_type_hint: str | None = None
    ) -> EmbeddedFile:
        """Write bytes already in memory (a decoded mail attachment) as a child, under the same cap."""
        view = memoryview(data)
        pieces = (bytes(view[start : start + CHUNK_BYTES]) for start in range(0, len(data), CHUNK_BYTES))
        return self.write(pieces, name=name, path_in_parent=path_in_parent, mime_type_hint=mime_type_hint)

    def discard(self) -> None:
        """Remove every file written so far (the parent failed, so its children will not be read)."""
        for child in self.children:
            child.path.unlink(missing_ok=True)
        self.children.clear()


def member_name(path_in_parent: str) -> str:
    """The file name of a member: the last part of its path inside the parent."""
    return path_in_parent.rsplit("/", 1)[-1]


def listing_text(paths: Iterable[str]) -> str:
    """The archive's own text: one member path per line."""
    return "\n".join(paths)


def write_attachments(
    document: Document, options: ExtractOptions, payloads: Iterable[tuple[str, str, str, bytes]]
) -> tuple[EmbeddedFile, ...]:
    """Write a message's attachments into its workdir as children; none when the document has no workdir.

    ``payloads`` yields ``(name, path_in_parent, mime_type, data)``; an attachment
    with no bytes (an Outlook message embedded without a file form) is left out.
    The byte cap of :class:`MemberWriter` applies to them all together.
    """
    if document.workdir is None:
        return ()
    writer = MemberWriter(document, options)
    paths = MemberPaths()
    try:
        for number, (name, path_in_parent, mime_type, data) in enumerate(payloads, start=1):
            if not data:
                continue
            path = paths.assign(path_in_parent, f"attachments/{number}")
            writer.write_bytes(data, name=name or member_name(path), path_in_parent=path, mime_type_hint=mime_type)
    except BaseException:
        writer.discard()
        raise
    return tuple(writer.children)
