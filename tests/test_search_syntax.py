"""The local index's query syntax and ranking: whole words, CJK substrings, phrases, AND/OR/NOT, scores, pages."""

from __future__ import annotations

import pytest

from extractkit import ExtractionResult, Page
from extractkit.models import Document
from extractkit_plugins.local.local_index_sink import LocalIndex
from extractkit_plugins.local.search_query import QuerySyntaxError


def _add(index, tmp_path, name, *pages):
    path = tmp_path / name
    path.write_text("x")
    document = Document(uri=path.as_uri(), path=path, name=name, size=1)
    text = "\n\n".join(pages)
    result = ExtractionResult(
        text=text, pages=tuple(Page(n, t) for n, t in enumerate(pages, 1)), mime_type="text/plain", extractor="text"
    )
    index.upsert(document, result)


@pytest.fixture
def index(tmp_path):
    index = LocalIndex(tmp_path / "i.db")
    _add(index, tmp_path, "hello.txt", "Hello world, said the first program.")
    _add(index, tmp_path, "reversed.txt", "The world said hello back.")
    _add(index, tmp_path, "handgun.txt", "A handgun and a holster.", "Page two mentions a Handgun again.")
    _add(index, tmp_path, "brand.txt", "Brand names stand apart.")
    _add(index, tmp_path, "tokyo.txt", "東京の図書館は月曜日が休館日です。", "大阪にも図書館があります。")
    _add(index, tmp_path, "go.txt", "Go is a language. We go to Go meetups; go go go.")
    _add(index, tmp_path, "gone.txt", "Everything is gone, going, ago.")
    _add(index, tmp_path, "invoice.txt", "請求書　第2024-118号　OpenSearchの設定と2024年度の予算")
    yield index
    index.close()


def names(hits):
    return sorted(hit.name for hit in hits)


def test_quoted_phrases_and_operators(index):
    assert names(index.search('"Hello world"')) == ["hello.txt"]
    assert names(index.search("Hello world")) == ["hello.txt", "reversed.txt"]
    assert names(index.search("Hello AND world")) == ["hello.txt", "reversed.txt"]
    assert names(index.search("hello OR handgun")) == ["handgun.txt", "hello.txt", "reversed.txt"]
    assert names(index.search("world NOT back")) == ["hello.txt"]
    assert names(index.search("world -back")) == ["hello.txt"]
    assert names(index.search("(handgun OR brand) -holster")) == ["brand.txt"]
    assert names(index.search('-"said hello" world')) == ["hello.txt"]


def test_latin_words_match_whole_words_case_insensitively(index):
    assert names(index.search("and")) == ["handgun.txt"]  # "a handgun and a holster", not H[and]gun or Br[and]
    assert names(index.search("HANDGUN")) == ["handgun.txt"]
    assert names(index.search("go")) == ["go.txt"]  # not gone, going or ago
    assert names(index.search("AND")) == ["handgun.txt"]  # an operator alone is the word


def test_latin_words_and_numbers_next_to_kana_or_kanji_are_whole_words(index):
    assert names(index.search("2024")) == ["invoice.txt"]  # 第2024-118号, 2024年度
    assert names(index.search('"2024-118"')) == ["invoice.txt"]
    assert names(index.search("OpenSearch")) == ["invoice.txt"]  # OpenSearchの
    assert index.search("202") == [] and index.search("Open") == []  # still whole words only
    assert "[2024]" in index.search("2024")[0].snippet


def test_cjk_matches_substrings_of_any_length(index):
    assert names(index.search("図書館")) == ["tokyo.txt"]
    assert names(index.search("東京")) == ["tokyo.txt"]
    assert names(index.search("館")) == ["tokyo.txt"]
    assert names(index.search("図書館 -大阪")) == []
    assert names(index.search("東京 OR brand")) == ["brand.txt", "tokyo.txt"]


def test_special_characters_never_crash(index):
    for query in ['"unterminated phrase', "a*b", "C++", "NEAR(x y)", "col:val", "e-mail", "hello)", "(world", "'x'"]:
        index.search(query)  # no exception
    assert names(index.search("hello)")) == ["hello.txt", "reversed.txt"]
    for query in ['"', "((", ")", "'", "^", "-", "", "   ", "+++", "- -", "()"]:
        with pytest.raises(QuerySyntaxError):  # nothing to search for: a usage error, exit 2 on the command line
            index.search(query)


def test_short_queries_are_ranked_and_every_match_is_highlighted(index):
    hits = index.search("go")
    assert hits[0].score > 0
    assert hits[0].snippet.count("[") == 6 and "[Go] is a language" in hits[0].snippet
    ranked = index.search("handgun OR hello")
    assert all(hit.score > 0 for hit in ranked)
    assert ranked == sorted(ranked, key=lambda hit: -hit.score)
    assert index.search("館")[0].score > 0


def test_hits_give_the_page_of_the_first_match(index):
    assert index.search("大阪")[0].page == 2
    assert index.search("休館日")[0].page == 1
    assert index.search("mentions")[0].page == 2
