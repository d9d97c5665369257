"""The folder source's paths, recursion and patterns; the JSONL sink's upserts and fingerprints."""

from __future__ import annotations

import json

from extractkit import ExtractionResult, Page, Pipeline
from extractkit.models import Document, SinkRecord
from extractkit.testing import check_sink, check_source
from extractkit_plugins.local.folder_source import FolderSource, glob_matches
from extractkit_plugins.local.jsonl_sink import JsonlSink
from extractkit_plugins.local.local_index_sink import LocalIndexSink


def _tree(root):
    for relative in ("a.txt", "drafts/b.txt", "x/drafts/c.txt", "x/y/d.tmp", "x/e.txt", "other/f.txt"):
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(relative, encoding="utf-8")


def _names(source):
    return sorted(item.attributes["path"].rsplit("/", 1)[-1] for item in source.items())


def test_exclude_double_star_matches_at_the_top_level_too(tmp_path):
    _tree(tmp_path)
    source = FolderSource({"path": str(tmp_path), "exclude": ["**/drafts/*"]})
    assert _names(source) == ["a.txt", "d.tmp", "e.txt", "f.txt"]
    assert _names(FolderSource({"path": str(tmp_path), "exclude": ["drafts/*"]})) == [
        "a.txt",
        "c.txt",
        "d.tmp",
        "e.txt",
        "f.txt",
    ]
    assert _names(FolderSource({"path": str(tmp_path), "exclude": ["*.tmp", "other"]})) == [
        "a.txt",
        "b.txt",
        "c.txt",
        "e.txt",
    ]


def test_glob_rules():
    assert glob_matches("**/drafts/*", "drafts/a.txt") and glob_matches("**/drafts/*", "x/y/drafts/a.txt")
    assert glob_matches("drafts/*", "drafts/sub/a.txt")  # a matched folder takes what is under it
    assert not glob_matches("docs/*.pdf", "docs/sub/a.pdf") and glob_matches("docs/**/*.pdf", "docs/sub/a.pdf")
    assert glob_matches("*.PDF", "a/b.PDF") and not glob_matches("*.pdf", "a/b.PDF")
    assert glob_matches("[ab].txt", "x/b.txt") and not glob_matches("[!ab].txt", "x/b.txt")


def test_paths_and_recursive(tmp_path):
    _tree(tmp_path)
    both = FolderSource({"paths": [str(tmp_path / "drafts"), str(tmp_path / "other" / "f.txt")]})
    assert _names(both) == ["b.txt", "f.txt"]
    flat = FolderSource({"path": str(tmp_path), "recursive": False})
    assert _names(flat) == ["a.txt"]
    assert flat.count_items() == 1


def test_folder_source_and_local_sinks_pass_the_conformance_kit(tmp_path):
    _tree(tmp_path / "src")
    items = check_source(lambda: FolderSource({"path": str(tmp_path / "src")}), tmp_path / "w", expected_count=6)
    assert all(item.attributes["fingerprint"].startswith("size=") for item in items)
    check_sink(lambda: JsonlSink({"path": str(tmp_path / "out.jsonl")}), tmp_path)
    check_sink(lambda: LocalIndexSink({"path": str(tmp_path / "index.db")}), tmp_path)


def _records(tmp_path, texts):
    records = []
    for name, text in texts.items():
        path = tmp_path / name
        path.write_text(text)
        document = Document(uri=path.as_uri(), path=path, name=name, size=len(text))
        result = ExtractionResult(text=text, pages=(Page(1, text),))
        records.append(SinkRecord.for_result(document, result, {"fingerprint": f"fp-{text}"}))
    return records


def test_jsonl_sink_upserts_on_close_and_append_mode_keeps_every_line(tmp_path):
    out = tmp_path / "out.jsonl"
    for version in ("one", "two", "three"):
        sink = JsonlSink({"path": str(out)})
        sink.write_batch(_records(tmp_path, {"a.txt": f"a {version}", "b.txt": f"b {version}"}))
        sink.close()
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [(line["name"], line["text"]) for line in lines] == [("a.txt", "a three"), ("b.txt", "b three")]
    sink = JsonlSink({"path": str(out)})
    sink.write_batch([SinkRecord.for_delete(lines[0]["uri"])])
    sink.close()
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [(line["name"], line["type"]) for line in lines] == [("b.txt", "result"), ("a.txt", "delete")]
    appended = tmp_path / "append.jsonl"
    for version in ("one", "two"):
        sink = JsonlSink({"path": str(appended), "mode": "append"})
        sink.write_batch(_records(tmp_path, {"a.txt": version}))
        sink.close()
    assert len(appended.read_text().splitlines()) == 2


def test_jsonl_sink_fingerprints_come_from_the_file(tmp_path):
    out = tmp_path / "out.jsonl"
    sink = JsonlSink({"path": str(out)})
    record = _records(tmp_path, {"a.txt": "alpha"})[0]
    assert sink.fingerprints([record.document_id]) == {}
    sink.write_batch([record])
    sink.close()
    assert JsonlSink({"path": str(out)}).fingerprints([record.document_id, "other"]) == {record.document_id: "fp-alpha"}


def test_pipeline_skips_what_the_sink_holds_unchanged(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text("alpha", encoding="utf-8")
    (docs / "b.txt").write_text("beta", encoding="utf-8")

    def run(**kwargs):
        sink = LocalIndexSink({"path": str(tmp_path / "i.db")})
        stats = Pipeline(FolderSource({"path": str(docs)}), sink, temp_dir=tmp_path / "t", **kwargs).run()
        sink.close()
        return stats.indexed, stats.unchanged

    assert run() == (2, 0)
    assert run() == (0, 2)
    (docs / "b.txt").write_text("beta, edited", encoding="utf-8")
    assert run() == (1, 1)
    assert run(skip_unchanged=False) == (2, 0)
