"""Documents inside documents: mail attachments and archive members, extracted as documents of their own.

An extractor that finds embedded files writes each into the parent's
``Document.workdir`` and lists it in ``ExtractionResult.children``. The pipeline
then extracts every child through the same executor (so the same detection,
extractors, limits and isolation), depth first, each stored under its own id
with a URI such as ``s3://bucket/archive.zip!/reports/q3.xlsx`` and its parent's
and root's URIs in ``source_metadata``. Depth, count and total size are bounded;
an embedded document past a bound becomes a ``too_large`` failure record.
"""

from __future__ import annotations

from typing import Callable

from .errors import TooLarge
from .models import Document, EmbeddedFile, ExtractOptions, Failure, Outcome

#: Separates a parent's URI from the path of a document inside it.
EMBEDDED_SEPARATOR = "!/"
#: Source metadata a child inherits from its top-level document (the version keeps stale events out).
INHERITED_METADATA = ("last_modified_ms", "last_modified", "etag", "version_id")


def child_document(parent: Document, child: EmbeddedFile) -> Document:
    """The :class:`Document` of one embedded file, linked to its parent and to the top-level document."""
    root_uri = parent.source_metadata.get("root_uri") or parent.uri
    inherited = {key: parent.source_metadata[key] for key in INHERITED_METADATA if key in parent.source_metadata}
    return Document(
        uri=f"{parent.uri}{EMBEDDED_SEPARATOR}{child.path_in_parent.lstrip('/')}",
        path=child.path,
        name=child.name,
        size=child.size,
        source_metadata={
            **inherited,
            "parent_uri": parent.uri,
            "root_uri": root_uri,
            "embedded_path": child.path_in_parent,
        },
        workdir=parent.workdir,
        depth=parent.depth + 1,
    )


class EmbeddedBudget:
    """What is left of one top-level document's allowance of embedded documents."""

    def __init__(self, options: ExtractOptions) -> None:
        self.options = options
        self.documents = 0
        self.bytes = 0

    def refusal(self, document: Document) -> str | None:
        """Why this embedded document may not be extracted, or None when it may."""
        limit = self.options.max_embedded_depth
        if document.depth > limit:
            return f"it is nested {document.depth} levels deep, over max_embedded_depth = {limit}"
        if self.documents >= self.options.max_embedded_documents:
            return f"its parent holds more than max_embedded_documents = {self.options.max_embedded_documents}"
        if self.bytes + document.size > self.options.max_archive_uncompressed:
            return (
                f"the embedded documents add up to more than max_archive_uncompressed = "
                f"{self.options.max_archive_uncompressed} bytes"
            )
        return None


def extract_children(
    outcome: Outcome, executor: Callable[[Document], Outcome], options: ExtractOptions
) -> list[Outcome]:
    """Extract every document embedded in ``outcome``'s result, depth first, within the bounds."""
    budget = EmbeddedBudget(options)
    found: list[Outcome] = []
    _walk(outcome, executor, budget, found)
    return found


def _walk(
    parent: Outcome, executor: Callable[[Document], Outcome], budget: EmbeddedBudget, found: list[Outcome]
) -> None:
    if parent.result is None or parent.document is None:
        return
    for child in parent.result.children:
        document = child_document(parent.document, child)
        refusal = budget.refusal(document)
        if refusal is not None:
            error = TooLarge(f"{document.uri} was not extracted: {refusal}")
            found.append(
                Outcome(document, document.uri, failure=Failure.from_error(error, uri=document.uri, stage="embedded"))
            )
            continue
        budget.documents += 1
        budget.bytes += document.size
        outcome = executor(document)
        found.append(outcome)
        _walk(outcome, executor, budget, found)
