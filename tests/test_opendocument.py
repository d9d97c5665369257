"""OpenDocument (odt, ods, odp) on Apache Tika's test files, LibreOffice-made twins and hostile packages.

Every file goes through ``extractkit.extract`` so type detection runs too.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from extractkit import extract
from extractkit.errors import DocumentError
from extractkit.plugins import BUILTIN_PLUGINS
from extractkit.testing import check_extractor
from extractkit_plugins.opendocument.odf_extractor import OdfExtractor
from extractkit_plugins.type_detection import detect

from support.office_builders import rewrite_zip
from support.paths import LIBREOFFICE_DOCUMENTS

ODS = "application/vnd.oasis.opendocument.spreadsheet"


def failure_of(path: Path, plugins) -> DocumentError:
    """Extract and return the classified error, failing the test if extraction succeeds."""
    with pytest.raises(DocumentError) as caught:
        extract(path, plugins=plugins)
    return caught.value


def test_odf_extractor_is_builtin(plugins):
    assert "extractkit_plugins.opendocument.odf_extractor" in BUILTIN_PLUGINS
    assert "odf" in plugins.extractors


@pytest.mark.parametrize(
    ("name", "expected"),
    [("testOpenOffice2.odt", "application/vnd.oasis.opendocument.text"), ("test-columnar.ods", ODS)],
)
def test_odf_type_comes_from_the_mimetype_entry(corpus, tmp_path, name, expected):
    renamed = tmp_path / "upload.zip"
    shutil.copy(corpus / "tika" / name, renamed)
    assert detect(renamed) == expected


def test_tika_text_document(corpus, plugins):
    result = extract(corpus / "tika" / "testOpenOffice2.odt", plugins=plugins)
    assert result.extractor == "odf"
    assert result.text == "This is a sample Open Office document, written in NeoOffice 2.2.1 for the Mac."
    assert result.metadata["created"] == "2007-09-14T11:06:08"
    assert result.metadata["modified"] == "2007-09-14T11:07:10"


def test_tika_rich_text_document_notes_comments_and_metadata(corpus, plugins):
    # Its embedded formula object declares a DOCTYPE; only the parts read are held to that rule.
    result = extract(corpus / "tika" / "testODFwithOOo3.odt", plugins=plugins)
    lines = result.text.splitlines()
    assert lines[0] == "Apache Tika Test Document"
    for line in ("This is a rather difficult test document, with interesting features.", "A rectangle", "Third item"):
        assert line in lines
    assert "This is of course a simple footnote" in lines
    assert lines[-1] == "Tika is part of the Lucene project."  # a comment, after the body and notes
    assert result.metadata["title"] == "Apache Tika"
    assert result.metadata["subject"] == "Test document"
    assert result.metadata["author"] == "Bart Hanssens"
    assert result.metadata["keywords"] == "Apache, Lucene, Tika"


def test_tika_spreadsheet_rows_and_sheet_names(corpus, plugins):
    result = extract(corpus / "tika" / "test-columnar.ods", plugins=plugins)
    assert result.metadata["sheets"] == ["testing"]
    lines = result.pages[0].text.splitlines()
    assert lines[0] == "testing"
    assert lines[1].split("\t")[:3] == ["Record Number", "Square of the Record Number", "Description of the Row"]
    assert lines[2].startswith("0\t0\tThis is row")
    assert result.metadata["author"] == "henry feldman"


def test_generated_text_document_headers_tables_boxes_notes_footers(plugins):
    lines = extract(LIBREOFFICE_DOCUMENTS / "report.odt", plugins=plugins).text.splitlines()
    expected_order = [
        "社外秘ヘッダー",
        "年次報告書",
        "品目\t数量\t備考",
        "縦に結合\t横に結合",
        "箱の前",
        "テキストボックスの中身",
        "第二章の本文。English words stay spaced.",
        "脚注の本文です。",
        "共通フッター",
    ]
    positions = [lines.index(line) for line in expected_order]
    assert positions == sorted(positions)


def test_generated_spreadsheet_one_page_per_sheet(plugins):
    result = extract(LIBREOFFICE_DOCUMENTS / "book.ods", plugins=plugins)
    assert result.metadata["sheets"] == ["売上", "メモ"]
    assert "りんご\t3\t120\t360" in result.pages[0].text.splitlines()
    assert result.pages[1].text.splitlines()[0] == "メモ"
    assert result.metadata["title"] == "売上表"


def test_generated_presentation_slides_tables_and_notes(plugins):
    result = extract(LIBREOFFICE_DOCUMENTS / "deck.odp", plugins=plugins)
    assert result.metadata["slides"] == 2
    first = result.pages[0].text
    assert "地域\t売上\t前年比" in first.splitlines()
    assert first.endswith("\n\n発表者ノートです。")
    assert "<number>" not in first  # page-number placeholders are not text
    assert result.pages[1].text == "まとめ\nEnglish and 日本語"


def test_password_protected_odf_is_encrypted(tmp_path, plugins):
    path = shutil.copy(LIBREOFFICE_DOCUMENTS / "report.odt", tmp_path / "secret.odt")
    marker = b'<manifest:encryption-data manifest:checksum-type="SHA1"/></manifest:file-entry>'
    rewrite_zip(
        Path(path),
        {
            "META-INF/manifest.xml": lambda data: data.replace(
                b'manifest:full-path="content.xml" manifest:media-type="text/xml"/>',
                b'manifest:full-path="content.xml" manifest:media-type="text/xml">' + marker,
            )
        },
    )
    assert failure_of(Path(path), plugins).reason == "encrypted"


def test_content_with_a_doctype_is_refused(tmp_path, plugins):
    path = Path(shutil.copy(LIBREOFFICE_DOCUMENTS / "report.odt", tmp_path / "entities.odt"))
    rewrite_zip(
        path,
        {"content.xml": lambda data: data.replace(b"?>", b'?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">]>', 1)},
    )
    assert failure_of(path, plugins).reason == "corrupt"


def test_repeated_rows_are_expanded_only_within_the_budget(tmp_path, plugins):
    path = Path(shutil.copy(LIBREOFFICE_DOCUMENTS / "book.ods", tmp_path / "repeated.ods"))
    rewrite_zip(
        path,
        {
            "content.xml": lambda data: data.replace(
                b"<table:table-row ", b'<table:table-row table:number-rows-repeated="1048576" ', 1
            )
        },
    )
    started = time.monotonic()
    assert failure_of(path, plugins).reason == "too_large"
    assert time.monotonic() - started < 5


def test_repeated_empty_rows_and_columns_cost_nothing(corpus, plugins):
    # test-columnar.ods pads its rows with runs of 1,016 repeated empty cells.
    started = time.monotonic()
    extract(corpus / "tika" / "test-columnar.ods", plugins=plugins)
    assert time.monotonic() - started < 2


def test_odf_extractor_conforms(corpus):
    samples = [
        corpus / "tika" / "testOpenOffice2.odt",
        LIBREOFFICE_DOCUMENTS / "book.ods",
        LIBREOFFICE_DOCUMENTS / "deck.odp",
    ]
    check_extractor(OdfExtractor, samples, expected_text={"deck.odp": "まとめ"})
