"""The ``opensearch`` sink: one bulk request per batch, every item checked, stale events refused.

Results go to ``<index>`` (option ``index``, default ``file-index``, or ``OPENSEARCH_INDEX``)
under ``_id`` = sha256 of the document URI, so a redelivered message overwrites; failure records
go to ``<index>-failures`` under the same id, so an operator can query what failed and why. A
later result deletes the document's failure record; a deletion removes the document, its
failure record and its embedded children. Writes carry an external version
(``version_type=external_gte``: the object's last-modified time, a deletion's event time) where
one is known, so an older event that arrives late is dropped rather than stored.

Templates are installed and both indices created on the first write (see :mod:`.index_template`);
``check()`` only reads. Options beyond the client's (:mod:`.client`): ``analyzer`` (``auto``,
``kuromoji``, ``cjk``, ``standard``), ``max_content_chars`` (1,000,000; longer text is cut and
``content_truncated`` set), ``index_pages`` (true: pages as nested objects, for the page of a
hit), ``refresh`` (false, true or ``wait_for``, passed to each bulk request), and the batch
bounds ``batch_max_records`` (200), ``batch_max_bytes`` (5 MiB: Amazon OpenSearch Service caps a
request at 10 MiB on small instances) and ``batch_linger_seconds`` (0.2).
"""

from __future__ import annotations

import logging
import os
import threading
from typing import Any, Mapping, Sequence

from extractkit import Document, ExtractionResult, Failure, Sink, hookimpl
from extractkit.errors import PERMANENT, ConfigError, DocumentError, ServiceUnreachable, SinkFailed
from extractkit.hookspecs import RegisterClass
from extractkit.models import DELETE, FAILURE, RESULT, SearchHit, SinkRecord

from ..options import reject_unknown
from . import bulk, index_template
from .client import (
    CLIENT_OPTIONS,
    SECTION,
    ClientSettings,
    as_bool,
    aws_service_for_host,
    build_client,
    is_client_error,
    status_of,
    transient_error_for,
    unreachable_message,
)
from .documents import document_body, failure_body, record_version
from .search import hits_from_answer, search_body

log = logging.getLogger("extractkit.sink.opensearch")

DEFAULT_INDEX = "file-index"
DEFAULT_MAX_CONTENT_CHARS = 1_000_000
SINK_OPTIONS = (
    "index",
    "analyzer",
    "max_content_chars",
    "index_pages",
    "refresh",
    "batch_max_records",
    "batch_max_bytes",
    "batch_linger_seconds",
)
CHILDREN_PAGE = 1000


def _positive(key: str, value: Any, kind: type) -> Any:
    try:
        number = kind(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{SECTION}.{key}", f"expected a positive number, got {value!r}") from None
    if isinstance(value, bool) or number <= 0:
        raise ConfigError(f"{SECTION}.{key}", f"expected a positive number, got {value!r}")
    return number


class OpenSearchSink(Sink):
    """Indexes results and failure records into OpenSearch through the bulk API."""

    name = "opensearch"
    searchable = True
    batch_max_records = 200
    batch_max_bytes = 5 * 1024 * 1024
    batch_linger_seconds = 0.2

    def __init__(self, options: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None) -> None:
        super().__init__(options)
        reject_unknown(SECTION, self.options, (*CLIENT_OPTIONS, *SINK_OPTIONS))
        env = os.environ if environ is None else environ
        self.settings = ClientSettings.from_options(self.options, env)
        self.index = str(self.options.get("index") or env.get("OPENSEARCH_INDEX") or DEFAULT_INDEX)
        if self.index != self.index.lower() or self.index.startswith(("_", "-", "+")) or "," in self.index:
            raise ConfigError(f"{SECTION}.index", f"not a valid index name: {self.index!r} (lowercase, no commas)")
        self.failures_index = f"{self.index}-failures"
        self.analyzer = str(self.options.get("analyzer", "auto")).lower()
        if self.analyzer not in index_template.ANALYSIS_CHOICES:
            choices = ", ".join(index_template.ANALYSIS_CHOICES)
            raise ConfigError(f"{SECTION}.analyzer", f"expected one of {choices}, got {self.analyzer!r}")
        self.max_content_chars = _positive(
            "max_content_chars", self.options.get("max_content_chars", DEFAULT_MAX_CONTENT_CHARS), int
        )
        self.index_pages = as_bool("index_pages", self.options.get("index_pages", True))
        refresh = self.options.get("refresh", False)
        if refresh not in (False, True, "false", "true", "wait_for"):
            raise ConfigError(f"{SECTION}.refresh", f"expected false, true or wait_for, got {refresh!r}")
        self.refresh = {True: "true", False: None, "false": None}.get(refresh, refresh)
        for key, kind in (("batch_max_records", int), ("batch_max_bytes", int), ("batch_linger_seconds", float)):
            if key in self.options:
                setattr(self, key, _positive(key, self.options[key], kind))
        self._client: Any = None
        self._ready = False
        self._ready_lock = threading.Lock()
        #: The analysis the installed templates use, once known.
        self.analysis: str | None = None

    # -- the client and the indices ------------------------------------------

    @property
    def client(self) -> Any:
        """The ``opensearchpy.OpenSearch`` client, built on first use."""
        if self._client is None:
            self._client = build_client(self.settings)
        return self._client

    def choose_analysis(self) -> str:
        """The analysis for the templates: the ``analyzer`` option, or the best the cluster's plugins allow."""
        if self.analyzer != "auto":
            return self.analyzer
        try:
            nodes = self.client.nodes.info(metric="plugins")
        except Exception as exc:
            status = status_of(exc)
            if not is_client_error(exc) or status is None or status >= 500 or status == 429:
                raise
            host = self.settings.endpoint.split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0]
            # Amazon OpenSearch Service may refuse _nodes; every domain has kuromoji and ICU.
            fallback = "kuromoji" if aws_service_for_host(host) else "standard"
            log.warning("GET _nodes/plugins answered HTTP %s; using the %s analysis", status, fallback)
            return fallback
        return index_template.analysis_for_nodes(nodes)

    def ensure_ready(self) -> None:
        """Install the templates and create both indices, once (safe to repeat, and across workers)."""
        if self._ready:
            return
        with self._ready_lock:
            if self._ready:
                return
            try:
                self._install()
            except Exception as exc:
                if is_client_error(exc):
                    raise transient_error_for(exc, "setting up the indices") from exc
                raise
            self._ready = True

    def _install(self) -> None:
        analysis = self.choose_analysis()
        wanted = index_template.build_templates(self.index, self.failures_index, analysis, self.max_content_chars)
        installed: dict[str, Mapping[str, Any] | None] = {}
        for name in wanted:
            answer = self.client.indices.get_index_template(name=name, ignore=404)
            installed[name] = index_template.installed_template_meta(answer, name)
        for name in index_template.templates_to_install(wanted, installed):
            log.info("installing index template %s (%s analysis)", name, analysis)
            self.client.indices.put_index_template(name=name, body=wanted[name])
        for index in (self.index, self.failures_index):
            if self.client.indices.exists(index=index):
                continue
            try:
                self.client.indices.create(index=index)
            except Exception as exc:
                # Another worker created it first.
                if "resource_already_exists_exception" not in str(getattr(exc, "error", "")):
                    raise
        self.analysis = analysis

    # -- writing -------------------------------------------------------------

    def write_batch(self, records: Sequence[SinkRecord]) -> list[DocumentError | None]:
        """Store the batch in one bulk request and answer for each record from its own items."""
        if not records:
            return []
        self.ensure_ready()
        preset: dict[int, DocumentError] = {}
        actions: list[bulk.BulkAction] = []
        for position, record in enumerate(records):
            try:
                actions.extend(self._actions_for(position, record))
            except (ValueError, TypeError) as exc:
                preset[position] = SinkFailed(f"malformed {record.kind} record for {record.uri}: {exc}")
        deletions = [(position, r) for position, r in enumerate(records) if r.kind == DELETE and position not in preset]
        if deletions:
            actions.extend(self._children_deletions(deletions))
        outcomes: list[DocumentError | None] = [None] * len(records)
        if actions:
            outcomes = self._send(records, actions)
        for position, error in preset.items():
            outcomes[position] = error
        return outcomes

    def _actions_for(self, position: int, record: SinkRecord) -> list[bulk.BulkAction]:
        version = record_version(record)
        doc_id = record.document_id
        if record.kind == RESULT:
            if record.document is None or record.result is None:
                raise ValueError("a result record needs a document and a result")
            body = document_body(record, max_content_chars=self.max_content_chars, index_pages=self.index_pages)
            return [
                bulk.BulkAction(position, bulk.INDEX, self.index, doc_id, body, version),
                bulk.BulkAction(position, bulk.DELETE, self.failures_index, doc_id, None, version, primary=False),
            ]
        if record.kind == FAILURE:
            if record.failure is None:
                raise ValueError("a failure record needs a failure")
            body = failure_body(record)
            actions = [bulk.BulkAction(position, bulk.INDEX, self.failures_index, doc_id, body, version)]
            if record.failure.failure_class == PERMANENT:
                # The stored text belongs to a version of the file that no longer reads.
                actions.append(bulk.BulkAction(position, bulk.DELETE, self.index, doc_id, None, version, primary=False))
            return actions
        if record.kind == DELETE:
            return [
                bulk.BulkAction(position, bulk.DELETE, self.index, doc_id, None, version),
                bulk.BulkAction(position, bulk.DELETE, self.failures_index, doc_id, None, version, primary=False),
            ]
        raise ValueError(f"unknown record kind {record.kind!r}")

    def _children_deletions(self, deletions: list[tuple[int, SinkRecord]]) -> list[bulk.BulkAction]:
        """Delete actions for every embedded document (and failure record) under the deleted documents.

        Children carry their top-level document's version, so the parent's version on their
        deletion makes a stale deletion spare them exactly when it spares the parent.
        """
        by_id = {record.document_id: (position, record_version(record)) for position, record in deletions}
        try:
            self.client.indices.refresh(index=f"{self.index},{self.failures_index}")
            actions = []
            for index in (self.index, self.failures_index):
                for hit in self._children_hits(index, list(by_id)):
                    source = hit.get("_source") or {}
                    owner = by_id.get(source.get("root_id")) or by_id.get(source.get("parent_id"))
                    if owner is not None and hit["_id"] not in by_id:
                        actions.append(bulk.BulkAction(owner[0], bulk.DELETE, index, hit["_id"], None, owner[1], False))
            return actions
        except Exception as exc:
            if is_client_error(exc):
                raise transient_error_for(exc, "finding the embedded documents to delete") from exc
            raise

    def _children_hits(self, index: str, ids: list[str]) -> list[Mapping[str, Any]]:
        query = {"bool": {"should": [{"terms": {"root_id": ids}}, {"terms": {"parent_id": ids}}]}}
        hits: list[Mapping[str, Any]] = []
        after: list[Any] | None = None
        while True:
            body: dict[str, Any] = {
                "size": CHILDREN_PAGE,
                "query": query,
                "_source": ["root_id", "parent_id"],
                "sort": [{"uri": "asc"}],
            }
            if after is not None:
                body["search_after"] = after
            page = self.client.search(index=index, body=body)["hits"]["hits"]
            hits.extend(page)
            if len(page) < CHILDREN_PAGE:
                return hits
            after = page[-1]["sort"]

    def _send(self, records: Sequence[SinkRecord], actions: list[bulk.BulkAction]) -> list[DocumentError | None]:
        params = {"refresh": self.refresh} if self.refresh else {}
        try:
            answer = self.client.bulk(body=bulk.bulk_body(actions), params=params)
        except Exception as exc:
            if not is_client_error(exc):
                raise
            if status_of(exc) == 413:
                return self._split_too_large(records, actions)
            raise transient_error_for(exc, f"a bulk request of {len(records)} records") from exc
        return bulk.record_outcomes(answer, actions, len(records))

    def _split_too_large(
        self, records: Sequence[SinkRecord], actions: list[bulk.BulkAction]
    ) -> list[DocumentError | None]:
        """A request over the cluster's size limit: send it in halves; a single record that is too big fails alone."""
        if len(records) == 1:
            return [SinkFailed("the document is too large for one OpenSearch request (HTTP 413)")]
        middle = len(records) // 2
        halves = []
        for first, last in ((0, middle), (middle, len(records))):
            part = [
                bulk.BulkAction(a.record - first, a.op, a.index, a.id, a.body, a.version, a.primary)
                for a in actions
                if first <= a.record < last
            ]
            halves.extend(self._send(records[first:last], part))
        return halves

    def _write_one(self, record: SinkRecord) -> None:
        error = self.write_batch([record])[0]
        if error is not None:
            raise error

    def write(self, document: Document, result: ExtractionResult) -> None:
        """Index one document (a batch of one)."""
        self._write_one(SinkRecord.for_result(document, result))

    def write_failure(self, failure: Failure) -> None:
        """Index one failure record (a batch of one)."""
        self._write_one(SinkRecord.for_failure(failure))

    def delete(self, uri: str) -> None:
        """Delete one document, its failure record and its children (a batch of one)."""
        self._write_one(SinkRecord.for_delete(uri))

    # -- reading -------------------------------------------------------------

    def search(self, query: str, limit: int = 10) -> list[SearchHit]:
        """The best matches for ``query`` (see :mod:`.search`); an index not yet created has none."""
        if not query.strip():
            return []
        try:
            answer = self.client.search(index=self.index, body=search_body(query, limit))
        except Exception as exc:
            if not is_client_error(exc):
                raise
            if status_of(exc) == 404:
                return []
            raise ServiceUnreachable(unreachable_message(exc, self.settings.endpoint)) from exc
        return hits_from_answer(answer)

    def prepare(self) -> None:
        """Install the index templates and create both indices before the first batch."""
        self.ensure_ready()

    def check(self) -> None:
        """The cluster answers and accepts our credentials; nothing is created or changed."""
        try:
            self.client.info()
        except Exception as exc:
            if not is_client_error(exc):
                raise
            raise ServiceUnreachable(unreachable_message(exc, self.settings.endpoint)) from exc

    def close(self) -> None:
        """Every write was sent synchronously; release the connections."""
        if self._client is not None:
            try:
                self._client.close()
            finally:
                self._client = None


@hookimpl
def register_sinks(register: RegisterClass) -> None:
    """Register the OpenSearch sink."""
    register(OpenSearchSink)
