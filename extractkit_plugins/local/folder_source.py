"""Local file and folder source: the embedded default, needing no cloud at all.

Options: ``path`` (a file or folder) or ``paths`` (a list of them),
``recursive`` (default true), ``include`` / ``exclude`` (glob patterns on the
path relative to the folder). Files are read in place; nothing is copied.
"""

from __future__ import annotations

import fnmatch
import os
from pathlib import Path
from typing import Any, Iterator, Mapping

from extractkit import Document, Source, SourceItem, hookimpl
from extractkit.errors import ConfigError, ServiceUnreachable
from extractkit.processing import local_document

from ..options import reject_unknown

SECTION = "source"


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
        if not any(
            fnmatch.fnmatch(relative, pattern) or fnmatch.fnmatch(Path(relative).name, pattern)
            for pattern in self.include
        ):
            return False
        return not any(fnmatch.fnmatch(relative, pattern) for pattern in self.exclude)

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
                try:
                    size: int | None = path.stat().st_size
                except OSError:
                    size = None
                yield SourceItem(
                    uri=path.absolute().as_uri(), name=path.name, size=size, attributes={"path": str(path)}
                )

    def count_items(self) -> int:
        """How many files :meth:`items` will yield (for a progress bar)."""
        return sum(1 for root in self.paths for _ in self._walk(root))

    def fetch(self, item: SourceItem, workdir: Path) -> Document:
        """Local files are read where they are."""
        return local_document(item.attributes["path"], uri=item.uri, name=item.name)

    def stop(self) -> None:
        """Stop yielding further files."""
        self._stopped = True


@hookimpl
def register_sources(register):
    """Register the folder source."""
    register(FolderSource)
