"""Base classes for the three kinds of plugin: sources, extractors and sinks."""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, Callable, ClassVar, Iterator, Mapping, Sequence

from .errors import DocumentError, SinkFailed
from .models import (
    DELETE,
    FAILURE,
    RESULT,
    Document,
    ExtractionResult,
    ExtractOptions,
    Failure,
    SearchHit,
    SinkRecord,
    SourceItem,
)


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
    #: True when an item that is neither acknowledged nor released comes back by itself
    #: (a queue's visibility timeout): the pipeline then hands transient failures back
    #: instead of storing them.
    redelivers: ClassVar[bool] = False

    def __init__(self, options: Mapping[str, Any] | None = None) -> None:
        self.options: Mapping[str, Any] = dict(options or {})
        self._free_slots: Callable[[], int] = lambda: 1

    @abstractmethod
    def items(self) -> Iterator[SourceItem]:
        """Yield the items to process.

        The pipeline takes an item only when it has a free slot for it; a source
        that receives in batches asks :meth:`free_slots` how many to receive.
        """

    def bind_capacity(self, free_slots: Callable[[], int]) -> None:
        """Called by the pipeline before :meth:`items`: ``free_slots()`` says how many items it can take now."""
        self._free_slots = free_slots

    def free_slots(self) -> int:
        """How many items the pipeline can take now (at least 1 while it is asking)."""
        return max(1, self._free_slots())

    def count_items(self) -> int | None:
        """How many items a finite source will yield, for a progress bar; ``None`` when unknown."""
        return None

    def oldest_in_flight_seconds(self) -> float | None:
        """Age of the oldest item taken and not yet acknowledged or released (a metric); ``None`` when unknown."""
        return None

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

    The pipeline hands a sink records in batches (:meth:`write_batch`), bounded by
    ``batch_max_records``, ``batch_max_bytes`` and ``batch_linger_seconds``. A
    write returns only once the data is durable; the pipeline acknowledges each
    record's source item after that, one by one.
    """

    name: ClassVar[str]
    #: At most this many records per :meth:`write_batch` call.
    batch_max_records: int = 100
    #: At most about this many bytes (by :meth:`SinkRecord.estimated_bytes`) per call.
    batch_max_bytes: int = 5 * 1024 * 1024
    #: How long the first record of a batch may wait for others before the batch is written.
    batch_linger_seconds: float = 0.05

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

    def write_batch(self, records: Sequence[SinkRecord]) -> list[DocumentError | None]:
        """Store a batch of records; return one entry per record, in order.

        ``None`` means the record is durable. A :class:`~extractkit.errors.DocumentError`
        is that record's own failure: a transient one is retried, a permanent one
        turns a result into a failure record (and a failed failure record goes to
        the failure log). Raise a :class:`~extractkit.errors.TransientError` only
        when nothing of the batch is known to be stored; the pipeline then retries
        it whole. The default stores record by record with :meth:`write`,
        :meth:`write_failure` and :meth:`delete`; override it to write in one go.
        """
        outcomes: list[DocumentError | None] = []
        for record in records:
            try:
                self.write_record(record)
            except DocumentError as error:
                outcomes.append(error)
            except Exception as error:  # an unexpected sink error fails that record, reported as such
                outcomes.append(
                    SinkFailed(f"sink '{self.name}' failed on {record.uri}: {type(error).__name__}: {error}")
                )
            else:
                outcomes.append(None)
        return outcomes

    def write_record(self, record: SinkRecord) -> None:
        """Store one record through :meth:`write`, :meth:`write_failure` or :meth:`delete`."""
        if record.kind == RESULT and record.document is not None and record.result is not None:
            self.write(record.document, record.result)
        elif record.kind == FAILURE and record.failure is not None:
            self.write_failure(record.failure)
        elif record.kind == DELETE:
            self.delete(record.uri)
        else:
            raise ValueError(f"malformed sink record of kind {record.kind!r}")

    #: True when :meth:`search` works for this sink (``extractkit search`` reads it).
    searchable: ClassVar[bool] = False
    #: True when the sink writes its data to standard output (the worker then keeps everything else off it).
    writes_to_stdout: bool = False

    def fingerprints(self, ids: Sequence[str]) -> dict[str, str]:
        """The stored fingerprint of each document id the sink holds a result for (missing ids are left out).

        A source may put a ``fingerprint`` (size, modification time, content hash) in an
        item's attributes; the pipeline stores it with the result and skips the item next
        time when the two match. The default knows nothing, so nothing is skipped.
        """
        return {}

    def search(self, query: str, limit: int = 10) -> list[SearchHit]:
        """Return the best matches for ``query``, best first (only where ``searchable``)."""
        raise NotImplementedError(f"the {self.name} sink cannot be searched")

    def check(self) -> None:
        """Raise :class:`~extractkit.errors.ServiceUnreachable` if the sink cannot work."""

    def prepare(self) -> None:
        """Create what the sink writes into (indices, tables), so the first batch finds it ready.

        The runner calls it once after :meth:`check` and before it reports ready, never for
        ``--validate-only``. It must be safe to repeat and to run from several workers at once;
        raise a :class:`~extractkit.errors.TransientError` when the store cannot be set up yet
        (the runner goes on, and the sink must then prepare itself on its first write).
        """

    def close(self) -> None:
        """Flush and release connections and files."""
