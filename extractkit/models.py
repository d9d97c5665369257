"""Frozen data types passed between sources, extractors and sinks."""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Mapping

from .errors import TRANSIENT, DocumentError


def document_id_for(uri: str) -> str:
    """Derive a stable document id from its source URI (safe as an index ``_id``)."""
    return hashlib.sha256(uri.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class SourceItem:
    """One unit of work announced by a source, before it is fetched.

    ``receipt`` is opaque to everyone but the source (an SQS receipt handle, say).
    ``event`` is ``"upsert"`` for a new or changed document, ``"delete"`` when the
    document was removed at the origin.
    """

    uri: str
    name: str
    size: int | None = None
    event: str = "upsert"
    receipt: Any = None
    attributes: Mapping[str, Any] = field(default_factory=dict)

    @property
    def document_id(self) -> str:
        """The id the document is stored under."""
        return document_id_for(self.uri)


@dataclass(frozen=True)
class Document:
    """A fetched document: a local file ready to be read, plus where it came from.

    ``name`` is the original file name; it is a hint only and never used as a path.
    ``mime_type`` is filled in by type detection.
    """

    uri: str
    path: Path
    name: str
    size: int
    mime_type: str | None = None
    source_metadata: Mapping[str, Any] = field(default_factory=dict)
    #: A private folder where an extractor may write the documents it finds inside this one
    #: (:class:`EmbeddedFile`); ``None`` when embedded documents are not wanted.
    workdir: Path | None = None
    #: How deep this document sits inside others: 0 for a document of its own.
    depth: int = 0

    @property
    def id(self) -> str:
        """The id the document is stored under."""
        return document_id_for(self.uri)


#: Mean OCR word confidence (0–100) under which a page is flagged ``low_confidence``.
LOW_CONFIDENCE = 60.0


@dataclass(frozen=True)
class PageFailure:
    """Why one page has no text of its own while the rest of its document does (an OCR timeout, say).

    ``reason`` is a failure reason as :class:`~extractkit.errors.DocumentError` spells them
    (``timeout``); ``message`` the one line that says what happened and what to do.
    """

    reason: str
    message: str


@dataclass(frozen=True)
class Page:
    """The text of one page (or sheet, slide, image frame)."""

    number: int
    text: str
    ocr: bool = False
    confidence: float | None = None
    engine: str | None = None
    #: True when OCR read the page with a confidence below :data:`LOW_CONFIDENCE` (the text may be unusable).
    low_confidence: bool = False
    #: Set when the page failed on its own (its OCR timed out) and the document was kept without it.
    failure: PageFailure | None = None


@dataclass(frozen=True)
class EmbeddedFile:
    """A document found inside another (a mail attachment, an archive member), written to a file of its own.

    ``path_in_parent`` names it inside its parent (``reports/q3.xlsx``,
    ``attachments/2/photo.jpg``); ``path`` is the file the extractor wrote inside
    the parent's :attr:`Document.workdir`.
    """

    name: str
    path_in_parent: str
    path: Path
    size: int
    mime_type_hint: str | None = None


@dataclass(frozen=True)
class ExtractionResult:
    """What an extractor produced for one document."""

    text: str
    pages: tuple[Page, ...] = ()
    metadata: Mapping[str, Any] = field(default_factory=dict)
    mime_type: str = "application/octet-stream"
    extractor: str = ""
    #: Documents inside this one; the pipeline extracts and stores each as a document of its own.
    children: tuple[EmbeddedFile, ...] = ()
    #: Problems that did not stop the extraction (a page whose OCR timed out, pages read with low confidence).
    warnings: tuple[str, ...] = ()

    @property
    def ocr_pages(self) -> int:
        """How many pages went through OCR."""
        return sum(1 for page in self.pages if page.ocr)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary."""
        return {
            "mime_type": self.mime_type,
            "extractor": self.extractor,
            "text": self.text,
            "pages": [asdict(page) for page in self.pages],
            "metadata": dict(self.metadata),
            "warnings": list(self.warnings),
        }


@dataclass(frozen=True)
class Attempt:
    """One extractor's try at a document that did not succeed."""

    plugin: str
    reason: str
    message: str


@dataclass(frozen=True)
class Failure:
    """A classified failure: why a document could not be indexed."""

    document_id: str
    uri: str
    stage: str
    plugin: str
    failure_class: str
    reason: str
    message: str
    attempts: tuple[Attempt, ...] = ()
    mime_type: str | None = None

    @classmethod
    def from_error(
        cls,
        error: DocumentError,
        *,
        uri: str,
        stage: str,
        plugin: str = "",
        attempts: tuple[Attempt, ...] = (),
        mime_type: str | None = None,
    ) -> Failure:
        """Build a failure record from a document error."""
        return cls(
            document_id=document_id_for(uri),
            uri=uri,
            stage=stage,
            plugin=plugin,
            failure_class=error.failure_class,
            reason=error.reason,
            message=error.message,
            attempts=attempts,
            mime_type=mime_type,
        )

    @property
    def is_transient(self) -> bool:
        """True when a later retry may succeed."""
        return self.failure_class == TRANSIENT

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary."""
        data = asdict(self)
        data["class"] = data.pop("failure_class")
        return data


@dataclass(frozen=True)
class Outcome:
    """The end state of one document: a result, or a failure (exactly one is set)."""

    document: Document | None
    uri: str
    result: ExtractionResult | None = None
    failure: Failure | None = None
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """True when the document was extracted."""
        return self.result is not None

    @property
    def document_id(self) -> str:
        """The id the document is stored under."""
        return document_id_for(self.uri)


@dataclass(frozen=True)
class SearchHit:
    """One document that matched a search, as every searchable sink returns it."""

    id: str
    uri: str
    name: str
    snippet: str
    score: float
    page: int | None = None


#: The kinds of :class:`SinkRecord`.
RESULT = "result"
FAILURE = "failure"
DELETE = "delete"


@dataclass(frozen=True)
class SinkRecord:
    """One entry of a sink batch: a result to store, a failure record to store, or a deletion.

    ``attributes`` are the source item's attributes (for S3 events: bucket, key,
    sequencer, event time), so a sink can refuse a stale event.
    """

    kind: str
    uri: str
    document: Document | None = None
    result: ExtractionResult | None = None
    failure: Failure | None = None
    attributes: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def for_result(cls, document: Document, result: ExtractionResult, attributes: Mapping[str, Any] = {}) -> SinkRecord:
        """A result to insert or overwrite."""
        return cls(RESULT, document.uri, document=document, result=result, attributes=attributes)

    @classmethod
    def for_failure(cls, failure: Failure, attributes: Mapping[str, Any] = {}) -> SinkRecord:
        """A failure record to store."""
        return cls(FAILURE, failure.uri, failure=failure, attributes=attributes)

    @classmethod
    def for_delete(cls, uri: str, attributes: Mapping[str, Any] = {}) -> SinkRecord:
        """A document removed at its origin, to remove from the store (with its failure records)."""
        return cls(DELETE, uri, attributes=attributes)

    @property
    def document_id(self) -> str:
        """The id the document is stored under."""
        return document_id_for(self.uri)

    def estimated_bytes(self) -> int:
        """A cheap estimate of the record's serialised size, for batching by bytes."""
        if self.result is not None:
            return 512 + 3 * len(self.result.text) + 64 * len(self.result.pages)
        if self.failure is not None:
            return 512 + 3 * len(self.failure.message)
        return 256


@dataclass(frozen=True)
class ExtractOptions:
    """Settings every extractor may read. Extractors ignore what does not concern them."""

    ocr_languages: str = "jpn+eng"
    #: The OCR engine by name (``tesseract``, ``ppocr``, ``tesseract+ppocr``, or one a plugin registers).
    ocr_engine: str = "tesseract"
    #: Look for text lines with a small detector first, and skip recognition on pages without any.
    ocr_text_detection: bool = False
    ocr_dpi: int = 300
    ocr_enabled: bool = True
    ocr_timeout: float = 180.0
    detect_orientation: bool = True
    vertical_japanese: bool = True
    max_pages: int = 2000
    max_image_pixels: int = 178_956_970
    max_file_size: int = 100 * 1024 * 1024
    max_archive_uncompressed: int = 512 * 1024 * 1024
    max_archive_entries: int = 10_000
    max_archive_ratio: int = 200
    #: How deep documents inside documents are followed (an attachment of a mail in a zip is depth 2).
    max_embedded_depth: int = 3
    #: At most this many embedded documents per top-level document.
    max_embedded_documents: int = 1000
    pdf_password: str = ""
    office_password: str = ""
    preferred_extractors: tuple[str, ...] = ()
    disabled_extractors: tuple[str, ...] = ()
    extra: Mapping[str, Any] = field(default_factory=dict)
