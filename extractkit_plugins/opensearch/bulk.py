"""Bulk actions for sink records, and the verdict for each record from every item of the bulk answer.

One record can need several actions: a result is indexed into ``<index>`` and its old failure
record is deleted; a failure record is indexed into ``<index>-failures`` (and a permanent one
removes the now stale document); a deletion removes the document, its failure record and its
embedded children. The record's *primary* action decides its fate; the others only make it
transient when they were throttled, since repeating the whole record is harmless.

Item statuses: 2xx stored; 404 on a delete, nothing to delete; 409 (a version conflict), a newer
version is stored, which counts as done; 429 ``Throttled`` and 5xx ``ServiceError`` (transient,
retried by the pipeline); anything else (400 ``mapper_parsing_exception`` and the like) a
permanent ``SinkFailed`` for that record only.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Sequence

from extractkit.errors import DocumentError, ServiceError, SinkFailed, Throttled, TransientError

log = logging.getLogger("extractkit.sink.opensearch")

INDEX = "index"
DELETE = "delete"
MAX_REASON_CHARS = 300


@dataclass(frozen=True)
class BulkAction:
    """One line (plus its body) of a bulk request, and the record it serves."""

    record: int
    op: str
    index: str
    id: str
    body: Mapping[str, Any] | None = None
    version: int | None = None
    primary: bool = True

    def header(self) -> dict[str, Any]:
        """The action line of the bulk request."""
        meta: dict[str, Any] = {"_index": self.index, "_id": self.id}
        if self.version is not None:
            meta["version"] = self.version
            meta["version_type"] = "external_gte"
        return {self.op: meta}


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)


def bulk_body(actions: Iterable[BulkAction]) -> bytes:
    """The newline-delimited JSON body of a bulk request."""
    lines = []
    for action in actions:
        lines.append(_dumps(action.header()))
        if action.op == INDEX:
            lines.append(_dumps(action.body))
    return ("\n".join(lines) + "\n").encode("utf-8")


def _describe(error: Any) -> str:
    if isinstance(error, Mapping):
        text = f"{error.get('type', 'error')}: {error.get('reason', '')}"
        cause = error.get("caused_by")
        if isinstance(cause, Mapping):
            text += f" (caused by {cause.get('type', '')}: {cause.get('reason', '')})"
        return text[:MAX_REASON_CHARS]
    return str(error)[:MAX_REASON_CHARS]


def item_error(item: Mapping[str, Any], action: BulkAction) -> DocumentError | None:
    """The error for one bulk answer item, or ``None`` when it counts as done."""
    answer = next(iter(item.values()), {}) if item else {}
    status = int(answer.get("status", 0) or 0)
    if 200 <= status < 300:
        return None
    if status == 404 and action.op == DELETE:
        return None
    error = answer.get("error")
    error_type = error.get("type") if isinstance(error, Mapping) else None
    if status == 409 and error_type in (None, "version_conflict_engine_exception"):
        log.debug("%s %s/%s: a newer version is stored; the older event is dropped", action.op, action.index, action.id)
        return None
    where = f"{action.op} into {action.index}"
    if status == 429:
        return Throttled(f"OpenSearch throttled the {where} (HTTP 429: {_describe(error)}); it is retried")
    if status >= 500 or status == 0:
        return ServiceError(f"OpenSearch failed the {where} (HTTP {status}: {_describe(error)}); it is retried")
    return SinkFailed(f"OpenSearch refused the {where} (HTTP {status}: {_describe(error)})")


def record_outcomes(
    answer: Mapping[str, Any], actions: Sequence[BulkAction], record_count: int
) -> list[DocumentError | None]:
    """Each record's outcome from every item of a bulk answer (which must answer every action, in order)."""
    items = answer.get("items")
    if not isinstance(items, list) or len(items) != len(actions):
        found = len(items) if isinstance(items, list) else "no"
        return [ServiceError(f"OpenSearch answered {found} bulk items for {len(actions)} actions")] * record_count
    permanent: list[DocumentError | None] = [None] * record_count
    transient: list[DocumentError | None] = [None] * record_count
    for item, action in zip(items, actions, strict=True):
        error = item_error(item, action)
        if error is None:
            continue
        if isinstance(error, TransientError):
            transient[action.record] = transient[action.record] or error
        elif action.primary:
            permanent[action.record] = permanent[action.record] or error
        else:
            log.warning("a secondary bulk action failed for good (%s/%s): %s", action.index, action.id, error.message)
    return [permanent[i] or transient[i] for i in range(record_count)]
