"""JSON Lines sink: one object per document result or failure, to a file or stdout.

Options: ``path`` (default ``-``, standard output), ``include_pages`` (default
true), ``mode``: ``upsert`` (default for a file) or ``append``.

During a run every record is appended, flushed and synced before the write
returns. With ``mode = "upsert"`` the file is compacted when the sink closes:
one line per document id, the last one written (a deletion stays as that
document's ``delete`` line and removes its embedded documents), so running the
same job twice leaves each document once. ``append`` keeps every line ever written; standard output always appends.
The lines follow the schema of :mod:`extractkit_plugins.local.json_records`.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import tempfile
import threading
from pathlib import Path
from typing import IO, Any, Mapping, Sequence

from extractkit import Document, ExtractionResult, Failure, Sink, hookimpl
from extractkit.errors import ConfigError, DocumentError, ServiceError, ServiceUnreachable
from extractkit.hookspecs import RegisterClass
from extractkit.models import FAILURE, RESULT, SinkRecord

from ..options import reject_unknown
from .json_records import delete_record, failure_record, result_record

log = logging.getLogger("extractkit.sink.jsonl")
MODES = ("upsert", "append")


class JsonlSink(Sink):
    """Appends one JSON object per line; each write is flushed and synced before it returns."""

    name = "jsonl"

    def __init__(self, options: Mapping[str, Any] | None = None) -> None:
        super().__init__(options)
        reject_unknown("sink", self.options, ("path", "include_pages", "mode"))
        self.path = str(self.options.get("path", "-"))
        self.include_pages = bool(self.options.get("include_pages", True))
        self.mode = str(self.options.get("mode", "upsert"))
        if self.mode not in MODES:
            raise ConfigError("sink.mode", f"expected one of {', '.join(MODES)}, got {self.mode!r}")
        self._handle: IO[str] | None = None
        self._fingerprints: dict[str, str] | None = None
        self._lock = threading.Lock()
        self._written = False

    @property
    def writes_to_stdout(self) -> bool:
        """True when the data goes to standard output (then nothing else may be printed there)."""
        return self.path == "-"

    def _out(self) -> IO[str]:
        if self._handle is None:
            if self.path == "-":
                self._handle = sys.stdout
            else:
                Path(self.path).parent.mkdir(parents=True, exist_ok=True)
                self._handle = open(self.path, "a", encoding="utf-8")  # noqa: SIM115
        return self._handle

    def _emit_lines(self, records: Sequence[dict[str, Any]]) -> None:
        text = "".join(json.dumps(record, ensure_ascii=False, default=str) + "\n" for record in records)
        try:
            with self._lock:
                handle = self._out()
                handle.write(text)
                handle.flush()
                if handle is not sys.stdout:
                    os.fsync(handle.fileno())
                self._written = True
                if self._fingerprints is not None:
                    for record in records:
                        self._remember(self._fingerprints, record)
        except OSError as exc:  # a full or vanished disk may come back: let the pipeline retry
            raise ServiceError(f"sink file '{self.path}' could not be written ({exc.strerror or exc})") from exc

    def _result_line(self, record: SinkRecord) -> dict[str, Any]:
        assert record.document is not None and record.result is not None
        return result_record(
            record.document.uri,
            record.document.name,
            record.result,
            include_pages=self.include_pages,
            fingerprint=record.attributes.get("fingerprint"),
        )

    def write(self, document: Document, result: ExtractionResult) -> None:
        """Append a result line."""
        self._emit_lines([self._result_line(SinkRecord.for_result(document, result))])

    def write_failure(self, failure: Failure) -> None:
        """Append a failure line."""
        self._emit_lines([failure_record(failure)])

    def delete(self, uri: str) -> None:
        """Append a deletion marker."""
        self._emit_lines([delete_record(uri)])

    def write_batch(self, records: Sequence[SinkRecord]) -> list[DocumentError | None]:
        """Append the whole batch with one flush and one fsync."""
        lines = []
        for record in records:
            if record.kind == RESULT and record.document is not None and record.result is not None:
                lines.append(self._result_line(record))
            elif record.kind == FAILURE and record.failure is not None:
                lines.append(failure_record(record.failure))
            else:
                lines.append(delete_record(record.uri))
        self._emit_lines(lines)
        return [None] * len(records)

    # -- skipping unchanged documents ------------------------------------------

    def fingerprints(self, ids: Sequence[str]) -> dict[str, str]:
        """The fingerprints stored with the latest result line of each of ``ids`` (read from the file once)."""
        with self._lock:
            if self._fingerprints is None:
                self._fingerprints = {}
                for record in self._read_existing():
                    self._remember(self._fingerprints, record)
            return {id_: self._fingerprints[id_] for id_ in ids if id_ in self._fingerprints}

    @staticmethod
    def _remember(table: dict[str, str], record: Mapping[str, Any]) -> None:
        fingerprint = record.get("fingerprint")
        if record.get("type") == "result" and fingerprint:
            table[str(record.get("id"))] = str(fingerprint)
        else:
            table.pop(str(record.get("id")), None)

    def _read_existing(self) -> list[dict[str, Any]]:
        if self.path == "-" or not Path(self.path).is_file():
            return []
        records = []
        with open(self.path, encoding="utf-8") as handle:
            for number, line in enumerate(handle, 1):
                if not line.strip():
                    continue
                try:
                    records.append(json.loads(line))
                except json.JSONDecodeError:
                    log.warning("%s line %d is not JSON; it is left out", self.path, number)
        return records

    # -- checking and closing -----------------------------------------------

    def check(self) -> None:
        """The output file, or the nearest existing folder above it, must be writable; changes nothing."""
        if self.path == "-":
            return
        target = Path(self.path)
        existing = target if target.exists() else target.parent
        while not existing.exists() and existing != existing.parent:
            existing = existing.parent
        if not os.access(existing, os.W_OK):
            raise ServiceUnreachable(f"sink path '{self.path}' is not writable; check [sink] path")

    def close(self) -> None:
        """Close the file (standard output stays open); in upsert mode, keep one line per document."""
        with self._lock:
            if self._handle is not None and self._handle is not sys.stdout:
                self._handle.close()
            self._handle = None
            written, self._written = self._written, False
        if written and self.mode == "upsert" and self.path != "-":
            self._compact()

    def _compact(self) -> None:
        latest: dict[str, dict[str, Any]] = {}
        for record in self._read_existing():
            if record.get("type") == "delete":
                uri = str(record.get("uri", ""))
                for key in [k for k, kept in latest.items() if str(kept.get("uri", "")).startswith(uri + "!/")]:
                    del latest[key]
            latest.pop(str(record.get("id")), None)  # re-insert: the order is that of the last write
            latest[str(record.get("id"))] = record
        target = Path(self.path)
        fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
        try:
            os.chmod(temporary, target.stat().st_mode & 0o7777)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                for record in latest.values():
                    handle.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, target)
        except OSError:
            Path(temporary).unlink(missing_ok=True)
            log.exception("could not compact %s; it keeps every line written", self.path)


@hookimpl
def register_sinks(register: RegisterClass) -> None:
    """Register the JSON Lines sink."""
    register(JsonlSink)
