"""Embedded local index: SQLite FTS5 with the trigram tokenizer, searchable with ``extractkit search``.

Trigrams index Japanese without a morphological tokenizer. Queries of one or
two characters (common in Japanese: 東京, 猫) are below the trigram size and
fall back to a substring scan; Latin-script words match whole words. The query
syntax and the ranking are in :mod:`.search_query` and :mod:`.local_search`.
Documents are keyed by their id, so running the same job twice overwrites
instead of duplicating; each result keeps the source's fingerprint, so a re-run
can skip what has not changed.

Options: ``path`` (default ``.extractkit/index.db``).
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping, Sequence

from extractkit import Document, ExtractionResult, Failure, Sink, hookimpl
from extractkit.embedded import EMBEDDED_SEPARATOR
from extractkit.errors import DocumentError, ServiceError, ServiceUnreachable
from extractkit.hookspecs import RegisterClass
from extractkit.models import DELETE, FAILURE, RESULT, SearchHit, SinkRecord

from ..options import reject_unknown
from .local_search import page_starts
from .local_search import search as search_index

DEFAULT_PATH = ".extractkit/index.db"
#: Columns added after the first release, added to an older index file when it is opened for writing.
ADDED_COLUMNS = {"fingerprint": "TEXT", "page_starts": "TEXT"}

SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    id TEXT PRIMARY KEY,
    uri TEXT NOT NULL,
    name TEXT NOT NULL,
    mime_type TEXT,
    extractor TEXT,
    pages INTEGER,
    ocr_pages INTEGER,
    metadata TEXT,
    indexed_at TEXT,
    content TEXT,
    fingerprint TEXT,
    page_starts TEXT
);
CREATE VIRTUAL TABLE IF NOT EXISTS documents_fts USING fts5(
    name, content, content='documents', content_rowid='rowid', tokenize='trigram'
);
CREATE TRIGGER IF NOT EXISTS documents_ai AFTER INSERT ON documents BEGIN
    INSERT INTO documents_fts(rowid, name, content) VALUES (new.rowid, new.name, new.content);
END;
CREATE TRIGGER IF NOT EXISTS documents_ad AFTER DELETE ON documents BEGIN
    INSERT INTO documents_fts(documents_fts, rowid, name, content) VALUES ('delete', old.rowid, old.name, old.content);
END;
CREATE TRIGGER IF NOT EXISTS documents_au AFTER UPDATE ON documents BEGIN
    INSERT INTO documents_fts(documents_fts, rowid, name, content) VALUES ('delete', old.rowid, old.name, old.content);
    INSERT INTO documents_fts(rowid, name, content) VALUES (new.rowid, new.name, new.content);
END;
CREATE TABLE IF NOT EXISTS failures (
    id TEXT PRIMARY KEY,
    uri TEXT NOT NULL,
    stage TEXT, plugin TEXT, class TEXT, reason TEXT, message TEXT, attempts TEXT,
    recorded_at TEXT
);
"""


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class LocalIndex:
    """The SQLite file behind the sink and behind ``extractkit search``."""

    def __init__(self, path: str | Path = DEFAULT_PATH, *, create: bool = True) -> None:
        self.path = Path(path)
        if not create and not self.path.exists():
            raise ServiceUnreachable(f"no local index at '{self.path}'; run 'make run' or 'extractkit run' first")
        if create:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self.db = sqlite3.connect(str(self.path), check_same_thread=False, timeout=30)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        if create:
            self.db.executescript(SCHEMA)
            present = {row[1] for row in self.db.execute("PRAGMA table_info(documents)")}
            for column, kind in ADDED_COLUMNS.items():
                if column not in present:
                    self.db.execute(f"ALTER TABLE documents ADD COLUMN {column} {kind}")

    def upsert(self, document: Document, result: ExtractionResult) -> None:
        """Insert or replace one document; a stale failure record for it is dropped."""
        self.apply([SinkRecord.for_result(document, result)])

    def record_failure(self, failure: Failure) -> None:
        """Store a failure; the document's previous text, now stale, is removed."""
        self.apply([SinkRecord.for_failure(failure)])

    def delete(self, uri: str) -> None:
        """Remove a document and any failure recorded for it."""
        self.apply([SinkRecord.for_delete(uri)])

    def fingerprints(self, ids: Sequence[str]) -> dict[str, str]:
        """The fingerprint stored with each of ``ids`` that is indexed with one."""
        found: dict[str, str] = {}
        with self._lock:
            for start in range(0, len(ids), 500):
                chunk = list(ids[start : start + 500])
                marks = ",".join("?" * len(chunk))
                sql = f"SELECT id, fingerprint FROM documents WHERE fingerprint IS NOT NULL AND id IN ({marks})"  # noqa: S608
                found.update(self.db.execute(sql, chunk).fetchall())
        return found

    def apply(self, records: Iterable[SinkRecord]) -> None:
        """Store a batch of records in one transaction."""
        with self._lock, self.db:
            for record in records:
                if record.kind == RESULT and record.document is not None and record.result is not None:
                    self._upsert(record.document, record.result, record.attributes.get("fingerprint"))
                elif record.kind == FAILURE and record.failure is not None:
                    self._record_failure(record.failure)
                elif record.kind == DELETE:
                    self._delete_with_children(record)

    def _delete_with_children(self, record: SinkRecord) -> None:
        """Remove a document, its failure record, and every document embedded in it (``uri!/…``)."""
        prefix = record.uri + EMBEDDED_SEPARATOR
        for table in ("documents", "failures"):
            self.db.execute(f"DELETE FROM {table} WHERE id = ?", (record.document_id,))  # noqa: S608 (fixed names)
            self.db.execute(
                f"DELETE FROM {table} WHERE substr(uri, 1, ?) = ?",  # noqa: S608 (fixed names)
                (len(prefix), prefix),
            )

    def _upsert(self, document: Document, result: ExtractionResult, fingerprint: str | None = None) -> None:
        starts = page_starts(result.text, ((page.number, page.text) for page in result.pages))
        row = (
            document.id,
            document.uri,
            document.name,
            result.mime_type,
            result.extractor,
            len(result.pages),
            result.ocr_pages,
            json.dumps(dict(result.metadata), ensure_ascii=False, default=str),
            _now(),
            result.text,
            fingerprint,
            json.dumps(starts),
        )
        self.db.execute(
            """INSERT INTO documents (id, uri, name, mime_type, extractor, pages, ocr_pages, metadata,
               indexed_at, content, fingerprint, page_starts) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
               ON CONFLICT(id) DO UPDATE SET uri=excluded.uri, name=excluded.name,
               mime_type=excluded.mime_type, extractor=excluded.extractor, pages=excluded.pages,
               ocr_pages=excluded.ocr_pages, metadata=excluded.metadata, indexed_at=excluded.indexed_at,
               content=excluded.content, fingerprint=excluded.fingerprint, page_starts=excluded.page_starts""",
            row,
        )
        self.db.execute("DELETE FROM failures WHERE id = ?", (document.id,))

    def _record_failure(self, failure: Failure) -> None:
        self.db.execute(
            """INSERT OR REPLACE INTO failures (id, uri, stage, plugin, class, reason, message, attempts,
               recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            (
                failure.document_id,
                failure.uri,
                failure.stage,
                failure.plugin,
                failure.failure_class,
                failure.reason,
                failure.message,
                json.dumps([a.__dict__ for a in failure.attempts], ensure_ascii=False),
                _now(),
            ),
        )
        self.db.execute("DELETE FROM documents WHERE id = ?", (failure.document_id,))

    def search(self, query: str, limit: int = 10) -> list[SearchHit]:
        """The best matches for ``query`` (syntax in :mod:`.search_query`), best first, with page numbers."""
        with self._lock:
            return search_index(self.db, query, limit)

    def counts(self) -> dict[str, int]:
        """How many documents and failures the index holds."""
        with self._lock:
            documents = self.db.execute("SELECT count(*) FROM documents").fetchone()[0]
            failures = self.db.execute("SELECT count(*) FROM failures").fetchone()[0]
        return {"documents": documents, "failures": failures}

    def failures(self) -> list[dict[str, Any]]:
        """Every recorded failure."""
        with self._lock:
            cursor = self.db.execute("SELECT uri, stage, plugin, class, reason, message FROM failures ORDER BY uri")
            names = [c[0] for c in cursor.description]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self.db.close()


@contextlib.contextmanager
def _busy_is_transient(path: str) -> Iterator[None]:
    """A locked, full or unwritable database is worth retrying: raise it as a transient error."""
    try:
        yield
    except sqlite3.OperationalError as exc:
        raise ServiceError(f"local index '{path}' did not take the write ({exc}); it is retried") from exc


class LocalIndexSink(Sink):
    """Writes results and failures into a :class:`LocalIndex`."""

    name = "local_index"
    searchable = True

    def __init__(self, options: Mapping[str, Any] | None = None) -> None:
        super().__init__(options)
        reject_unknown("sink", self.options, ("path", "create"))
        self.path = str(self.options.get("path", DEFAULT_PATH))
        self.create = bool(self.options.get("create", True))
        self._index: LocalIndex | None = None

    @property
    def index(self) -> LocalIndex:
        """The open index, created on first use."""
        if self._index is None:
            if not self.create:
                _require_local_index_file(Path(self.path))
            try:
                self._index = LocalIndex(self.path, create=self.create)
            except sqlite3.Error as exc:
                raise ServiceUnreachable(f"local index '{self.path}' cannot be opened: {exc}") from exc
        return self._index

    def check(self) -> None:
        """The index file can be opened, or its folder created; changes nothing."""
        path = Path(self.path)
        if path.exists():
            _require_local_index_file(path)
            return
        existing = path.parent
        while not existing.exists() and existing != existing.parent:
            existing = existing.parent
        if not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK):
            raise ServiceUnreachable(f"local index '{self.path}' cannot be created (check [sink] path)")

    def search(self, query: str, limit: int = 10) -> list[SearchHit]:
        """Search the index (see :meth:`LocalIndex.search`)."""
        return self.index.search(query, limit=limit)

    def fingerprints(self, ids: Sequence[str]) -> dict[str, str]:
        """The fingerprints stored with these documents (for skipping unchanged files); none before the first run."""
        if self._index is None and not Path(self.path).exists():
            return {}
        with _busy_is_transient(self.path):
            return self.index.fingerprints(ids)

    def write(self, document: Document, result: ExtractionResult) -> None:
        """Index one document."""
        with _busy_is_transient(self.path):
            self.index.upsert(document, result)

    def write_failure(self, failure: Failure) -> None:
        """Record one failure."""
        with _busy_is_transient(self.path):
            self.index.record_failure(failure)

    def delete(self, uri: str) -> None:
        """Remove one document."""
        with _busy_is_transient(self.path):
            self.index.delete(uri)

    def write_batch(self, records: Sequence[SinkRecord]) -> list[DocumentError | None]:
        """Store the whole batch in one transaction: all of it is stored, or the batch is retried."""
        with _busy_is_transient(self.path):
            self.index.apply(records)
        return [None] * len(records)

    def close(self) -> None:
        """Close the index."""
        if self._index is not None:
            self._index.close()
            self._index = None


SQLITE_HEADER = b"SQLite format 3\x00"


def _require_local_index_file(path: Path) -> None:
    """Refuse, in one line, a path that is not a local index (a JSON Lines file, say)."""
    if not path.exists():
        raise ServiceUnreachable(f"no local index at '{path}'; run 'make run' or 'extractkit run' first")
    with path.open("rb") as handle:
        header = handle.read(len(SQLITE_HEADER))
    if header != SQLITE_HEADER:
        raise ServiceUnreachable(
            f"'{path}' is not a local index (search reads the SQLite file a 'local_index' sink writes; "
            "for an OpenSearch sink pass --config)"
        )


@hookimpl
def register_sinks(register: RegisterClass) -> None:
    """Register the local index sink."""
    register(LocalIndexSink)
