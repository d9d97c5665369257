"""Word, Excel and PowerPoint 97-2003 (.doc, .xls, .ppt), on Apache Tika's test files and LibreOffice-made twins.

Every file goes through ``extractkit.extract`` so type detection runs too. What
Tika's own tests (``WordParserTest``, ``ExcelParserTest``, ``PowerPointParserTest``)
expect of these files is what is asserted here.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from extractkit import extract
from extractkit.errors import DocumentError
from extractkit.models import ExtractOptions
from extractkit.plugins import BUILTIN_PLUGINS
from extractkit.testing import check_extractor
from extractkit_plugins.legacy_office.doc_extractor import DocExtractor
from extractkit_plugins.legacy_office.ppt_extractor import PptExtractor
from extractkit_plugins.legacy_office.xls_extractor import XlsExtractor
from extractkit_plugins.type_detection import DOC, ENCRYPTED_OOXML, OUTLOOK_MSG, PPT, XLS, detect

from support.paths import LIBREOFFICE_DOCUMENTS

WITH_PASSWORD = ExtractOptions(extra={"office_password": "tika"})


def failure_of(path: Path, plugins, **kwargs) -> DocumentError:
    """Extract and return the classified error, failing the test if extraction succeeds."""
    with pytest.raises(DocumentError) as caught:
        extract(path, plugins=plugins, **kwargs)
    return caught.value


def test_legacy_extractors_are_builtin(plugins):
    for name in ("doc", "xls", "ppt"):
        assert f"extractkit_plugins.legacy_office.{name}_extractor" in BUILTIN_PLUGINS
        assert name in plugins.extractors


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("testWORD.doc", DOC),
        ("testEXCEL.xls", XLS),
        ("testPPT.ppt", PPT),
        ("testEXCEL_protected_passtika.xls", XLS),
        ("testEXCEL_protected_passtika.xlsx", ENCRYPTED_OOXML),
        ("testMSG_att_doc.msg", OUTLOOK_MSG),
    ],
)
def test_ole2_files_are_told_apart_by_their_streams(corpus, tmp_path, name, expected):
    renamed = tmp_path / "upload.bin"  # the name must not matter
    shutil.copy(corpus / "tika" / name, renamed)
    assert detect(renamed) == expected


# -- Word 97-2003 ---------------------------------------------------------------------------------


def test_tika_word_document_text_headers_and_metadata(corpus, plugins):
    result = extract(corpus / "tika" / "testWORD.doc", plugins=plugins)
    assert result.extractor == "doc"
    lines = result.text.splitlines()
    assert lines[0] == "This is the header for our document"
    assert lines[-1] == "This is the footer for our document"
    assert "Sample Word Document Title" in lines
    assert "This is a sample Microsoft Word Document." in lines
    # Field codes are dropped, the text they display stays.
    assert "Apache Tika: http://tika.apache.org/ Tika" in lines
    assert "HYPERLINK" not in result.text
    assert result.metadata["title"] == "Sample Word Document"
    assert result.metadata["author"] == "Keith Bennett"
    assert result.metadata["last_modified_by"] == "Nick Burch"
    assert result.metadata["created"] == "2010-11-12T16:22:00"
    assert [page.number for page in result.pages] == [1]


def test_tika_word_various_japanese_tables_footnotes_and_text_boxes(corpus, plugins):
    result = extract(corpus / "tika" / "testWORD_various.doc", plugins=plugins)
    lines = result.text.splitlines()
    assert lines[0] == "This is the header text."
    assert lines[-1] == "This is the footer text."
    assert "ゾルゲと尾崎、淡々と最期" in lines
    assert "（ＧＨＱ）" in lines
    assert "𐌲𐌿𐍄𐌹𐍃𐌺" in lines  # characters outside the BMP keep the stories aligned
    assert "Row 1 Col 1\tRow 1 Col 2\tRow 1 Col 3" in lines
    assert "Row 2 Col 1\tRow 2 Col 2\tRow 2 Col 3" in lines
    assert "Here is a text box" in lines
    assert "This is a footnote." in lines
    assert result.metadata["subject"] == "Subject is here"
    assert result.metadata["keywords"] == "Keyword1 Keyword2"
    assert result.metadata["author"] == "Michael McCandless"


def test_generated_word_file_keeps_every_story_in_order(plugins):
    lines = extract(LIBREOFFICE_DOCUMENTS / "report.doc", plugins=plugins).text.splitlines()
    expected_order = [
        "社外秘ヘッダー",
        "年次報告書",
        "本文の最初の段落です。",
        "品目\t数量\t備考",
        "縦に結合\t横に結合",
        "表の後の段落。",
        "第二章の本文。English words stay spaced.",
        "テキストボックスの中身",
        "脚注の本文です。",
        "共通フッター",
    ]
    positions = [lines.index(line) for line in expected_order]
    assert positions == sorted(positions)


def test_truncated_word_file_is_corrupt(corpus, tmp_path, plugins):
    damaged = tmp_path / "damaged.doc"
    damaged.write_bytes((corpus / "tika" / "testWORD.doc").read_bytes()[:3000])
    assert failure_of(damaged, plugins).reason == "corrupt"


# -- Excel 97-2003 --------------------------------------------------------------------------------


def test_tika_excel_sheets_become_pages(corpus, plugins):
    result = extract(corpus / "tika" / "testEXCEL.xls", plugins=plugins)
    assert result.extractor == "xls"
    assert result.metadata["sheets"] == ["Feuil1", "Feuil2", "Feuil3"]
    assert [page.text.splitlines()[0] for page in result.pages] == ["Feuil1", "Feuil2", "Feuil3"]
    first = result.pages[0].text.splitlines()
    assert "Sample Excel Worksheet - Numbers and their Squares" in first
    assert "\tNumber\tSquare" in first
    assert "\t15\t225" in first  # numbers written without ".0"
    assert result.metadata["title"] == "Simple Excel document"
    assert result.metadata["author"] == "Keith Bennett"


def test_generated_excel_file_dates_and_japanese_sheet_names(plugins):
    result = extract(LIBREOFFICE_DOCUMENTS / "book.xls", plugins=plugins)
    assert result.metadata["sheets"] == ["売上", "メモ"]
    lines = result.pages[0].text.splitlines()
    assert "りんご\t3\t120\t360" in lines
    assert "2024-04-01\t2024-04-01T09:30:00" in lines
    assert result.pages[1].text.splitlines()[-1] == "\t\tTRUE"


# -- PowerPoint 97-2003 ---------------------------------------------------------------------------


def test_tika_powerpoint_slide_text_and_metadata(corpus, plugins):
    result = extract(corpus / "tika" / "testPPT.ppt", plugins=plugins)
    assert result.extractor == "ppt"
    assert result.text.splitlines()[0] == "Sample Powerpoint Slide"
    assert "Powerpoint X for Mac" in result.text
    assert result.metadata["title"] == "Sample Powerpoint Slide"
    assert result.metadata["slides"] == 1


def test_generated_powerpoint_slides_tables_and_notes(plugins):
    result = extract(LIBREOFFICE_DOCUMENTS / "deck.ppt", plugins=plugins)
    assert [page.number for page in result.pages] == [1, 2]
    first = result.pages[0].text
    for text in ("左上", "右上", "下の段落", "関東", "グループ前", "グループ後"):
        assert text in first
    assert first.endswith("\n\n発表者ノートです。")  # speaker notes close the slide's page
    assert result.pages[1].text == "まとめ\nEnglish and 日本語"
    assert "発表者ノートです。" not in result.pages[1].text


# -- encryption -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["testEXCEL_protected_passtika.xls", "testPPT_protected_passtika.ppt"])
def test_password_protected_legacy_files_are_encrypted_without_a_password(corpus, plugins, name):
    error = failure_of(corpus / "tika" / name, plugins)
    assert error.reason == "encrypted"
    assert "office_password" in error.message


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("testEXCEL_protected_passtika.xls", "This is an Encrypted Excel spreadsheet."),
        ("testPPT_protected_passtika.ppt", "This is an encrypted PowerPoint 2007 slide."),
    ],
)
def test_password_protected_legacy_files_open_with_the_configured_password(corpus, plugins, name, expected):
    result = extract(corpus / "tika" / name, plugins=plugins, options=WITH_PASSWORD)
    assert expected in result.text
    assert result.metadata["encrypted"] is True


def test_a_wrong_password_is_encrypted_not_corrupt(corpus, plugins):
    options = ExtractOptions(extra={"office_password": "not-tika"})
    error = failure_of(corpus / "tika" / "testEXCEL_protected_passtika.xls", plugins, options=options)
    assert error.reason == "encrypted"
    assert "does not open" in error.message


# -- conformance ------------------------------------------------------------------------------------


def test_doc_extractor_conforms(corpus):
    samples = [corpus / "tika" / "testWORD.doc", LIBREOFFICE_DOCUMENTS / "report.doc"]
    check_extractor(DocExtractor, samples, expected_text={"testWORD.doc": "Sample Word Document Title"})


def test_xls_extractor_conforms(corpus):
    samples = [corpus / "tika" / "testEXCEL.xls", LIBREOFFICE_DOCUMENTS / "book.xls"]
    check_extractor(XlsExtractor, samples, expected_text={"book.xls": "りんご"})


def test_ppt_extractor_conforms(corpus):
    samples = [corpus / "tika" / "testPPT.ppt", LIBREOFFICE_DOCUMENTS / "deck.ppt"]
    check_extractor(PptExtractor, samples, expected_text={"deck.ppt": "発表者ノートです。"})
