"""Processing one document: detect its type, choose extractors, extract, clean up.

Document errors never escape :func:`process_document`; they become a
:class:`~extractkit.models.Failure`. :func:`extract` is the library entry point.
"""

from __future__ import annotations

import codecs
import dataclasses
import datetime
import functools
import mimetypes
import os
import shutil
import stat
import tempfile
import time
from pathlib import Path
from types import MappingProxyType
from typing import IO, Any, Mapping
from urllib.parse import quote_from_bytes, unquote, urlsplit

from .errors import (
    CorruptDocument,
    DocumentError,
    EmptyDocument,
    ExtractkitError,
    ExtractorCrashed,
    MemoryLimitExceeded,
    TooLarge,
    UnreadableDocument,
    UnsupportedFormat,
)
from .models import LOW_CONFIDENCE, Attempt, Document, ExtractionResult, ExtractOptions, Failure, Outcome, Page
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


@functools.lru_cache(maxsize=1)
def default_options() -> ExtractOptions:
    """The default settings, made once and shared (their ``extra`` is a read-only empty mapping)."""
    return ExtractOptions(extra=MappingProxyType({}))


def local_document(
    path: str | Path, *, uri: str | None = None, name: str | None = None, mime_type: str | None = None
) -> Document:
    """Describe a local file as a :class:`Document`, raising if it cannot be read.

    The URI is the file's real path (symbolic links resolved) as a ``file://`` URI, so one file
    has one document id however it is named; ``mime_type`` is a type already known.
    """
    path = path if isinstance(path, Path) else Path(path)
    if not path.is_absolute():
        path = path.absolute()  # extraction may run in a child with another working directory
    try:
        status = os.lstat(path)
        link = stat.S_ISLNK(status.st_mode)
        if link:
            status = os.stat(path)
        if not stat.S_ISREG(status.st_mode):
            raise UnreadableDocument(f"{path} is not a regular file")
        if not os.access(path, os.R_OK):
            raise UnreadableDocument(f"{path} is not readable (permission denied)")
    except OSError as exc:
        raise UnreadableDocument(f"{path} cannot be read: {exc.strerror or exc}") from exc
    return Document(
        uri=uri or file_uri(path, link=link),
        path=path,
        name=name or path.name,
        size=status.st_size,
        mime_type=mime_type,
    )


def file_uri(path: Path, *, link: bool) -> str:
    """``file://`` URI of a file's real path: its folder's (remembered), then the file's own if it is a link.

    ``link`` says whether ``path`` itself is a symbolic link (the caller's ``lstat`` told).
    """
    if link:
        return "file://" + quote_from_bytes(os.fsencode(os.path.realpath(path)))
    return _folder_uri(os.path.dirname(path)) + quote_from_bytes(os.fsencode(path.name))


@functools.lru_cache(maxsize=1024)
def _folder_uri(folder: str) -> str:
    """``file://`` URI of a folder's real path, with its closing slash (percent-encoding goes byte by byte)."""
    return "file://" + quote_from_bytes(os.fsencode(os.path.join(os.path.realpath(folder), "")))


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
    try:
        mime_type = plugins.detect_mime_type(document.path, document.name)
    except ExtractkitError:
        raise
    except Exception as error:  # a detect_mime_type hook's bug fails this document only
        raise ExtractorCrashed(f"type detection raised {type(error).__name__}: {error}") from error
    return dataclasses.replace(document, mime_type=mime_type)


def location_of(uri: str) -> str:
    """A URI as a person reads it: a local path for ``file://``, the URI itself otherwise."""
    if uri.startswith("file://"):
        return unquote(urlsplit(uri).path)
    return uri


def describe_failure(failure: Failure, where: str | None = None) -> str:
    """One line naming the document once: ``<where>: <reason>: <message>``.

    ``where`` defaults to the failure's URI (a local path for files). A message
    that starts with the document's own name or path does not repeat it.
    """
    where = where or location_of(failure.uri)
    message = failure.message
    for prefix in (where, location_of(failure.uri), Path(location_of(failure.uri)).name):
        if prefix and message.startswith(prefix + ": "):
            message = message[len(prefix) + 2 :]
            break
        if prefix and message.startswith(prefix + " "):  # "a.pdf is encrypted …": the subject is the file
            message = "the file" + message[len(prefix) :]
            break
    return f"{where}: {failure.reason}: {message}"


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
    options = options or default_options()
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
            return _finished_result(result, registration.name, mime_type)
        except DocumentError as error:
            last_error = error
        except Exception as error:  # a parser bug must not take the batch down
            last_error = _classify_unexpected(error, registration.name)
        last_error.plugin = registration.name
        attempts.append(Attempt(registration.name, last_error.reason, last_error.message))
        if not last_error.retryable_with_other_extractor:
            break
    if last_error is None:
        last_error = _no_extractor_error(document, mime_type, plugins)
    last_error.mime_type = mime_type
    last_error.attempts = tuple(attempts)
    raise last_error


def _finished_result(result: object, extractor: str, mime_type: str) -> ExtractionResult:
    """Check what an extractor returned and normalise it: clean text, JSON-ready metadata, one encoding spelling."""
    if not isinstance(result, ExtractionResult):
        raise ExtractorCrashed(
            f"extractor '{extractor}' returned {type(result).__name__}, not an ExtractionResult",
            retryable_with_other_extractor=True,
        )
    if not isinstance(result.text, str) or not all(isinstance(page, Page) for page in result.pages):
        raise ExtractorCrashed(
            f"extractor '{extractor}' returned a malformed ExtractionResult "
            f"(text is {type(result.text).__name__}; pages must be Page objects)",
            retryable_with_other_extractor=True,
        )
    pages = tuple(_cleaned_page(page) for page in result.pages)
    return dataclasses.replace(
        result,
        text=_cleaned_text(result.text, result.pages, pages),
        pages=pages,
        metadata=json_ready_metadata(result.metadata),
        mime_type=mime_type,
        extractor=extractor,
        warnings=_warnings(result, pages),
    )


def _cleaned_text(text: str, pages: tuple[Page, ...], cleaned: tuple[Page, ...]) -> str:
    """``clean_text(text)``, known without a pass when the text is its pages, all clean already, joined by blank lines.

    A clean page has no carriage return, control character, trailing space or run of three line
    breaks, is NFC and has no whitespace at its ends; joined by ``"\\n\\n"`` such pages stay clean.
    """
    pages_clean = all(page.text == done.text for page, done in zip(pages, cleaned, strict=True))
    if pages_clean and text == "\n\n".join(page.text for page in pages if page.text):
        return text
    return clean_text(text)


def _cleaned_page(page: Page) -> Page:
    """The page with its text cleaned and low-confidence OCR flagged; the same page when nothing changes."""
    text = clean_text(page.text)
    low = page.low_confidence or (page.ocr and page.confidence is not None and page.confidence < LOW_CONFIDENCE)
    if text == page.text and low == page.low_confidence:
        return page
    return dataclasses.replace(page, text=text, low_confidence=low)


def _warnings(result: ExtractionResult, pages: tuple[Page, ...]) -> tuple[str, ...]:
    """The extractor's warnings, its ``metadata["warnings"]``, and one for the pages OCR read poorly."""
    found = list(result.warnings)
    extra = result.metadata.get("warnings")
    if isinstance(extra, (list, tuple)):
        found.extend(str(item) for item in extra if str(item) not in found)
    low = [page.number for page in pages if page.low_confidence]
    if low:
        found.append(f"OCR confidence under {LOW_CONFIDENCE:.0f} on pages {', '.join(map(str, low))}")
    return tuple(found)


#: Metadata keys whose value names a character encoding, spelled one way (``codecs.lookup(x).name``).
ENCODING_KEYS = ("encoding", "charset")


def normalise_encoding_name(name: str) -> str:
    """One spelling per encoding: Python's canonical codec name with hyphens (``euc-jp``, ``utf-16-le``, ``cp932``).

    ``UTF-16LE``, ``utf_16_le`` and ``utf-16-le`` all become ``utf-16-le``; the
    result still names the codec (``codecs.lookup`` reads it back).
    """
    try:
        return codecs.lookup(name).name.replace("_", "-")
    except LookupError:
        return name.lower()


def _json_ready(value: Any) -> Any:
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(key): _json_ready(item) for key, item in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_json_ready(item) for item in value]
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def json_ready_metadata(metadata: Mapping[str, Any]) -> dict[str, Any]:
    """Metadata every sink can store: dates as ISO 8601 strings, encodings spelled one way."""
    ready = {str(key): _json_ready(value) for key, value in (metadata or {}).items()}
    for key in ENCODING_KEYS:
        if isinstance(ready.get(key), str):
            ready[key] = normalise_encoding_name(ready[key])
    return ready


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
    source: str | Path | bytes | IO[bytes],
    *,
    name: str | None = None,
    mime_type: str | None = None,
    options: ExtractOptions | None = None,
    plugins: Plugins | None = None,
) -> ExtractionResult:
    """Extract text, pages and metadata from a file path, from bytes, or from a binary file-like object.

    A file-like object is anything with ``read()`` returning bytes (an open file,
    ``io.BytesIO``, a boto3 ``StreamingBody``); it is copied to a private temp
    file, read from its current position to its end. Raises a
    :class:`~extractkit.errors.DocumentError` subclass when the document cannot
    be extracted; its ``reason`` says why.
    """
    plugins = plugins or default_plugins()
    if hasattr(source, "read"):
        stream_name = getattr(source, "name", None)
        name = name or (Path(stream_name).name if isinstance(stream_name, str) and stream_name else None)
    if isinstance(source, (bytes, bytearray, memoryview)) or hasattr(source, "read"):
        with tempfile.TemporaryDirectory(prefix="extractkit-") as workdir:
            fd, temp_path = tempfile.mkstemp(dir=workdir)
            with os.fdopen(fd, "wb") as handle:
                if hasattr(source, "read"):
                    _copy_stream(source, handle)  # type: ignore[arg-type]
                else:
                    handle.write(source)  # type: ignore[arg-type]
            document = local_document(
                temp_path, uri=f"bytes:{name or 'document'}", name=name or "document", mime_type=mime_type
            )
            return extract_document(document, plugins, options)
    return extract_document(local_document(source, name=name, mime_type=mime_type), plugins, options)


def _copy_stream(stream: IO[bytes], handle: IO[bytes]) -> None:
    """Copy a binary stream in chunks; a text stream is a usage error, not a crash."""
    first = stream.read(0)
    if not isinstance(first, (bytes, bytearray)):
        raise TypeError(f"extract() needs a binary stream; {type(stream).__name__} gives {type(first).__name__}")
    shutil.copyfileobj(stream, handle, 1024 * 1024)
