"""Local file and folder source: the embedded default, needing no cloud at all.

Options: ``path`` (a file or folder) or ``paths`` (a list of them),
``recursive`` (default true: also read subfolders), ``include`` / ``exclude``
(glob patterns on the path relative to the folder, see :func:`glob_matches`).
Files are read in place; nothing is copied; symbolic links are skipped.

Each item carries a ``fingerprint`` attribute (size, modification time and a
SHA-256 of the content), so a re-run can skip what the sink already holds.
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
from pathlib import Path
from typing import Any, Iterator, Mapping

from extractkit import Document, Source, SourceItem, hookimpl
from extractkit.errors import ConfigError, ServiceUnreachable
from extractkit.hookspecs import RegisterClass
from extractkit.processing import local_document

from ..options import reject_unknown

SECTION = "source"


@functools.lru_cache(maxsize=256)
def _glob_regex(pattern: str) -> re.Pattern[str]:
    parts: list[str] = []
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            parts.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            parts.append(".*")
            i += 2
        elif pattern[i] == "*":
            parts.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            parts.append("[^/]")
            i += 1
        elif pattern[i] == "[" and "]" in pattern[i + 1 :]:
            end = pattern.index("]", i + 1)
            body = pattern[i + 1 : end]
            body = body.replace("\\", "\\\\")
            parts.append("[" + ("^" + body[1:] if body.startswith("!") else body) + "]")
            i = end + 1
        else:
            parts.append(re.escape(pattern[i]))
            i += 1
    return re.compile("".join(parts) + r"\Z")


def glob_matches(pattern: str, relative: str) -> bool:
    """Whether a gitignore-style pattern matches a path relative to the folder (``/`` separated).

    ``*`` and ``?`` stay within one folder level and ``**`` crosses levels (``**/drafts/*``
    also matches the top-level ``drafts/a.txt``). A pattern without ``/`` matches a name at
    any level (``*.tmp``, ``drafts``); one with ``/`` is anchored at the folder. A pattern
    that matches a folder matches everything under it.
    """
    pattern = pattern.strip("/") if pattern not in ("/", "") else pattern
    names = relative.split("/")
    candidates = names if "/" not in pattern else ["/".join(names[: n + 1]) for n in range(len(names))]
    regex = _glob_regex(pattern)
    return any(regex.match(candidate) for candidate in candidates)


class FolderSource(Source):
    """Yields every regular file under the configured paths, in sorted order."""

    name = "folder"
    redelivers = False

    def __init__(self, options: Mapping[str, Any] | None = None) -> None:
        super().__init__(options)
        reject_unknown(SECTION, self.options, ("path", "paths", "recursive", "include", "exclude"))
        paths = self.options.get("paths") or ([self.options["path"]] if self.options.get("path") else [])
        if isinstance(paths, str) or not paths or not all(isinstance(p, str) for p in paths):
            raise ConfigError(f"{SECTION}.path", "set 'path' to a file or folder (or 'paths' to a list of them)")
        self.paths = [Path(p) for p in paths]
        self.recursive = bool(self.options.get("recursive", True))
        self.include = list(self.options.get("include", ["*"]))
        self.exclude = list(self.options.get("exclude", []))
        self._stopped = False

    def check(self) -> None:
        """Every configured path must exist."""
        for path in self.paths:
            if not path.exists():
                raise ServiceUnreachable(f"source path '{path}' does not exist; check [source] path")

    def _wanted(self, relative: str) -> bool:
        relative = relative.replace(os.sep, "/")
        if not any(glob_matches(pattern, relative) for pattern in self.include):
            return False
        return not any(glob_matches(pattern, relative) for pattern in self.exclude)

    def _walk(self, root: Path) -> Iterator[Path]:
        if not root.is_dir():
            yield root
            return
        for directory, subdirs, files in os.walk(root):
            subdirs.sort()
            if not self.recursive:
                subdirs.clear()
            for file_name in sorted(files):
                path = Path(directory) / file_name
                if path.is_symlink():
                    continue
                if self._wanted(str(path.relative_to(root))):
                    yield path

    def items(self) -> Iterator[SourceItem]:
        """Every file under the configured paths; a missing path is an item that fails at fetch."""
        for root in self.paths:
            for path in self._walk(root):
                if self._stopped:
                    return
                attributes: dict[str, Any] = {"path": str(path)}
                try:
                    stat = path.stat()
                    size: int | None = stat.st_size
                    attributes["fingerprint"] = _fingerprint(path, stat)
                except OSError:
                    size = None  # fetch reports why the file cannot be read
                yield SourceItem(uri=path.absolute().as_uri(), name=path.name, size=size, attributes=attributes)

    def count_items(self) -> int:
        """How many files :meth:`items` will yield (for a progress bar)."""
        return sum(1 for root in self.paths for _ in self._walk(root))

    def fetch(self, item: SourceItem, workdir: Path) -> Document:
        """Local files are read where they are."""
        return local_document(item.attributes["path"], uri=item.uri, name=item.name)

    def stop(self) -> None:
        """Stop yielding further files."""
        self._stopped = True


def _fingerprint(path: Path, stat: os.stat_result) -> str:
    """Size, modification time and content hash: what must all match for the file to count as unchanged."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1024 * 1024), b""):
            digest.update(block)
    return f"size={stat.st_size};mtime_ns={stat.st_mtime_ns};sha256={digest.hexdigest()}"


@hookimpl
def register_sources(register: RegisterClass) -> None:
    """Register the folder source."""
    register(FolderSource)
