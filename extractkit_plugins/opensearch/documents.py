"""The JSON bodies the sink indexes: a document from a result, a failure record, and their versions.

Embedded documents (a mail attachment, an archive member) say where they sit through
``Document.source_metadata`` or the record's attributes: ``parent_uri`` (or ``parent_id``), the
top-level ``root_uri`` (or ``root_id``; the parent when absent) and ``embedded_path`` (the path
inside the parent). They are stored with ``parent_id``, ``root_id`` and ``path``, so deleting the
top-level document finds and deletes them too.

Versions: ``last_modified_ms`` (set by the S3 source) is the external version of a document and
of its failure record, so an older event arriving after a newer one cannot overwrite it; a
deletion uses its ``event_time`` (ISO 8601) the same way.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import PurePosixPath
from typing import Any, Mapping

from extractkit.models import Document, ExtractionResult, Failure, SinkRecord, document_id_for

_KANA = re.compile(r"[\u3040-\u30ff\u31f0-\u31ff\uff66-\uff9f]")
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_HANGUL = re.compile(r"[\uac00-\ud7af\u1100-\u11ff]")
_LATIN_WORD = re.compile(r"[A-Za-z]{2,}")
_LANGUAGE_SAMPLE_CHARS = 20_000
METADATA_VALUE_CHARS = 2000


def now_iso() -> str:
    """The current UTC time as ISO 8601 with milliseconds."""
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def event_time_ms(value: Any) -> int | None:
    """Milliseconds since the epoch for an ISO 8601 time (``2026-01-02T03:04:05.678Z``), else ``None``."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str) and value:
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    else:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def _version(value: Any) -> int | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        version = int(value)
    except (TypeError, ValueError):
        return None
    return version if version >= 0 else None


def record_version(record: SinkRecord) -> int | None:
    """The external version for a record's write, or ``None`` to write without one."""
    if record.kind == "delete":
        return event_time_ms(record.attributes.get("event_time"))
    if record.document is not None:
        found = _version(record.document.source_metadata.get("last_modified_ms"))
        if found is not None:
            return found
    return _version(record.attributes.get("last_modified_ms"))


def _lookup(record: SinkRecord, key: str) -> Any:
    if record.document is not None and record.document.source_metadata.get(key) not in (None, ""):
        return record.document.source_metadata[key]
    value = record.attributes.get(key)
    return None if value == "" else value


def embedding_fields(record: SinkRecord) -> dict[str, Any]:
    """``parent_id``, ``root_id`` and ``path`` for an embedded document (empty for a top-level one)."""
    parent_id = _lookup(record, "parent_id")
    parent_uri = _lookup(record, "parent_uri")
    if not parent_id and parent_uri:
        parent_id = document_id_for(str(parent_uri))
    if not parent_id:
        return {}
    root_id = _lookup(record, "root_id")
    root_uri = _lookup(record, "root_uri")
    if not root_id:
        root_id = document_id_for(str(root_uri)) if root_uri else parent_id
    fields: dict[str, Any] = {"parent_id": str(parent_id), "root_id": str(root_id)}
    path = _lookup(record, "embedded_path")
    if path:
        fields["path"] = str(path)
    return fields


def _split_uri(uri: str) -> tuple[str | None, str]:
    if uri.startswith("s3://"):
        bucket, _, key = uri[5:].partition("/")
        return bucket, key
    return None, uri


def file_fields(record: SinkRecord, name: str | None = None) -> dict[str, Any]:
    """Where the file lives: uri, bucket, key, name and extension."""
    bucket, key = _split_uri(record.uri)
    bucket = _lookup(record, "bucket") or bucket
    key = _lookup(record, "key") or key
    name = name or (record.document.name if record.document else None) or PurePosixPath(str(key)).name
    extension = PurePosixPath(name).suffix.lower().lstrip(".")
    fields = {"uri": record.uri, "bucket": bucket, "key": key, "name": name, "extension": extension or None}
    return {k: v for k, v in fields.items() if v is not None}


def languages_of(text: str) -> list[str]:
    """Language codes for the scripts seen in the text: ``ja`` (kana, or kanji), ``ko`` (hangul), ``en`` (Latin)."""
    sample = text[:_LANGUAGE_SAMPLE_CHARS]
    found = []
    if _KANA.search(sample) or _HAN.search(sample):
        found.append("ja")
    if _HANGUL.search(sample):
        found.append("ko")
    if _LATIN_WORD.search(sample):
        found.append("en")
    return found


def _metadata_value(value: Any) -> Any:
    if isinstance(value, str):
        return value[:METADATA_VALUE_CHARS]
    if isinstance(value, (bool, int, float)) or value is None:
        return value
    if isinstance(value, (list, tuple)):
        return [_metadata_value(item) for item in list(value)[:100]]
    if isinstance(value, Mapping):
        return {str(k): _metadata_value(v) for k, v in list(value.items())[:100]}
    return str(value)[:METADATA_VALUE_CHARS]


def _pages(result: ExtractionResult, budget: int) -> tuple[list[dict[str, Any]], bool]:
    pages, truncated = [], False
    for page in result.pages:
        text = page.text
        if len(text) > budget:
            text, truncated = text[: max(0, budget)], True
        budget -= len(text)
        entry: dict[str, Any] = {"number": page.number, "text": text, "ocr": page.ocr}
        if page.confidence is not None:
            entry["confidence"] = page.confidence
        if page.engine:
            entry["engine"] = page.engine
        if page.low_confidence:
            entry["low_confidence"] = True
        if page.failure:
            entry["failure"] = {"reason": page.failure.reason, "message": page.failure.message}
        pages.append(entry)
    return pages, truncated


def document_body(
    record: SinkRecord, *, max_content_chars: int, index_pages: bool = True, extracted_at: str | None = None
) -> dict[str, Any]:
    """The ``<index>`` document for a result record (content cut at ``max_content_chars``)."""
    document: Document = record.document  # type: ignore[assignment]
    result: ExtractionResult = record.result  # type: ignore[assignment]
    metadata = result.metadata
    content = result.text
    truncated = len(content) > max_content_chars
    body: dict[str, Any] = {
        **file_fields(record),
        "mime_type": result.mime_type or document.mime_type,
        "size": document.size,
        "content": content[:max_content_chars],
        "content_truncated": truncated,
        "page_count": metadata.get("page_count", len(result.pages)),
        "ocr_page_count": result.ocr_pages,
        "extractor": result.extractor,
        "extracted_at": extracted_at or now_iso(),
        "status": "indexed",
        **embedding_fields(record),
    }
    if result.warnings:
        body["warnings"] = list(result.warnings)
    if index_pages and result.pages:
        body["pages"], pages_truncated = _pages(result, max_content_chars)
        body["content_truncated"] = truncated or pages_truncated
    source = document.source_metadata
    for field in ("etag", "version_id", "last_modified"):
        if source.get(field):
            body[field] = source[field]
    for field in ("title", "author", "created", "modified"):
        if metadata.get(field) not in (None, ""):
            body[field] = _metadata_value(metadata[field])
    languages = metadata.get("languages") or metadata.get("language")
    body["languages"] = (
        ([str(lang) for lang in languages] if isinstance(languages, (list, tuple)) else [str(languages)])
        if languages
        else languages_of(content)
    )
    processing = record.attributes.get("processing_time", metadata.get("processing_time"))
    if isinstance(processing, (int, float)) and not isinstance(processing, bool):
        body["processing_time"] = float(processing)
    body["metadata"] = _metadata_value(dict(metadata))
    return body


def failure_body(record: SinkRecord, *, failed_at: str | None = None) -> dict[str, Any]:
    """The ``<index>-failures`` document for a failure record."""
    failure: Failure = record.failure  # type: ignore[assignment]
    attempts = [
        {"plugin": a.plugin, "reason": a.reason, "message": a.message[:METADATA_VALUE_CHARS]} for a in failure.attempts
    ]
    attempt_count = record.attributes.get("attempts_made")
    body: dict[str, Any] = {
        **file_fields(record),
        "stage": failure.stage,
        "plugin": failure.plugin,
        "class": failure.failure_class,
        "reason": failure.reason,
        "message": failure.message[: METADATA_VALUE_CHARS * 4],
        "attempts": attempts,
        "attempt_count": attempt_count if isinstance(attempt_count, int) else max(1, len(attempts)),
        "failed_at": failed_at or now_iso(),
        "status": "failed",
        **embedding_fields(record),
    }
    if failure.mime_type:
        body["mime_type"] = failure.mime_type
    return body
