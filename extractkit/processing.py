"""Processing one document: detect its type, choose extractors, extract, clean up.

Document errors never escape :func:`process_document`; they become a
:class:`~extractkit.models.Failure`. :func:`extract` is the library entry point.
"""

from __future__ import annotations

import dataclasses
import mimetypes
import os
import tempfile
import time
from pathlib import Path

from .errors import (
    CorruptDocument,
    DocumentError,
    EmptyDocument,
    ExtractorCrashed,
    MemoryLimitExceeded,
    TooLarge,
    UnreadableDocument,
    UnsupportedFormat,
)
from .models import Attempt, Document, ExtractionResult, ExtractOptions, Failure, Outcome
from .normalize import clean_text
from .plugins import Plugins, load_plugins
from .selection import rank_extractors

_default_plugins: Plugins | None = None


def default_plugins() -> Plugins:
    """The process-wide plugin set (builtins plus installed entry points), loaded once."""
    global _default_plugins
    if _default_plugins is None:
        _default_plugins = load_plugins()
    return _default_plugins


def local_document(path: str | Path, *, uri: str | None = None, name: str | None = None) -> Document:
    """Describe a local file as a :class:`Document`, raising if it cannot be read."""
    path = Path(path).absolute()  # extraction may run in a child with another working directory
    try:
        stat = path.stat()
        if not path.is_file():
            raise UnreadableDocument(f"{path} is not a regular file")
        if not os.access(path, os.R_OK):
            raise UnreadableDocument(f"{path} is not readable (permission denied)")
    except OSError as exc:
        raise UnreadableDocument(f"{path} cannot be read: {exc.strerror or exc}") from exc
    return Document(
        uri=uri or path.resolve().as_uri(),
        path=path,
        name=name or path.name,
        size=stat.st_size,
    )


def detect(document: Document, plugins: Plugins, options: ExtractOptions) -> Document:
    """Check size limits and fill in the detected MIME type."""
    if document.size == 0:
        raise EmptyDocument(f"{document.name} is empty (0 bytes); there is nothing to extract")
    if document.size > options.max_file_size:
        raise TooLarge(
            f"{document.name} is {document.size / 1e6:.1f} MB, over the "
            f"{options.max_file_size / 1e6:.0f} MB limit (MAX_FILE_SIZE_MB)"
        )
    if document.mime_type:
        return document
    return dataclasses.replace(document, mime_type=plugins.detect_mime_type(document.path, document.name))


def _classify_unexpected(error: BaseException, extractor: str) -> DocumentError:
    if isinstance(error, MemoryError):
        return MemoryLimitExceeded(f"extractor '{extractor}' ran out of memory")
    if isinstance(error, RecursionError):
        return CorruptDocument(f"extractor '{extractor}' hit a recursion limit (nested or circular structure)")
    return ExtractorCrashed(
        f"extractor '{extractor}' raised {type(error).__name__}: {error}",
        retryable_with_other_extractor=True,
    )


def _no_extractor_error(document: Document, mime_type: str, plugins: Plugins) -> DocumentError:
    """Unsupported, unless the name promises a supported type the bytes do not match (corrupt)."""
    claimed, _ = mimetypes.guess_type(document.name)
    if claimed and claimed != mime_type and rank_extractors(plugins.extractors, claimed):
        return CorruptDocument(
            f"{document.name}: named like {claimed} but its bytes are {mime_type}; the file is damaged or mislabelled"
        )
    return UnsupportedFormat(
        f"{document.name}: no extractor handles {mime_type}; install a plugin for it or leave the file out"
    )


def extract_document(document: Document, plugins: Plugins, options: ExtractOptions | None = None) -> ExtractionResult:
    """Extract one document, trying ranked extractors in turn.

    Raises :class:`DocumentError`; its ``attempts`` attribute lists every failed try.
    """
    options = options or ExtractOptions()
    document = detect(document, plugins, options)
    mime_type = document.mime_type or "application/octet-stream"
    candidates = rank_extractors(
        plugins.extractors,
        mime_type,
        preferred=options.preferred_extractors,
        disabled=options.disabled_extractors,
    )
    attempts: list[Attempt] = []
    last_error: DocumentError | None = None
    for registration in candidates:
        extractor = registration.cls(options)
        if not extractor.accepts(document):
            continue
        try:
            result = extractor.extract(document)
        except DocumentError as error:
            last_error = error
        except Exception as error:  # a parser bug must not take the batch down
            last_error = _classify_unexpected(error, registration.name)
        else:
            return dataclasses.replace(
                result,
                text=clean_text(result.text),
                pages=tuple(dataclasses.replace(page, text=clean_text(page.text)) for page in result.pages),
                mime_type=mime_type,
                extractor=registration.name,
            )
        last_error.plugin = registration.name
        attempts.append(Attempt(registration.name, last_error.reason, last_error.message))
        if not last_error.retryable_with_other_extractor:
            break
    if last_error is None:
        last_error = _no_extractor_error(document, mime_type, plugins)
    last_error.mime_type = mime_type
    last_error.attempts = tuple(attempts)
    raise last_error


def failure_from_error(error: DocumentError, *, uri: str, stage: str) -> Failure:
    """Turn a raised document error into a failure record."""
    return Failure.from_error(
        error,
        uri=uri,
        stage=stage,
        plugin=error.plugin,
        attempts=error.attempts,
        mime_type=error.mime_type,
    )


def process_document(document: Document, plugins: Plugins, options: ExtractOptions | None = None) -> Outcome:
    """Extract one document; never raises for a bad document."""
    started = time.perf_counter()
    try:
        result = extract_document(document, plugins, options)
    except DocumentError as error:
        failure = failure_from_error(error, uri=document.uri, stage="extract")
        return Outcome(document, document.uri, failure=failure, seconds=time.perf_counter() - started)
    return Outcome(document, document.uri, result=result, seconds=time.perf_counter() - started)


def extract(
    source: str | Path | bytes,
    *,
    name: str | None = None,
    mime_type: str | None = None,
    options: ExtractOptions | None = None,
    plugins: Plugins | None = None,
) -> ExtractionResult:
    """Extract text, pages and metadata from a file path or from bytes.

    Raises a :class:`~extractkit.errors.DocumentError` subclass when the
    document cannot be extracted; its ``reason`` says why.
    """
    plugins = plugins or default_plugins()
    if isinstance(source, (bytes, bytearray, memoryview)):
        with tempfile.TemporaryDirectory(prefix="extractkit-") as workdir:
            fd, temp_path = tempfile.mkstemp(dir=workdir)
            with os.fdopen(fd, "wb") as handle:
                handle.write(source)
            document = local_document(temp_path, uri=f"bytes:{name or 'document'}", name=name or "document")
            document = dataclasses.replace(document, mime_type=mime_type)
            return extract_document(document, plugins, options)
    document = dataclasses.replace(local_document(source, name=name), mime_type=mime_type)
    return extract_document(document, plugins, options)
