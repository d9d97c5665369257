"""The one JSON shape of a result, a failure and a deletion: ``extract --format json`` and the JSONL sink.

Every record has ``schema_version`` (:data:`SCHEMA_VERSION`), ``type``
(``result``, ``failure`` or ``delete``), ``id``, ``uri``, ``name`` and
``recorded_at``. A result adds ``mime_type``, ``extractor``, ``text``, ``pages``
(unless left out), ``metadata`` and, from a folder source, ``fingerprint``. A
failure adds ``stage``, ``plugin``, ``class``, ``reason``, ``message``,
``attempts`` and ``mime_type``. ``extract`` adds ``path``, the file as given.
The schema is documented in docs/user-guide.md; a new field is added without
changing the version, a changed or removed one raises it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from extractkit.models import ExtractionResult, Failure, document_id_for
from extractkit.processing import json_ready_metadata, location_of

SCHEMA_VERSION = 1


def now() -> str:
    """The current time as an ISO 8601 UTC string, to the second."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def result_record(
    uri: str,
    name: str,
    result: ExtractionResult,
    *,
    include_pages: bool = True,
    fingerprint: str | None = None,
) -> dict[str, Any]:
    """The record of an extracted document."""
    record: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "type": "result",
        "id": document_id_for(uri),
        "uri": uri,
        "name": name,
        "mime_type": result.mime_type,
        "extractor": result.extractor,
        "text": result.text,
        "metadata": json_ready_metadata(result.metadata),
    }
    if include_pages:
        record["pages"] = [
            {
                "number": p.number,
                "text": p.text,
                "ocr": p.ocr,
                "confidence": p.confidence,
                "engine": p.engine,
                "low_confidence": p.low_confidence,
                **({"failure": {"reason": p.failure.reason, "message": p.failure.message}} if p.failure else {}),
            }
            for p in result.pages
        ]
    if result.warnings:
        record["warnings"] = list(result.warnings)
    if fingerprint:
        record["fingerprint"] = fingerprint
    record["recorded_at"] = now()
    return record


def failure_record(failure: Failure) -> dict[str, Any]:
    """The record of a document that could not be indexed."""
    return {
        "schema_version": SCHEMA_VERSION,
        "type": "failure",
        "id": failure.document_id or document_id_for(failure.uri),
        "uri": failure.uri,
        "name": Path(location_of(failure.uri)).name,
        "stage": failure.stage,
        "plugin": failure.plugin,
        "class": failure.failure_class,
        "reason": failure.reason,
        "message": failure.message,
        "attempts": [{"plugin": a.plugin, "reason": a.reason, "message": a.message} for a in failure.attempts],
        "mime_type": failure.mime_type,
        "recorded_at": now(),
    }


def delete_record(uri: str) -> dict[str, Any]:
    """The record of a document removed at its origin."""
    return {
        "schema_version": SCHEMA_VERSION,
        "type": "delete",
        "id": document_id_for(uri),
        "uri": uri,
        "name": Path(location_of(uri)).name,
        "recorded_at": now(),
    }
