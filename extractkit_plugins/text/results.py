"""The empty-input rule shared by the text, markup and mail extractors, and reading a document's bytes.

The rule: a file of 0 bytes fails as ``empty``; a file with bytes whose extracted
text is empty or only whitespace is ``ok``, with empty text and
``metadata["empty_text"] = True``, so an empty mail body or a blank page is
indexed (its metadata is worth finding) and can be told apart from a failure.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from extractkit.errors import EmptyDocument, UnreadableDocument
from extractkit.models import Document, ExtractionResult, Page

#: Metadata key set to True when a non-empty file holds no text.
EMPTY_TEXT = "empty_text"


def read_document_bytes(document: Document) -> bytes:
    """Read the whole file; raise ``unreadable`` if it cannot be read and ``empty`` if it has no bytes."""
    try:
        data = document.path.read_bytes()
    except OSError as exc:
        raise UnreadableDocument(f"{document.name}: cannot be read: {exc.strerror or exc}") from exc
    if not data:
        raise EmptyDocument(f"{document.name} is empty (0 bytes); there is nothing to extract")
    return data


def text_result(
    text: str, metadata: Mapping[str, Any] | None = None, pages: Sequence[str] | None = None
) -> ExtractionResult:
    """Build a result whose pages add up to its text; flag a result with no text (the empty-input rule).

    ``pages`` are the texts of the pages (chapters, sheets) in order; without them
    the whole text is one page. Whitespace-only text becomes the empty string.
    """
    metadata = dict(metadata or {})
    page_texts = list(pages) if pages is not None else [text]
    if not text.strip():
        text = ""
        page_texts = [""] * max(1, len(page_texts))
        metadata[EMPTY_TEXT] = True
    return ExtractionResult(
        text=text,
        pages=tuple(Page(number=number, text=page) for number, page in enumerate(page_texts, start=1)),
        metadata=metadata,
    )
