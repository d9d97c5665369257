"""Text extraction with encoding detection: UTF-8, UTF-16 with BOM, Shift_JIS/CP932, EUC-JP, ISO-2022-JP."""

from __future__ import annotations

import pytest

from extractkit import extract

JAPANESE = "東京都の図書館では、毎月第一木曜日が休館日です。カタカナもひらがなも正しく読めます。"
MIXED = "Meeting notes 議事録: Brown will send the invoice（請求書）by Friday."


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "cp932", "shift_jis", "euc_jp", "iso2022_jp"])
@pytest.mark.parametrize("text", [JAPANESE, MIXED])
def test_encodings_come_out_right(tmp_path, plugins, encoding, text):
    path = tmp_path / "sample.txt"
    path.write_bytes((text + "\n二行目の文章です。\n").encode(encoding))
    result = extract(path, plugins=plugins)
    assert result.text == text + "\n二行目の文章です。"
    assert result.extractor == "text"
    assert result.mime_type.startswith("text/")


def test_utf16_big_endian_with_bom(tmp_path, plugins):
    path = tmp_path / "be.txt"
    path.write_bytes(b"\xfe\xff" + JAPANESE.encode("utf-16-be"))
    assert extract(path, plugins=plugins).text == JAPANESE


def test_html_keeps_visible_text_only(tmp_path, plugins):
    path = tmp_path / "page.html"
    path.write_text(
        "<html><head><title>題名</title><script>var secret = 1;</script></head>"
        "<body><h1>見出し</h1><p>本文 &amp; more</p></body></html>",
        encoding="utf-8",
    )
    result = extract(path, plugins=plugins)
    assert result.mime_type == "text/html"
    assert "secret" not in result.text
    assert result.text.splitlines() == ["題名", "見出し", "本文 & more"]
    assert result.metadata["title"] == "題名"


def test_markdown_and_csv_are_told_apart_by_extension_hint(tmp_path, plugins):
    (tmp_path / "a.md").write_text("# 見出し\n\n本文\n", encoding="utf-8")
    (tmp_path / "b.csv").write_text("sku,name\nA-1,緑茶\n", encoding="utf-8")
    assert extract(tmp_path / "a.md", plugins=plugins).mime_type == "text/markdown"
    assert extract(tmp_path / "b.csv", plugins=plugins).text == "sku,name\nA-1,緑茶"


def test_bytes_input(plugins):
    result = extract("バイト列からの抽出".encode("euc_jp"), plugins=plugins)
    assert result.text == "バイト列からの抽出"
