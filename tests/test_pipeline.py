"""The pipeline's promises: acknowledge only after the outcome is stored; retry transient sink failures."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterator

from extractkit import Pipeline, SourceItem
from extractkit.errors import ServiceError
from extractkit.interfaces import Source
from extractkit.plugins import Plugins, PluginSpec
from extractkit.processing import local_document
from extractkit.retry import RetryPolicy, call_with_retries

from support.paths import TEST_PLUGINS


class RecordingSource(Source):
    """A queue-like source over local files that records acks and releases."""

    name = "recording"

    def __init__(self, paths, redelivers=False):
        super().__init__({})
        self.paths = paths
        self.redelivers = redelivers
        self.acked: list[str] = []
        self.released: list[str] = []

    def items(self) -> Iterator[SourceItem]:
        for path in self.paths:
            yield SourceItem(uri=Path(path).as_uri(), name=Path(path).name, attributes={"path": str(path)})

    def fetch(self, item, workdir):
        return local_document(item.attributes["path"], uri=item.uri)

    def ack(self, item):
        self.acked.append(item.name)

    def release(self, item, delay_seconds):
        self.released.append(item.name)


def _plugins():
    return Plugins(PluginSpec(entry_points=False, extra=(str(TEST_PLUGINS / "flaky_sink.py"),)))


def _files(tmp_path, count):
    paths = []
    for number in range(count):
        path = tmp_path / f"doc{number}.txt"
        path.write_text(f"文書 {number}", encoding="utf-8")
        paths.append(path)
    return paths


def test_transient_sink_failures_are_retried_then_acked(tmp_path):
    plugins = _plugins()
    sink = plugins.make_sink("flaky", {"failures": 2})
    source = RecordingSource(_files(tmp_path, 3))
    pipeline = Pipeline(
        source, sink, plugins=plugins, temp_dir=tmp_path / "t", retry=RetryPolicy(attempts=3, base_delay=0.001)
    )
    stats = pipeline.run()
    assert sorted(source.acked) == ["doc0.txt", "doc1.txt", "doc2.txt"]
    assert len(sink.written) == 3
    assert stats.indexed == 3


def test_sink_down_means_no_ack_and_a_failure_log_record(tmp_path):
    plugins = _plugins()
    sink = plugins.make_sink("flaky", {"failures": 1000})
    source = RecordingSource(_files(tmp_path, 2), redelivers=True)
    failure_log = tmp_path / "failures.jsonl"
    pipeline = Pipeline(
        source,
        sink,
        plugins=plugins,
        temp_dir=tmp_path / "t",
        failure_log=failure_log,
        retry=RetryPolicy(attempts=2, base_delay=0.001),
    )
    pipeline.run()
    assert source.acked == []
    assert sorted(source.released) == ["doc0.txt", "doc1.txt"]
    records = [json.loads(line) for line in failure_log.read_text().splitlines()]
    assert {r["stage"] for r in records} == {"sink"} and {r["class"] for r in records} == {"transient"}


def test_permanent_failure_is_stored_once_and_acked(tmp_path):
    plugins = _plugins()
    sink = plugins.make_sink("flaky", {"failures": 0})
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    source = RecordingSource([empty], redelivers=True)
    Pipeline(source, sink, plugins=plugins, temp_dir=tmp_path / "t").run()
    assert source.acked == ["empty.txt"] and source.released == []
    assert [f.reason for f in sink.failures] == ["empty"]


def test_call_with_retries_gives_up_after_the_bound():
    calls = []

    def always_503():
        calls.append(1)
        raise ServiceError("503")

    sleeps = []
    try:
        call_with_retries(always_503, RetryPolicy(attempts=4, base_delay=1, max_delay=3), sleep=sleeps.append)
    except ServiceError as error:
        assert error.attempts_made == 4
    else:
        raise AssertionError("expected ServiceError")
    assert len(calls) == 4 and len(sleeps) == 3
    assert all(0 <= s <= 3 for s in sleeps)


def test_announced_size_over_the_limit_is_refused_before_fetch(tmp_path):
    from extractkit import ExtractOptions

    plugins = _plugins()
    sink = plugins.make_sink("flaky", {"failures": 0})
    big = tmp_path / "big.txt"
    big.write_text("x" * 5000)

    class SizedSource(RecordingSource):
        fetched = 0

        def items(self):
            for item in super().items():
                yield SourceItem(uri=item.uri, name=item.name, size=5000, attributes=item.attributes)

        def fetch(self, item, workdir):
            SizedSource.fetched += 1
            return super().fetch(item, workdir)

    source = SizedSource([big])
    Pipeline(source, sink, plugins=plugins, options=ExtractOptions(max_file_size=1000), temp_dir=tmp_path / "t").run()
    assert SizedSource.fetched == 0
    assert [(f.reason, f.stage) for f in sink.failures] == [("too_large", "fetch")]
    assert source.acked == ["big.txt"]


def test_an_unexpected_pipeline_error_still_leaves_a_failure_record(tmp_path):
    plugins = _plugins()
    sink = plugins.make_sink("flaky", {"failures": 0})

    class BrokenFetchSource(RecordingSource):
        def fetch(self, item, workdir):
            raise RuntimeError("bug in a source plugin")

    source = BrokenFetchSource(_files(tmp_path, 1), redelivers=True)
    failure_log = tmp_path / "failures.jsonl"
    Pipeline(source, sink, plugins=plugins, temp_dir=tmp_path / "t", failure_log=failure_log).run()
    assert source.acked == [] and source.released == ["doc0.txt"]
    [record] = [json.loads(line) for line in failure_log.read_text().splitlines()]
    assert (record["stage"], record["reason"]) == ("pipeline", "crashed")
    assert "bug in a source plugin" in record["message"]
