"""The embedded local index: Japanese and English search, snippets, upserts and deletes."""

from __future__ import annotations

from extractkit import ExtractionResult, Page
from extractkit.errors import CorruptDocument
from extractkit.models import Document, Failure
from extractkit_plugins.local.local_index_sink import LocalIndex


def _doc(tmp_path, name):
    path = tmp_path / name
    path.write_text("x")
    return Document(uri=path.as_uri(), path=path, name=name, size=1)


def _result(text):
    return ExtractionResult(text=text, pages=(Page(1, text),), mime_type="text/plain", extractor="text")


def test_japanese_words_of_every_length_and_english(tmp_path):
    index = LocalIndex(tmp_path / "i.db")
    index.upsert(_doc(tmp_path, "ja.txt"), _result("東京の図書館は毎月第一木曜日が休館日です。猫もいます。"))
    index.upsert(_doc(tmp_path, "en.txt"), _result("The typhoon will pass the Izu islands on Tuesday."))
    assert [h.name for h in index.search("図書館")] == ["ja.txt"]
    assert [h.name for h in index.search("東京")] == ["ja.txt"]  # two characters: below the trigram size
    assert [h.name for h in index.search("猫")] == ["ja.txt"]
    assert [h.name for h in index.search("Typhoon")] == ["en.txt"]
    assert [h.name for h in index.search("typhoon Izu")] == ["en.txt"]
    assert index.search("typhoon 図書館") == []
    assert "[図書館]" in index.search("図書館")[0].snippet
    assert "[東京]" in index.search("東京")[0].snippet


def test_upsert_replaces_instead_of_duplicating(tmp_path):
    index = LocalIndex(tmp_path / "i.db")
    document = _doc(tmp_path, "a.txt")
    index.upsert(document, _result("first version 初版"))
    index.upsert(document, _result("second version 第二版"))
    assert index.counts() == {"documents": 1, "failures": 0}
    assert index.search("初版") == []
    assert [h.name for h in index.search("第二版")] == ["a.txt"]


def test_failure_replaces_stale_text_and_success_clears_failure(tmp_path):
    index = LocalIndex(tmp_path / "i.db")
    document = _doc(tmp_path, "a.pdf")
    index.upsert(document, _result("old text"))
    index.record_failure(Failure.from_error(CorruptDocument("a.pdf: broken"), uri=document.uri, stage="extract"))
    assert index.counts() == {"documents": 0, "failures": 1}
    assert index.failures()[0]["reason"] == "corrupt"
    index.upsert(document, _result("new text"))
    assert index.counts() == {"documents": 1, "failures": 0}


def test_delete(tmp_path):
    index = LocalIndex(tmp_path / "i.db")
    document = _doc(tmp_path, "a.txt")
    index.upsert(document, _result("削除される文書"))
    index.delete(document.uri)
    assert index.search("削除される") == []
    assert index.counts()["documents"] == 0


def test_query_with_quotes_is_not_fts_syntax(tmp_path):
    index = LocalIndex(tmp_path / "i.db")
    index.upsert(_doc(tmp_path, "q.txt"), _result('He said "hello world" AND left'))
    assert [h.name for h in index.search('"hello')] == ["q.txt"]
    assert [h.name for h in index.search("AND")] == ["q.txt"]


def test_a_locked_index_is_a_transient_sink_error(tmp_path):
    import sqlite3

    import pytest

    from extractkit.errors import ServiceError
    from extractkit_plugins.local.local_index_sink import LocalIndexSink

    path = tmp_path / "i.db"
    sink = LocalIndexSink({"path": str(path)})
    sink.check()
    sink.index.db.execute("PRAGMA busy_timeout = 50")
    other = sqlite3.connect(str(path))
    other.execute("BEGIN EXCLUSIVE")
    document = _doc(tmp_path, "a.txt")
    with pytest.raises(ServiceError, match="did not take the write"):
        sink.write(document, _result("locked out"))
    other.rollback()
    other.close()
    sink.write(document, _result("written later"))
    assert [h.name for h in sink.index.search("written later")] == ["a.txt"]
    sink.close()
