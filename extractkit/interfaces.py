"""Base classes for the three kinds of plugin: sources, extractors and sinks."""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, ClassVar, Iterator, Mapping

from .models import Document, ExtractionResult, ExtractOptions, Failure, SourceItem


class Extractor(ABC):
    """Turns one document of a known MIME type into text, pages and metadata.

    Subclasses set ``name`` (unique), ``mime_types`` (exact types, ``type/*`` or
    ``*/*``) and optionally ``priority`` (lower wins). Extractors must keep no
    global state: they may run in a child process.
    """

    name: ClassVar[str]
    mime_types: ClassVar[tuple[str, ...]]
    priority: ClassVar[int] = 100

    def __init__(self, options: ExtractOptions | None = None) -> None:
        self.options = options or ExtractOptions()

    def accepts(self, document: Document) -> bool:
        """Return False to decline a document this extractor cannot handle."""
        return True

    @abstractmethod
    def extract(self, document: Document) -> ExtractionResult:
        """Extract the document, or raise a :class:`~extractkit.errors.DocumentError`."""


class Source(ABC):
    """Announces documents and hands them over as local files.

    A finite source (a folder) stops iterating when drained; an endless one (a
    queue) keeps going until :meth:`stop` is called.
    """

    name: ClassVar[str]

    def __init__(self, options: Mapping[str, Any] | None = None) -> None:
        self.options: Mapping[str, Any] = dict(options or {})

    @abstractmethod
    def items(self) -> Iterator[SourceItem]:
        """Yield the items to process."""

    @abstractmethod
    def fetch(self, item: SourceItem, workdir: Path) -> Document:
        """Make the item's bytes available as a local file inside ``workdir``."""

    def ack(self, item: SourceItem) -> None:
        """The item's outcome is stored: the source may forget it (delete the message)."""

    def release(self, item: SourceItem, delay_seconds: int) -> None:
        """The item failed transiently: hand it back for a later retry."""

    def check(self) -> None:
        """Raise :class:`~extractkit.errors.ServiceUnreachable` if the source cannot work."""

    def stop(self) -> None:
        """Stop yielding new items (on shutdown)."""

    def close(self) -> None:
        """Release connections and files."""


class Sink(ABC):
    """Stores extraction results and failure records.

    A write returns only once the data is durable; the runner acknowledges the
    source after that.
    """

    name: ClassVar[str]

    def __init__(self, options: Mapping[str, Any] | None = None) -> None:
        self.options: Mapping[str, Any] = dict(options or {})

    @abstractmethod
    def write(self, document: Document, result: ExtractionResult) -> None:
        """Store (insert or overwrite) the result for a document."""

    @abstractmethod
    def write_failure(self, failure: Failure) -> None:
        """Store a failure record."""

    def delete(self, uri: str) -> None:
        """Remove a document that was deleted at its origin."""

    def check(self) -> None:
        """Raise :class:`~extractkit.errors.ServiceUnreachable` if the sink cannot work."""

    def close(self) -> None:
        """Flush and release connections and files."""
