"""The ``opensearch`` sink against the real OpenSearch node that ``scripts/services.sh`` starts.

Each test works in indices of its own (a random name), so tests of other modules running on the
same node are not disturbed, and removes them afterwards. Only the 429 and 5xx item branches are
checked on recorded answer bodies: a single test node cannot be made to throttle at run time.
"""

from __future__ import annotations

import http.server
import logging
import os
import signal
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from extractkit.errors import (
    ConfigError,
    NetworkError,
    ServiceError,
    ServiceUnreachable,
    SinkFailed,
    Throttled,
    TransientError,
)
from extractkit.models import (
    Attempt,
    Document,
    ExtractionResult,
    Failure,
    Page,
    PageFailure,
    SinkRecord,
    document_id_for,
)
from extractkit.pipeline import Pipeline
from extractkit_plugins.opensearch import bulk
from extractkit_plugins.opensearch.sink import OpenSearchSink

from support.services import opensearch_request, require_services

# -- records ---------------------------------------------------------------------------------------------------------


def _document(key: str, *, modified_ms: int | None = 1_700_000_000_000, bucket: str = "docs", **meta: Any) -> Document:
    source = {"bucket": bucket, "key": key, "etag": "abc", **meta}
    if modified_ms is not None:
        source["last_modified_ms"] = modified_ms
    return Document(
        uri=f"s3://{bucket}/{key}",
        path=Path("/nonexistent"),
        name=key.rsplit("/", 1)[-1],
        size=100,
        source_metadata=source,
    )


def _result(text: str, pages: tuple[str, ...] = (), **metadata: Any) -> ExtractionResult:
    page_tuple = tuple(Page(number=i + 1, text=t) for i, t in enumerate(pages or (text,)))
    return ExtractionResult(text=text, pages=page_tuple, metadata=metadata, mime_type="text/plain", extractor="text")


def _failure(uri: str, reason: str = "corrupt", failure_class: str = "permanent") -> Failure:
    return Failure(
        document_id=document_id_for(uri),
        uri=uri,
        stage="extract",
        plugin="pdf",
        failure_class=failure_class,
        reason=reason,
        message="the file is damaged",
        attempts=(Attempt("pdf", reason, "bad xref"),),
        mime_type="application/pdf",
    )


JAPANESE = "東京都庁で開かれた防災会議の議事録です。地震と津波への備えを確認した。"
ENGLISH = "Minutes of the quarterly budget review held in the Osaka office."

# -- the node --------------------------------------------------------------------------------------------------------


@pytest.fixture
def endpoint() -> str:
    return require_services().opensearch_endpoint


@pytest.fixture
def make_sink(endpoint):
    """Build sinks on fresh indices of their own; remove the indices and templates afterwards."""
    made: list[OpenSearchSink] = []

    def build(**options: Any) -> OpenSearchSink:
        options.setdefault("index", f"test-sink-{uuid.uuid4().hex[:10]}")
        sink = OpenSearchSink({"endpoint": endpoint, "timeout": 20, **options})
        made.append(sink)
        return sink

    yield build
    for sink in made:
        sink.close()
        opensearch_request(endpoint, "DELETE", f"/{sink.index},{sink.failures_index}?ignore_unavailable=true")
        for name in (f"extractkit-{sink.index}", f"extractkit-{sink.failures_index}"):
            try:
                opensearch_request(endpoint, "DELETE", f"/_index_template/{name}")
            except AssertionError:
                pass


def _refresh(endpoint: str, sink: OpenSearchSink) -> None:
    opensearch_request(endpoint, "POST", f"/{sink.index},{sink.failures_index}/_refresh")


def _get(endpoint: str, index: str, doc_id: str) -> dict | None:
    try:
        return opensearch_request(endpoint, "GET", f"/{index}/_doc/{doc_id}")
    except AssertionError as error:
        if "-> 404" in str(error):
            return None
        raise


def _count(endpoint: str, index: str, query: dict | None = None) -> int:
    body = {"query": query} if query else None
    return opensearch_request(endpoint, "POST", f"/{index}/_count", body)["count"]


# -- search: Japanese and English, for both analyses this node can run -----------------------------------------------


@pytest.mark.parametrize("analyzer", ["auto", "standard"])
def test_japanese_finds_japanese_and_english_finds_english(make_sink, endpoint, analyzer):
    sink = make_sink(analyzer=analyzer)
    japanese = _document("議事録/防災会議.txt")
    english = _document("minutes/budget.txt")
    cover_then_text = _result(JAPANESE, pages=("表紙", JAPANESE), title="防災会議")
    outcomes = sink.write_batch(
        [SinkRecord.for_result(japanese, cover_then_text), SinkRecord.for_result(english, _result(ENGLISH))]
    )
    assert outcomes == [None, None]
    assert sink.analysis == ("cjk" if analyzer == "auto" else "standard")
    _refresh(endpoint, sink)

    hits = sink.search("防災会議")
    assert [hit.uri for hit in hits] == [japanese.uri]
    assert "[" in hits[0].snippet and "]" in hits[0].snippet
    assert hits[0].page == 2
    assert [hit.uri for hit in sink.search("budget review")] == [english.uri]
    assert [hit.uri for hit in sink.search('"quarterly budget"')] == [english.uri]
    assert sink.search('"budget quarterly"') == []
    assert sink.search("budget -Osaka") == []
    assert {hit.uri for hit in sink.search("津波 | budget")} == {japanese.uri, english.uri}
    assert sink.search("津波 +budget") == []
    assert [hit.uri for hit in sink.search("議事録")] == [japanese.uri]
    assert [hit.uri for hit in sink.search("震")] == [japanese.uri]  # one character
    assert "[震]" in sink.search("震")[0].snippet
    assert sink.search("火山") == []


def test_a_failed_page_and_a_low_confidence_page_are_stored_with_their_document(make_sink, endpoint):
    sink = make_sink()
    scan = _document("scans/two-pages.pdf")
    pages = (
        Page(number=1, text=JAPANESE, ocr=True, confidence=41.0, engine="tesseract", low_confidence=True),
        Page(number=2, text="", ocr=True, failure=PageFailure("timeout", "two-pages.pdf page 2: OCR timed out")),
    )
    result = ExtractionResult(text=JAPANESE, pages=pages, mime_type="application/pdf", extractor="pdf")
    assert sink.write_batch([SinkRecord.for_result(scan, result)]) == [None]
    _refresh(endpoint, sink)
    stored = _get(endpoint, sink.index, SinkRecord.for_result(scan, result).document_id)
    assert stored is not None
    first, second = stored["_source"]["pages"]
    assert (first["low_confidence"], "failure" in first) == (True, False)
    assert second["failure"] == {"reason": "timeout", "message": "two-pages.pdf page 2: OCR timed out"}
    query = {"nested": {"path": "pages", "query": {"term": {"pages.failure.reason": "timeout"}}}}
    assert _count(endpoint, sink.index, query) == 1


def test_prepare_creates_both_indices_before_any_write_and_can_repeat(make_sink, endpoint):
    sink = make_sink()
    sink.prepare()
    sink.prepare()
    for index in (sink.index, sink.failures_index):
        settings = opensearch_request(endpoint, "GET", f"/{index}/_settings")
        assert index in settings
    assert _count(endpoint, sink.index) == 0
    assert make_sink(index=sink.index).prepare() is None  # a second worker finds them made


def test_search_before_any_write_finds_nothing(make_sink):
    assert make_sink().search("anything") == []


# -- bulk ------------------------------------------------------------------------------------------------------------


def test_two_hundred_documents_in_one_bulk_request(make_sink, endpoint, caplog):
    sink = make_sink()
    records = [
        SinkRecord.for_result(_document(f"batch/{n:03}.txt"), _result(f"document number {n} 文書")) for n in range(200)
    ]
    sink.ensure_ready()
    with caplog.at_level(logging.INFO, logger="opensearch"):
        outcomes = sink.write_batch(records)
    assert outcomes == [None] * 200
    bulk_requests = [r for r in caplog.records if r.name == "opensearch" and "/_bulk" in r.getMessage()]
    assert len(bulk_requests) == 1
    _refresh(endpoint, sink)
    assert _count(endpoint, sink.index) == 200


def test_a_mapping_error_fails_only_its_own_record(make_sink, endpoint):
    sink = make_sink()
    good = _document("ok.txt")
    bad = _document("bad-date.txt")
    outcomes = sink.write_batch(
        [
            SinkRecord.for_result(good, _result("fine")),
            SinkRecord.for_result(bad, _result("fine too", created="not a date")),
            SinkRecord.for_result(_document("ok2.txt"), _result("also fine")),
        ]
    )
    assert outcomes[0] is None and outcomes[2] is None
    assert isinstance(outcomes[1], SinkFailed)
    assert "mapper_parsing_exception" in outcomes[1].message
    assert _get(endpoint, sink.index, good.id) is not None
    assert _get(endpoint, sink.index, bad.id) is None


def test_redelivery_overwrites(make_sink, endpoint):
    sink = make_sink()
    document = _document("again.txt")
    record = SinkRecord.for_result(document, _result("same text"))
    assert sink.write_batch([record, record]) == [None, None]
    assert sink.write_batch([record]) == [None]
    plain = _document("again-plain.txt", modified_ms=None)
    for _ in range(2):
        assert sink.write_batch([SinkRecord.for_result(plain, _result("no version"))]) == [None]
    _refresh(endpoint, sink)
    assert _count(endpoint, sink.index) == 2


def test_a_stale_event_does_not_overwrite_a_newer_one(make_sink, endpoint):
    sink = make_sink()
    newer = _document("report.txt", modified_ms=2_000)
    older = _document("report.txt", modified_ms=1_000)
    assert sink.write_batch([SinkRecord.for_result(newer, _result("the new text"))]) == [None]
    assert sink.write_batch([SinkRecord.for_result(older, _result("the old text"))]) == [None]
    stored = _get(endpoint, sink.index, newer.id)
    assert stored["_source"]["content"] == "the new text"
    assert stored["_version"] == 2_000


def test_failure_records_are_queryable_and_a_later_result_clears_them(make_sink, endpoint):
    sink = make_sink()
    document = _document("scan.pdf")
    failure = _failure(document.uri)
    assert sink.write_batch([SinkRecord.for_failure(failure)]) == [None]
    _refresh(endpoint, sink)
    query = {"bool": {"filter": [{"term": {"reason": "corrupt"}}, {"term": {"bucket": "docs"}}]}}
    found = opensearch_request(endpoint, "POST", f"/{sink.failures_index}/_search", {"query": query})["hits"]["hits"]
    assert [hit["_id"] for hit in found] == [document.id]
    source = found[0]["_source"]
    assert source["key"] == "scan.pdf" and source["class"] == "permanent" and source["stage"] == "extract"
    assert source["attempts"] == [{"plugin": "pdf", "reason": "corrupt", "message": "bad xref"}]
    assert source["mime_type"] == "application/pdf" and source["failed_at"]

    assert sink.write_batch([SinkRecord.for_result(document, _result("readable now"))]) == [None]
    assert _get(endpoint, sink.failures_index, document.id) is None
    assert _get(endpoint, sink.index, document.id) is not None


def test_a_delete_removes_the_document_its_failure_record_and_its_children(make_sink, endpoint):
    sink = make_sink()
    parent = _document("mail.eml", modified_ms=5_000)
    child = _document("mail.eml#1/report.pdf", modified_ms=5_000, parent_uri=parent.uri, embedded_path="report.pdf")
    grandchild = _document(
        "mail.eml#1/report.pdf#2/a.txt", modified_ms=5_000, parent_uri=child.uri, root_uri=parent.uri
    )
    keeper = _document("other.eml", modified_ms=5_000)
    broken_child = _failure(f"{parent.uri}#3/broken.doc")
    assert (
        sink.write_batch(
            [
                SinkRecord.for_result(parent, _result("mail body")),
                SinkRecord.for_result(child, _result("attachment")),
                SinkRecord.for_result(grandchild, _result("member")),
                SinkRecord.for_result(keeper, _result("unrelated")),
                SinkRecord.for_failure(broken_child, {"parent_uri": parent.uri}),
            ]
        )
        == [None] * 5
    )
    stored_child = _get(endpoint, sink.index, child.id)["_source"]
    assert stored_child["parent_id"] == parent.id and stored_child["root_id"] == parent.id
    assert stored_child["path"] == "report.pdf"

    stale = SinkRecord.for_delete(parent.uri, {"event_time": "1970-01-01T00:00:04Z"})
    assert sink.write_batch([stale]) == [None]
    assert _get(endpoint, sink.index, parent.id) is not None
    assert _get(endpoint, sink.index, child.id) is not None

    delete = SinkRecord.for_delete(parent.uri, {"event_time": "2026-12-01T10:00:00.000Z"})
    assert sink.write_batch([delete]) == [None]
    for index, doc_id in (
        (sink.index, parent.id),
        (sink.index, child.id),
        (sink.index, grandchild.id),
        (sink.failures_index, broken_child.document_id),
    ):
        assert _get(endpoint, index, doc_id) is None, (index, doc_id)
    assert _get(endpoint, sink.index, keeper.id) is not None
    # Deleting what is not there is done, not an error.
    assert sink.write_batch([SinkRecord.for_delete("s3://docs/never-there.txt")]) == [None]


def test_content_is_cut_at_max_content_chars(make_sink, endpoint):
    sink = make_sink(max_content_chars=10)
    document = _document("long.txt")
    assert sink.write_batch([SinkRecord.for_result(document, _result("0123456789abcdef"))]) == [None]
    source = _get(endpoint, sink.index, document.id)["_source"]
    assert source["content"] == "0123456789" and source["content_truncated"] is True
    assert source["name"] == "long.txt" and source["extension"] == "txt" and source["bucket"] == "docs"
    assert source["status"] == "indexed" and source["languages"] == ["en"]


def test_a_folder_run_through_the_pipeline_is_searchable(plugins, make_sink, endpoint, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "防災.txt").write_text(JAPANESE, encoding="utf-8")
    (folder / "budget.txt").write_text(ENGLISH, encoding="utf-8")
    (folder / "empty.txt").write_bytes(b"")
    sink = make_sink()
    run_sink = plugins.make_sink("opensearch", {"endpoint": endpoint, "index": sink.index})
    source = plugins.make_source("folder", {"path": str(folder)})
    stats = Pipeline(source, run_sink, plugins=plugins, temp_dir=tmp_path / "t").run()
    run_sink.close()
    assert stats.indexed == 2
    _refresh(endpoint, sink)
    assert [hit.name for hit in sink.search("津波")] == ["防災.txt"]
    assert [hit.name for hit in sink.search("quarterly")] == ["budget.txt"]
    failures = opensearch_request(endpoint, "POST", f"/{sink.failures_index}/_search", {})["hits"]["hits"]
    assert [(hit["_source"]["name"], hit["_source"]["reason"]) for hit in failures] == [("empty.txt", "empty")]


# -- failures of the cluster -----------------------------------------------------------------------------------------


def test_a_stopped_node_is_a_transient_error_within_the_timeout(make_sink):
    services = require_services()
    pid = int(services.opensearch_pid_file.read_text().split()[0])
    sink = make_sink(timeout=2)
    sink.ensure_ready()
    record = SinkRecord.for_result(_document("during-stop.txt"), _result("text"))
    os.kill(pid, signal.SIGSTOP)
    try:
        started = time.monotonic()
        with pytest.raises(TransientError) as raised:
            sink.write_batch([record])
        elapsed = time.monotonic() - started
    finally:
        os.kill(pid, signal.SIGCONT)
    assert isinstance(raised.value, NetworkError)
    assert elapsed < 5, elapsed
    assert sink.write_batch([record]) == [None]


def test_check_passes_on_the_node_and_fails_in_one_line_elsewhere(make_sink):
    sink = make_sink()
    sink.check()
    nowhere = OpenSearchSink({"endpoint": "http://127.0.0.1:9", "timeout": 2})
    with pytest.raises(ServiceUnreachable) as raised:
        nowhere.check()
    assert "\n" not in str(raised.value) and "127.0.0.1:9" in str(raised.value)
    with pytest.raises(TransientError):
        nowhere.write_batch([SinkRecord.for_delete("s3://docs/x")])


def test_check_changes_nothing(make_sink, endpoint):
    sink = make_sink()
    sink.check()
    indices = opensearch_request(endpoint, "GET", "/_cat/indices?format=json&h=index")
    assert sink.index not in {row["index"] for row in indices}


# -- options ---------------------------------------------------------------------------------------------------------


def test_unknown_and_bad_options_name_their_key():
    with pytest.raises(ConfigError, match=r"sink\.indx"):
        OpenSearchSink({"endpoint": "http://127.0.0.1:9200", "indx": "x"})
    with pytest.raises(ConfigError, match=r"sink\.auth"):
        OpenSearchSink({"endpoint": "http://127.0.0.1:9200", "auth": "kerberos"})
    with pytest.raises(ConfigError, match=r"sink\.endpoint"):
        OpenSearchSink({}, environ={})
    with pytest.raises(ConfigError, match=r"sink\.analyzer"):
        OpenSearchSink({"endpoint": "http://127.0.0.1:9200", "analyzer": "icu"})
    with pytest.raises(ConfigError, match=r"sink\.batch_max_records"):
        OpenSearchSink({"endpoint": "http://127.0.0.1:9200", "batch_max_records": 0})


def test_defaults_and_aws_detection():
    sink = OpenSearchSink({}, environ={"OPENSEARCH_ENDPOINT": "search-files-abc.ap-northeast-1.es.amazonaws.com"})
    assert sink.index == "file-index" and sink.failures_index == "file-index-failures"
    assert sink.settings.endpoint == "https://search-files-abc.ap-northeast-1.es.amazonaws.com"
    assert (sink.settings.auth, sink.settings.region, sink.settings.aws_service) == ("sigv4", "ap-northeast-1", "es")
    assert sink.settings.verify_certs is True
    serverless = OpenSearchSink({"endpoint": "https://abc.us-east-1.aoss.amazonaws.com", "index": "docs"}, environ={})
    assert (serverless.settings.auth, serverless.settings.aws_service) == ("sigv4", "aoss")
    assert OpenSearchSink({"endpoint": "http://127.0.0.1:9200"}, environ={}).settings.auth == "none"
    env_index = OpenSearchSink({"endpoint": "http://h:9200"}, environ={"OPENSEARCH_INDEX": "other"})
    assert env_index.index == "other"
    batched = OpenSearchSink({"endpoint": "http://h:9200", "batch_max_records": 50, "batch_linger_seconds": 0.5})
    assert (batched.batch_max_records, batched.batch_max_bytes, batched.batch_linger_seconds) == (
        50,
        5 * 1024 * 1024,
        0.5,
    )


def test_the_password_comes_from_a_file_or_the_environment_and_is_never_shown(tmp_path):
    secret_file = tmp_path / "password"
    secret_file.write_text("s3cret-from-file\n")
    sink = OpenSearchSink(
        {"endpoint": "https://h:9200", "username": "admin", "password_file": str(secret_file)}, environ={}
    )
    assert sink.settings.auth == "basic" and sink.settings.password == "s3cret-from-file"
    assert "s3cret" not in repr(sink.settings)
    from_env = OpenSearchSink(
        {"endpoint": "https://h:9200", "auth": "basic"},
        environ={"OPENSEARCH_USERNAME": "admin", "OPENSEARCH_PASSWORD": "s3cret-env"},
    )
    assert from_env.settings.password == "s3cret-env" and "s3cret" not in repr(from_env.settings)
    with pytest.raises(ConfigError) as raised:
        OpenSearchSink({"endpoint": "https://h:9200", "auth": "basic", "username": "admin"}, environ={})
    assert "password" in str(raised.value)
    with pytest.raises(ConfigError, match=r"sink\.password_file"):
        OpenSearchSink({"endpoint": "https://h:9200", "username": "a", "password_file": str(tmp_path / "none")})


class _RecordingHandler(http.server.BaseHTTPRequestHandler):
    seen: list[dict[str, str]] = []

    def do_GET(self) -> None:
        type(self).seen.append(dict(self.headers))
        body = b'{"version": {"number": "2.19.6", "distribution": "opensearch"}, "tagline": "The OpenSearch Project"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


def test_sigv4_signs_with_the_default_credential_chain(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret-example")
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _RecordingHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        endpoint = f"http://127.0.0.1:{server.server_address[1]}"
        sink = OpenSearchSink({"endpoint": endpoint, "auth": "sigv4", "region": "ap-northeast-1"})
        sink.check()
        sink.close()
    finally:
        server.shutdown()
    authorization = _RecordingHandler.seen[-1]["Authorization"]
    assert authorization.startswith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/")
    assert "/ap-northeast-1/es/aws4_request" in authorization
    assert "secret-example" not in authorization


# -- bulk answers: recorded from the node, and the throttling shapes it cannot be made to produce --------------------

RECORDED_ANSWER = {
    "took": 42,
    "errors": True,
    "items": [
        {"index": {"_index": "rec-x", "_id": "a", "_version": 5, "result": "created", "status": 201}},
        {
            "index": {
                "_index": "rec-x",
                "_id": "a",
                "status": 409,
                "error": {
                    "type": "version_conflict_engine_exception",
                    "reason": "[a]: version conflict, current version [5] is higher than the one provided [3]",
                },
            }
        },
        {
            "index": {
                "_index": "rec-x",
                "_id": "b",
                "status": 400,
                "error": {
                    "type": "mapper_parsing_exception",
                    "reason": "failed to parse field [created] of type [date] in document with id 'b'.",
                    "caused_by": {"type": "illegal_argument_exception", "reason": "failed to parse date field"},
                },
            }
        },
        {"delete": {"_index": "rec-x", "_id": "zz", "_version": 1, "result": "not_found", "status": 404}},
    ],
}

# The shape OpenSearch gives an item its write queue or indexing pressure rejected, and a shard failure.
THROTTLED_ITEM = {
    "index": {
        "_index": "file-index",
        "_id": "c",
        "status": 429,
        "error": {"type": "rejected_execution_exception", "reason": "rejected execution of coordinating operation"},
    }
}
UNAVAILABLE_ITEM = {
    "index": {
        "_index": "file-index",
        "_id": "d",
        "status": 503,
        "error": {"type": "unavailable_shards_exception", "reason": "primary shard is not active"},
    }
}


def _action(record: int, op: str = bulk.INDEX, primary: bool = True) -> bulk.BulkAction:
    return bulk.BulkAction(record, op, "rec-x", "id", {} if op == bulk.INDEX else None, None, primary)


def test_recorded_answer_outcomes():
    actions = [_action(0), _action(1), _action(2), _action(3, bulk.DELETE)]
    outcomes = bulk.record_outcomes(RECORDED_ANSWER, actions, 4)
    assert outcomes[0] is None and outcomes[1] is None and outcomes[3] is None
    assert isinstance(outcomes[2], SinkFailed) and "mapper_parsing_exception" in outcomes[2].message


def test_throttled_and_unavailable_items_are_transient_for_their_record_only():
    answer = {"errors": True, "items": [RECORDED_ANSWER["items"][0], THROTTLED_ITEM, UNAVAILABLE_ITEM]}
    outcomes = bulk.record_outcomes(answer, [_action(0), _action(1), _action(2)], 3)
    assert outcomes[0] is None
    assert isinstance(outcomes[1], Throttled) and "429" in outcomes[1].message
    assert isinstance(outcomes[2], ServiceError) and "503" in outcomes[2].message


def test_a_throttled_secondary_action_retries_the_record_but_a_refused_one_does_not():
    answer = {
        "errors": True,
        "items": [
            RECORDED_ANSWER["items"][0],
            THROTTLED_ITEM,
            RECORDED_ANSWER["items"][0],
            RECORDED_ANSWER["items"][2],
        ],
    }
    actions = [_action(0), _action(0, bulk.DELETE, primary=False), _action(1), _action(1, primary=False)]
    outcomes = bulk.record_outcomes(answer, actions, 2)
    assert isinstance(outcomes[0], Throttled)
    assert outcomes[1] is None


def test_a_primary_refusal_outranks_a_throttled_secondary():
    answer = {"errors": True, "items": [RECORDED_ANSWER["items"][2], THROTTLED_ITEM]}
    outcomes = bulk.record_outcomes(answer, [_action(0), _action(0, bulk.DELETE, primary=False)], 1)
    assert isinstance(outcomes[0], SinkFailed)


def test_an_answer_that_does_not_match_the_request_fails_every_record_transiently():
    outcomes = bulk.record_outcomes({"errors": False, "items": []}, [_action(0), _action(1)], 2)
    assert all(isinstance(outcome, ServiceError) for outcome in outcomes)


def test_bulk_body_carries_external_versions():
    action = bulk.BulkAction(0, bulk.INDEX, "file-index", "abc", {"content": "東京"}, 1234)
    lines = (
        bulk.bulk_body([action, bulk.BulkAction(0, bulk.DELETE, "file-index-failures", "abc")]).decode().splitlines()
    )
    assert lines == [
        '{"index":{"_index":"file-index","_id":"abc","version":1234,"version_type":"external_gte"}}',
        '{"content":"東京"}',
        '{"delete":{"_index":"file-index-failures","_id":"abc"}}',
    ]
