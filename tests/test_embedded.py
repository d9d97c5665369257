"""Embedded documents: extracted as documents of their own, linked to their parent, within bounds."""

from __future__ import annotations

from pathlib import Path

from test_pipeline import RecordingSource

from extractkit import Pipeline, SourceItem
from extractkit.models import ExtractOptions
from extractkit.plugins import Plugins, PluginSpec
from extractkit.processing import local_document
from extractkit_plugins.local.local_index_sink import LocalIndex

from support.paths import TEST_PLUGINS


def _plugins() -> Plugins:
    return Plugins(PluginSpec(entry_points=False, extra=(str(TEST_PLUGINS / "bundle_extractor.py"),)))


def _run(tmp_path: Path, files: list[Path], options: ExtractOptions | None = None, source=None):
    plugins = _plugins()
    sink = plugins.make_sink("local_index", {"path": str(tmp_path / "index.db")})
    source = source or RecordingSource(files)
    stats = Pipeline(source, sink, plugins=plugins, options=options, temp_dir=tmp_path / "work").run()
    sink.close()
    return stats, source, LocalIndex(tmp_path / "index.db", create=False)


def _uris(index: LocalIndex, table: str) -> set[str]:
    return {row[0] for row in index.db.execute(f"SELECT uri FROM {table}")}


def test_children_are_stored_with_uris_inside_their_parent_and_the_parent_is_acked_once(tmp_path):
    bundle = tmp_path / "bundle-a.txt"
    bundle.write_text("reports/q3.txt: 第3四半期の報告\nnotes.txt: plain notes\n", encoding="utf-8")
    stats, source, index = _run(tmp_path, [bundle])
    parent = bundle.as_uri()
    assert _uris(index, "documents") == {parent, f"{parent}!/reports/q3.txt", f"{parent}!/notes.txt"}
    assert [hit.uri for hit in index.search("第3四半期")] == [f"{parent}!/reports/q3.txt"]
    assert source.acked == ["bundle-a.txt"] and stats.indexed == 3
    assert list((tmp_path / "work").iterdir()) == [], "embedded files were left behind"


def test_nesting_past_the_depth_bound_is_a_too_large_failure(tmp_path):
    bundle = tmp_path / "bundle-nest.txt"
    bundle.write_text("bundle-1.txt: bundle:bundle-2.txt: bundle:bundle-3.txt: deep\n", encoding="utf-8")
    _, _, index = _run(tmp_path, [bundle], ExtractOptions(max_embedded_depth=1))
    parent = bundle.as_uri()
    assert _uris(index, "documents") == {parent, f"{parent}!/bundle-1.txt"}
    [(uri, reason)] = index.db.execute("SELECT uri, reason FROM failures").fetchall()
    assert uri == f"{parent}!/bundle-1.txt!/bundle-2.txt" and reason == "too_large"


def test_count_bound_applies_per_top_level_document(tmp_path):
    bundle = tmp_path / "bundle-many.txt"
    bundle.write_text("".join(f"m{n}.txt: member {n}\n" for n in range(5)), encoding="utf-8")
    stats, _, index = _run(tmp_path, [bundle], ExtractOptions(max_embedded_documents=3))
    assert len(_uris(index, "documents")) == 4
    assert {row[0] for row in index.db.execute("SELECT reason FROM failures")} == {"too_large"}
    assert stats.failures["too_large"] == 2


def test_deleting_the_parent_deletes_its_children(tmp_path):
    bundle = tmp_path / "bundle-del.txt"
    bundle.write_text("a.txt: alpha\nb.txt: beta\n", encoding="utf-8")
    _run(tmp_path, [bundle])
    other = tmp_path / "bundle-del-other.txt"
    other.write_text("c.txt: gamma\n", encoding="utf-8")
    _run(tmp_path, [other])

    class DeletingSource(RecordingSource):
        def items(self):
            yield SourceItem(uri=bundle.as_uri(), name=bundle.name, event="delete")

        def fetch(self, item, workdir):
            return local_document(item.uri[7:])

    _, _, index = _run(tmp_path, [], source=DeletingSource([]))
    assert _uris(index, "documents") == {other.as_uri(), f"{other.as_uri()}!/c.txt"}


def test_children_come_back_from_isolated_extraction(tmp_path):
    from runner.isolation import IsolatedExecutor, IsolationLimits

    bundle = tmp_path / "bundle-iso.txt"
    bundle.write_text("inner/a.txt: isolated alpha\n", encoding="utf-8")
    spec = PluginSpec(entry_points=False, extra=(str(TEST_PLUGINS / "bundle_extractor.py"),))
    plugins = Plugins(spec)
    sink = plugins.make_sink("local_index", {"path": str(tmp_path / "index.db")})
    with IsolatedExecutor(
        spec, ExtractOptions(), IsolationLimits(timeout_seconds=30), 1, temp_dir=tmp_path / "w"
    ) as ex:
        Pipeline(RecordingSource([bundle]), sink, plugins=plugins, executor=ex, temp_dir=tmp_path / "work").run()
    sink.close()
    index = LocalIndex(tmp_path / "index.db", create=False)
    assert _uris(index, "documents") == {bundle.as_uri(), f"{bundle.as_uri()}!/inner/a.txt"}
