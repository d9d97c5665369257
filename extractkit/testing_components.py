"""Conformance checks for sinks and sources, for plugin authors' own tests.

::

    from extractkit.testing import check_sink, check_source

    def test_my_sink(tmp_path):
        check_sink(lambda: CsvSink({"path": str(tmp_path / "out.csv")}), tmp_path)

    def test_my_source(tmp_path):
        check_source(lambda: MySource({...}), tmp_path, expected_count=3)

Every broken rule is listed in one :class:`~extractkit.testing.ConformanceError`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from .errors import DocumentError
from .interfaces import Sink, Source
from .models import DELETE, Document, ExtractionResult, Failure, Page, SearchHit, SinkRecord, SourceItem
from .testing import ConformanceError

#: The word check_sink writes and, for a searchable sink, searches for.
PROBE_WORD = "conformance"


def _sample_records(workdir: Path) -> tuple[SinkRecord, SinkRecord, SinkRecord]:
    path = workdir / "conformance-sample.txt"
    path.write_text(f"{PROBE_WORD} check\n", encoding="utf-8")
    document = Document(uri=path.as_uri(), path=path, name=path.name, size=path.stat().st_size, mime_type="text/plain")
    text = f"{PROBE_WORD} check"
    result = ExtractionResult(text=text, pages=(Page(1, text),), metadata={"encoding": "utf-8"}, mime_type="text/plain")
    failed_uri = (workdir / "conformance-broken.pdf").as_uri()
    failure = Failure(
        document_id=SinkRecord.for_delete(failed_uri).document_id,
        uri=failed_uri,
        stage="extract",
        plugin="conformance",
        failure_class="permanent",
        reason="corrupt",
        message="conformance-broken.pdf: not a PDF",
    )
    return (
        SinkRecord.for_result(document, result, {"fingerprint": "conformance-fingerprint"}),
        SinkRecord.for_failure(failure),
        SinkRecord.for_delete((workdir / "conformance-gone.txt").as_uri()),
    )


def check_sink(make_sink: Callable[[], Sink], workdir: str | Path) -> None:
    """Check a sink against the contract: batches answered record by record, fingerprints kept, close works.

    ``make_sink`` builds a fresh sink on the same storage each time it is called
    (it is called twice: what the first instance stored must be there for the
    second). ``workdir`` is an empty folder for sample files.
    """
    workdir = Path(workdir)
    problems: list[str] = []
    sink = make_sink()
    if not isinstance(sink, Sink):
        raise ConformanceError(f"{sink!r} is not an extractkit.Sink")
    if not isinstance(getattr(sink, "name", None), str) or not sink.name:
        problems.append("'name' must be a non-empty string")
    if not isinstance(sink.batch_max_records, int) or sink.batch_max_records < 1:
        problems.append("'batch_max_records' must be a whole number of at least 1")
    try:
        sink.check()
    except Exception as exc:
        problems.append(f"check() raised {type(exc).__name__}: {exc}")
    records = _sample_records(workdir)
    try:
        answers = sink.write_batch(list(records))
    except Exception as exc:
        raise ConformanceError(f"{sink.name}: write_batch() raised {type(exc).__name__}: {exc}") from exc
    if not isinstance(answers, list) or len(answers) != len(records):
        problems.append(f"write_batch() must return a list with one entry per record, got {answers!r}")
    elif any(answer is not None and not isinstance(answer, DocumentError) for answer in answers):
        problems.append(f"write_batch() entries must be None or a DocumentError, got {answers!r}")
    elif any(answer is not None for answer in answers):
        problems.append(f"write_batch() refused well-formed records: {answers!r}")
    try:
        sink.write_batch([records[0]])  # the same document again overwrites it
    except Exception as exc:
        problems.append(f"writing the same document twice raised {type(exc).__name__}: {exc}")
    if sink.searchable:
        problems += _check_search(sink)
    try:
        sink.close()
    except Exception as exc:
        problems.append(f"close() raised {type(exc).__name__}: {exc}")
    problems += _check_fingerprints(make_sink, records[0])
    if problems:
        raise ConformanceError(f"{getattr(sink, 'name', type(sink).__name__)}: " + "; ".join(problems))


def _check_search(sink: Sink) -> list[str]:
    try:
        hits = sink.search(PROBE_WORD, limit=5)
    except Exception as exc:
        return [f"search() raised {type(exc).__name__}: {exc}"]
    if not isinstance(hits, list) or not all(isinstance(hit, SearchHit) for hit in hits):
        return [f"search() must return a list of SearchHit, got {hits!r}"]
    return []


def _check_fingerprints(make_sink: Callable[[], Sink], record: SinkRecord) -> list[str]:
    reopened = make_sink()
    try:
        if type(reopened).fingerprints is Sink.fingerprints:
            return []  # the default knows nothing, so nothing is ever skipped
        lookup = reopened.fingerprints
        try:
            stored = lookup([record.document_id, "no-such-id"])
        except Exception as exc:
            return [f"fingerprints() raised {type(exc).__name__}: {exc}"]
        if not isinstance(stored, dict):
            return [f"fingerprints() must return a dict, got {stored!r}"]
        if stored.get(record.document_id) != "conformance-fingerprint":
            return ["fingerprints() did not return the fingerprint stored with the result (attributes['fingerprint'])"]
        if "no-such-id" in stored:
            return ["fingerprints() answered for an id that was never stored"]
        return []
    finally:
        reopened.close()


def check_source(
    make_source: Callable[[], Source], workdir: str | Path, *, expected_count: int | None = None, limit: int = 1000
) -> list[SourceItem]:
    """Check a finite source: items well formed and unique, count_items() agrees, fetch gives readable files.

    Returns the items, for the caller's own assertions. ``limit`` bounds how many
    items are taken (a queue source never ends by itself).
    """
    workdir = Path(workdir)
    problems: list[str] = []
    source = make_source()
    if not isinstance(source, Source):
        raise ConformanceError(f"{source!r} is not an extractkit.Source")
    try:
        source.check()
    except Exception as exc:
        problems.append(f"check() raised {type(exc).__name__}: {exc}")
    items: list[SourceItem] = []
    for item in source.items():
        items.append(item)
        if len(items) >= limit:
            break
    problems += _check_items(items, expected_count, source.count_items())
    for number, item in enumerate(i for i in items if isinstance(i, SourceItem) and i.event != DELETE):
        job = workdir / f"job-{number}"
        job.mkdir(parents=True, exist_ok=True)
        problems += _check_fetch(source, item, job)
    source.stop()
    if next(iter(source.items()), None) is not None:
        problems.append("items() still yields after stop()")
    try:
        source.close()
    except Exception as exc:
        problems.append(f"close() raised {type(exc).__name__}: {exc}")
    if problems:
        raise ConformanceError(f"{getattr(source, 'name', type(source).__name__)}: " + "; ".join(problems))
    return items


def _check_items(items: list[SourceItem], expected: int | None, counted: int | None) -> list[str]:
    problems = [f"items() yielded {item!r}, not a SourceItem" for item in items if not isinstance(item, SourceItem)]
    good = [item for item in items if isinstance(item, SourceItem)]
    for item in good:
        if not item.uri or not isinstance(item.uri, str) or ":" not in item.uri:
            problems.append(f"item uri {item.uri!r} is not a URI (scheme:...)")
        if item.event not in ("upsert", DELETE):
            problems.append(f"item {item.uri}: event {item.event!r} is neither 'upsert' nor 'delete'")
    uris = [item.uri for item in good]
    if len(set(uris)) != len(uris):
        problems.append("items() yielded the same uri twice")
    if expected is not None and len(good) != expected:
        problems.append(f"items() yielded {len(good)} items, expected {expected}")
    if counted is not None and counted != len(good):
        problems.append(f"count_items() says {counted} but items() yielded {len(good)}")
    return problems


def _check_fetch(source: Source, item: SourceItem, job: Path) -> list[str]:
    try:
        document = source.fetch(item, job)
    except DocumentError:
        return []  # a classified failure is a legitimate answer
    except Exception as exc:
        return [f"fetch({item.uri}) raised {type(exc).__name__} instead of a DocumentError: {exc}"]
    problems = []
    if not isinstance(document, Document):
        return [f"fetch({item.uri}) returned {type(document).__name__}, not a Document"]
    if document.uri != item.uri:
        problems.append(f"fetch({item.uri}) returned a document with uri {document.uri}")
    if not document.path.is_file():
        problems.append(f"fetch({item.uri}) returned a path that is not a file: {document.path}")
    elif document.size != document.path.stat().st_size:
        problems.append(f"fetch({item.uri}): size {document.size} is not the file's {document.path.stat().st_size}")
    try:
        source.ack(item)
    except Exception as exc:
        problems.append(f"ack({item.uri}) raised {type(exc).__name__}: {exc}")
    return problems
