"""JSON Lines sink: one object per document result or failure, to a file or stdout.

Options: ``path`` (default ``-``, standard output), ``include_pages`` (default true).
"""

from __future__ import annotations

import json
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, Mapping, Sequence

from extractkit import Document, ExtractionResult, Failure, Sink, hookimpl
from extractkit.errors import DocumentError, ServiceError
from extractkit.models import FAILURE, RESULT, SinkRecord, document_id_for

from ..options import reject_unknown


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class JsonlSink(Sink):
    """Appends one JSON object per line; each write is flushed and synced before it returns."""

    name = "jsonl"

    def __init__(self, options: Mapping[str, Any] | None = None) -> None:
        super().__init__(options)
        reject_unknown("sink", self.options, ("path", "include_pages"))
        self.path = str(self.options.get("path", "-"))
        self.include_pages = bool(self.options.get("include_pages", True))
        self._handle: IO[str] | None = None

    def _out(self) -> IO[str]:
        if self._handle is None:
            if self.path == "-":
                self._handle = sys.stdout
            else:
                Path(self.path).parent.mkdir(parents=True, exist_ok=True)
                self._handle = open(self.path, "a", encoding="utf-8")  # noqa: SIM115
        return self._handle

    def _emit(self, record: dict[str, Any]) -> None:
        self._emit_lines([record])

    def _emit_lines(self, records: Sequence[dict[str, Any]]) -> None:
        text = "".join(json.dumps(record, ensure_ascii=False, default=str) + "\n" for record in records)
        try:
            handle = self._out()
            handle.write(text)
            handle.flush()
            if handle is not sys.stdout:
                os.fsync(handle.fileno())
        except OSError as exc:  # a full or vanished disk may come back: let the pipeline retry
            raise ServiceError(f"sink file '{self.path}' could not be written ({exc.strerror or exc})") from exc

    def write(self, document: Document, result: ExtractionResult) -> None:
        """Append a result line."""
        self._emit(self._result_line(document, result))

    def _result_line(self, document: Document, result: ExtractionResult) -> dict[str, Any]:
        record: dict[str, Any] = {"type": "result", "id": document.id, "uri": document.uri, "name": document.name}
        record.update(result.to_dict())
        if not self.include_pages:
            record.pop("pages")
        record["indexed_at"] = _now()
        return record

    def write_failure(self, failure: Failure) -> None:
        """Append a failure line."""
        self._emit(self._failure_line(failure))

    @staticmethod
    def _failure_line(failure: Failure) -> dict[str, Any]:
        return {"type": "failure", "id": failure.document_id, **failure.to_dict(), "recorded_at": _now()}

    def delete(self, uri: str) -> None:
        """Append a deletion marker."""
        self._emit(self._delete_line(uri))

    @staticmethod
    def _delete_line(uri: str) -> dict[str, Any]:
        return {"type": "delete", "id": document_id_for(uri), "uri": uri, "recorded_at": _now()}

    def write_batch(self, records: Sequence[SinkRecord]) -> list[DocumentError | None]:
        """Append the whole batch with one flush and one fsync."""
        lines = []
        for record in records:
            if record.kind == RESULT and record.document is not None and record.result is not None:
                lines.append(self._result_line(record.document, record.result))
            elif record.kind == FAILURE and record.failure is not None:
                lines.append(self._failure_line(record.failure))
            else:
                lines.append(self._delete_line(record.uri))
        self._emit_lines(lines)
        return [None] * len(records)

    def check(self) -> None:
        """The output file, or the nearest existing folder above it, must be writable; changes nothing."""
        if self.path == "-":
            return
        from extractkit.errors import ServiceUnreachable

        target = Path(self.path)
        existing = target if target.exists() else target.parent
        while not existing.exists() and existing != existing.parent:
            existing = existing.parent
        if not os.access(existing, os.W_OK):
            raise ServiceUnreachable(f"sink path '{self.path}' is not writable; check [sink] path")

    def close(self) -> None:
        """Close the file (standard output stays open)."""
        if self._handle is not None and self._handle is not sys.stdout:
            self._handle.close()
        self._handle = None


@hookimpl
def register_sinks(register):
    """Register the JSON Lines sink."""
    register(JsonlSink)
