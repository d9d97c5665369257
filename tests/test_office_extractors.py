"""Office extractors (docx, xlsx, pptx) and the archive guard, on real and hostile files.

Every file goes through ``extractkit.extract`` so type detection runs too.
"""

from __future__ import annotations

import random
import re
import resource
import shutil
import zipfile
from pathlib import Path

import pytest
from PIL import Image

from extractkit import extract
from extractkit.errors import DocumentError
from extractkit.models import ExtractOptions
from extractkit.plugins import BUILTIN_PLUGINS
from extractkit.processing import detect, local_document
from extractkit_plugins.office.strict_ooxml import STRICT_OFFICE_DOCUMENT
from extractkit_plugins.type_detection import DOCX

from support.office_builders import (
    BILLION_LAUGHS,
    CHART_TITLE,
    COMMENT_TEXT,
    EXTERNAL_ENTITY,
    FOOTNOTE_TEXT,
    NSDECLS,
    SERIES_NAMES,
    TEXT_BOX_TEXT,
    W_NS,
    build_docx,
    build_docx_bomb,
    build_docx_with_chart_and_comment,
    build_pptx,
    build_pptx_with_chart_and_comment,
    build_xlsx,
    build_xlsx_with_cells,
    build_xlsx_with_comment,
    claim_dimension,
    doctype_document_xml,
    make_strict,
    patch_declared_size,
    replace_document_xml,
    rewrite_zip,
)

PYTHON_DOCX = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus" / "public" / "python-docx"


def failure_of(path: Path | bytes, plugins, **kwargs) -> DocumentError:
    """Extract and return the classified error, failing the test if extraction succeeds."""
    with pytest.raises(DocumentError) as caught:
        extract(path, plugins=plugins, **kwargs)
    return caught.value


@pytest.fixture
def sample_docx(tmp_path) -> Path:
    return build_docx(tmp_path / "report.docx")


# -- registration -----------------------------------------------------------------------------


def test_office_extractors_are_builtin(plugins):
    for name in ("docx", "xlsx", "pptx"):
        assert f"extractkit_plugins.office.{name}_extractor" in BUILTIN_PLUGINS
        assert name in plugins.extractors


# -- Word ---------------------------------------------------------------------------------------


def test_public_docx_text_and_metadata(plugins):
    result = extract(PYTHON_DOCX / "test.docx", plugins=plugins)
    assert result.extractor == "docx"
    assert result.text == "python-docx was here!\npython-docx was here too!"
    assert result.metadata["last_modified_by"] == "Steve Canny"
    assert result.metadata["created"].startswith("2013-12-15T10:40:00")
    assert [page.number for page in result.pages] == [1]


def test_public_docx_tables_stay_where_they_stand(plugins):
    result = extract(PYTHON_DOCX / "sct-inner-content.docx", plugins=plugins)
    assert result.text.splitlines() == ["P1", "T2", "P3", "T4", "P5", "P6", "P7", "P8", "P9"]


def test_public_docx_with_only_images_gives_empty_text(plugins):
    result = extract(PYTHON_DOCX / "having-images.docx", plugins=plugins)
    assert result.extractor == "docx"
    assert result.text == ""
    assert result.pages[0].text == ""
    assert result.metadata["author"] == "Steve Canny"


def test_docx_reads_every_part_in_order(sample_docx, plugins):
    text = extract(sample_docx, plugins=plugins).text
    lines = text.splitlines()
    expected_order = [
        "社外秘ヘッダー",
        "第二章ヘッダー",
        "年次報告書",
        "本文の最初の段落です。",
        "品目\t数量\t備考",
        "縦に結合\t横に結合",
        "\tりんご",
        "入れ子A\t入れ子B",
        "表の後の段落。",
        "箱の前",
        TEXT_BOX_TEXT,
        "第二章の本文。English words stay spaced.",
        FOOTNOTE_TEXT,
        "共通フッター",
    ]
    positions = [lines.index(line) for line in expected_order]
    assert positions == sorted(positions)
    for once in ("横に結合", "縦に結合", TEXT_BOX_TEXT, "共通フッター", FOOTNOTE_TEXT):
        assert text.count(once) == 1, once


def test_docx_metadata_is_iso(sample_docx, plugins):
    result = extract(sample_docx, plugins=plugins)
    assert result.metadata["title"] == "年次報告書"
    assert result.metadata["author"] == "山田太郎"
    assert result.metadata["last_modified_by"] == "佐藤花子"
    assert result.metadata["created"].startswith("2024-01-02T03:04:05")
    assert result.metadata["modified"].startswith("2024-02-03T04:05:06")
    assert len(result.pages) == 1 and result.pages[0].text == result.text


def test_macro_enabled_word_file_is_read(sample_docx, plugins):
    main = b"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
    macro_main = b"application/vnd.ms-word.document.macroEnabled.main+xml"
    rewrite_zip(sample_docx, {"[Content_Types].xml": lambda data: data.replace(main, macro_main)})
    with zipfile.ZipFile(sample_docx) as archive:
        assert b"application/vnd.ms-word.document.macroEnabled.main+xml" in archive.read("[Content_Types].xml")
    result = extract(sample_docx, plugins=plugins)
    assert "本文の最初の段落です。" in result.text
    assert FOOTNOTE_TEXT in result.text


def test_docx_without_core_properties_has_no_invented_metadata(sample_docx, plugins):
    without_core = re.compile(rb"<Relationship [^>]*docProps/core\.xml\"/>")
    rewrite_zip(sample_docx, {"docProps/core.xml": None, "_rels/.rels": lambda data: without_core.sub(b"", data)})
    result = extract(sample_docx, plugins=plugins)
    assert "title" not in result.metadata
    assert "python-docx" not in str(result.metadata)


# -- Excel --------------------------------------------------------------------------------------


def test_xlsx_sheets_become_pages(tmp_path, plugins):
    path = build_xlsx(tmp_path / "sales.xlsx")
    result = extract(path.read_bytes(), name="upload-without-extension", plugins=plugins)
    assert result.extractor == "xlsx"
    assert [page.number for page in result.pages] == [1, 2]
    assert result.pages[0].text.splitlines() == [
        "売上",
        "品目\t数量\t単価\t合計",
        "りんご\t3\t120\t360",
        "みかん\t2.5",
        "2024-04-01\t2024-04-01T09:30:00",
    ]
    assert result.pages[1].text.splitlines() == ["メモ", "備考 タブ入り", "\t\tTRUE"]
    assert result.metadata["sheets"] == ["売上", "メモ"]
    assert result.metadata["title"] == "売上表"
    assert result.metadata["author"] == "山田太郎"


def test_xlsx_formula_without_cached_value_is_empty(tmp_path, plugins):
    path = build_xlsx(tmp_path / "sales.xlsx")
    rewrite_zip(path, {"xl/worksheets/sheet1.xml": lambda data: data.replace(b"<v>360</v>", b"<v></v>")})
    first_page = extract(path, plugins=plugins).pages[0].text
    assert "りんご\t3\t120\n" in first_page + "\n"
    assert "B2*C2" not in first_page


def test_xlsx_dimension_claiming_a_million_rows_is_ignored(tmp_path, plugins):
    path = build_xlsx_with_cells(tmp_path / "small.xlsx", rows=3, columns=2)
    claim_dimension(path, "A1:XFD1048576")
    result = extract(path, plugins=plugins)
    assert result.pages[0].text.splitlines() == ["data", "0\t1", "2\t3", "4\t5"]


def test_xlsx_over_the_cell_budget_is_too_large(tmp_path, plugins):
    path = build_xlsx_with_cells(tmp_path / "wide.xlsx", rows=200, columns=20)
    error = failure_of(path, plugins, options=ExtractOptions(extra={"max_cells": 1000}))
    assert error.reason == "too_large"
    assert "wide.xlsx" in error.message


def test_xlsx_budget_counts_rows_padded_before_a_far_cell(tmp_path, plugins):
    path = build_xlsx_with_cells(tmp_path / "far.xlsx", rows=1, columns=1)
    far_row = b'<row r="1048576"><c r="A1048576" t="n"><v>7</v></c></row></sheetData>'
    rewrite_zip(path, {"xl/worksheets/sheet1.xml": lambda data: data.replace(b"</sheetData>", far_row)})
    error = failure_of(path, plugins, options=ExtractOptions(extra={"max_cells": 100_000}))
    assert error.reason == "too_large"


def test_xlsx_with_broken_sheet_xml_is_corrupt(tmp_path, plugins):
    path = build_xlsx(tmp_path / "broken.xlsx")
    rewrite_zip(path, {"xl/worksheets/sheet1.xml": lambda data: data[: len(data) // 2]})
    error = failure_of(path, plugins)
    assert error.reason == "corrupt"
    assert "broken.xlsx" in error.message


# -- PowerPoint ---------------------------------------------------------------------------------


def test_pptx_slides_in_reading_order_with_notes(tmp_path, plugins):
    result = extract(build_pptx(tmp_path / "deck.pptx"), plugins=plugins)
    assert result.extractor == "pptx"
    assert [page.number for page in result.pages] == [1, 2]
    assert result.pages[0].text.splitlines() == [
        "左上",
        "右上",
        "地域\t売上\t前年比",
        "関東\t結合セル",
        "下の段落",
        "グループ前",
        "グループ後",
        "",
        "発表者ノートです。",
    ]
    assert result.pages[1].text.splitlines() == ["まとめ", "English and 日本語"]
    assert result.metadata["slides"] == 2
    assert result.metadata["title"] == "四半期報告"


def test_pptx_with_broken_slide_is_corrupt(tmp_path, plugins):
    path = build_pptx(tmp_path / "broken.pptx")
    rewrite_zip(path, {"ppt/slides/slide1.xml": b"<p:sld"})
    error = failure_of(path, plugins)
    assert error.reason == "corrupt"
    assert "broken.pptx" in error.message


# -- hostile packages ---------------------------------------------------------------------------


def test_docx_zip_bomb_is_refused_before_parsing(tmp_path, sample_docx, plugins):
    bomb = build_docx_bomb(tmp_path / "bomb.docx", sample_docx)
    assert bomb.stat().st_size < 5 * 1024 * 1024
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    error = failure_of(bomb, plugins)
    grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak_before
    assert error.reason == "too_large"
    assert "bomb.docx" in error.message
    assert grown_kib < 200 * 1024


def test_highly_compressible_part_over_the_ratio_is_too_large(sample_docx, plugins):
    replace_document_xml(sample_docx, doctype_document_xml("", " " * (8 * 1024 * 1024)))
    error = failure_of(sample_docx, plugins)
    assert error.reason == "too_large"
    assert "max_archive_ratio" in error.message


def test_total_inflated_size_limit(sample_docx, plugins):
    error = failure_of(sample_docx, plugins, options=ExtractOptions(max_archive_uncompressed=10_000))
    assert error.reason == "too_large"
    assert "max_archive_uncompressed" in error.message


def test_too_many_entries(sample_docx, plugins):
    rewrite_zip(sample_docx, {f"customXml/extra{index}.xml": b"<a/>" for index in range(60)})
    error = failure_of(sample_docx, plugins, options=ExtractOptions(max_archive_entries=50))
    assert error.reason == "too_large"
    assert "max_archive_entries" in error.message


@pytest.mark.parametrize("name", ["../escape.xml", "/absolute.xml", "C:/drive.xml", "word/../../up.xml"])
def test_unsafe_entry_names_are_corrupt(sample_docx, plugins, name):
    rewrite_zip(sample_docx, {name: b"<a/>"})
    error = failure_of(sample_docx, plugins)
    assert error.reason == "corrupt"
    assert "unsafe name" in error.message


def test_zip_encrypted_part_is_encrypted(sample_docx, plugins):
    data = bytearray(sample_docx.read_bytes())
    central = data.find(b"PK\x01\x02")
    data[central + 8] |= 0x1  # general-purpose flag bit 0: the entry is encrypted
    sample_docx.write_bytes(bytes(data))
    assert failure_of(sample_docx, plugins).reason == "encrypted"


def test_billion_laughs_is_refused(sample_docx, plugins):
    replace_document_xml(sample_docx, doctype_document_xml(BILLION_LAUGHS, "&lol9;"))
    error = failure_of(sample_docx, plugins)
    assert error.reason == "corrupt"
    assert "declares XML entities, which are refused" in error.message.replace(" (a DOCTYPE)", "")


def test_external_entity_never_leaks_file_contents(sample_docx, plugins):
    assert "root:" in Path("/etc/passwd").read_text()
    replace_document_xml(sample_docx, doctype_document_xml(EXTERNAL_ENTITY, "before &xxe; after"))
    try:
        result = extract(sample_docx, plugins=plugins)
    except DocumentError as error:
        assert error.reason == "corrupt"
        assert "root:" not in error.message
    else:
        assert "root:" not in result.text


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-8-sig"])
def test_doctype_is_found_in_any_xml_encoding(sample_docx, plugins, encoding):
    xml = doctype_document_xml(EXTERNAL_ENTITY, "&xxe;").decode().replace('encoding="UTF-8"', f'encoding="{encoding}"')
    replace_document_xml(sample_docx, xml.encode(encoding))
    assert "declares XML entities" in failure_of(sample_docx, plugins).message


def test_doctype_hidden_behind_comments_is_found(sample_docx, plugins):
    padding = "<!-- " + "x" * 200_000 + " -->"
    xml = doctype_document_xml(padding + EXTERNAL_ENTITY, "&xxe;")
    replace_document_xml(sample_docx, xml)
    assert "declares XML entities" in failure_of(sample_docx, plugins).message


def test_doctype_in_a_header_part_is_refused(sample_docx, plugins):
    header = f'<!DOCTYPE w:hdr [<!ENTITY e "x">]><w:hdr {NSDECLS}><w:p><w:r><w:t>&e;</w:t></w:r></w:p></w:hdr>'
    rewrite_zip(sample_docx, {"word/header1.xml": header.encode()})
    error = failure_of(sample_docx, plugins)
    assert error.reason == "corrupt"
    assert "word/header1.xml" in error.message


def test_member_that_understates_its_size_is_corrupt(sample_docx, plugins):
    rng = random.Random(7)
    text = "".join(rng.choice("あいうえおかきくけこ漢字試験文章山川") for _ in range(300_000))
    replace_document_xml(sample_docx, doctype_document_xml("", text))
    patch_declared_size(sample_docx, "word/document.xml", 1000)
    error = failure_of(sample_docx, plugins)
    assert error.reason == "corrupt"
    assert "report.docx" in error.message


def test_jpeg_renamed_docx_is_read_as_a_jpeg(tmp_path, plugins):
    path = tmp_path / "photo.docx"
    Image.new("RGB", (64, 32), "white").save(path, format="JPEG")
    assert detect(local_document(path), plugins, ExtractOptions()).mime_type == "image/jpeg"
    result = extract(path, plugins=plugins)
    assert result.mime_type == "image/jpeg"
    assert result.extractor == "image"


def test_truncated_docx_is_a_classified_failure(tmp_path, sample_docx, plugins):
    data = sample_docx.read_bytes()
    truncated = tmp_path / "truncated.docx"
    truncated.write_bytes(data[: len(data) // 2])
    detected = failure_of(truncated, plugins)
    assert detected.reason == "corrupt"  # named .docx, but the bytes are no longer a readable package
    forced = failure_of(truncated, plugins, mime_type=DOCX)
    assert forced.reason == "corrupt"
    assert "truncated.docx" in forced.message


def test_docx_without_document_part_is_not_taken_for_a_docx(sample_docx, plugins):
    rewrite_zip(sample_docx, {"word/document.xml": None})
    assert detect(local_document(sample_docx), plugins, ExtractOptions()).mime_type != DOCX
    assert failure_of(sample_docx, plugins).reason == "corrupt"  # named .docx, but not a Word package
    forced = failure_of(sample_docx, plugins, mime_type=DOCX)
    assert forced.reason == "corrupt"


def test_docx_without_body_is_corrupt(sample_docx, plugins):
    replace_document_xml(sample_docx, f'<w:document xmlns:w="{W_NS}"/>'.encode())
    error = failure_of(sample_docx, plugins)
    assert error.reason == "corrupt"
    assert "w:body" in error.message


def test_copy_of_corpus_file_with_garbage_appended_still_reads(tmp_path, plugins):
    path = tmp_path / "padded.docx"
    shutil.copy(PYTHON_DOCX / "test.docx", path)
    with path.open("ab") as handle:
        handle.write(b"\0" * 100)
    result = extract(path, plugins=plugins)
    assert "python-docx was here!" in result.text


# -- Strict Open XML ---------------------------------------------------------------------------------

TIKA = PYTHON_DOCX.parent / "tika"


@pytest.mark.parametrize(
    ("builder", "name", "expected", "extractor"),
    [
        (build_docx, "strict.docx", "本文の最初の段落です。", "docx"),
        (build_xlsx, "strict.xlsx", "りんご\t3\t120\t360", "xlsx"),
        (build_pptx, "strict.pptx", "発表者ノートです。", "pptx"),
    ],
)
def test_strict_ooxml_reads_like_transitional(tmp_path, plugins, builder, name, expected, extractor):
    path = make_strict(builder(tmp_path / name))
    with zipfile.ZipFile(path) as archive:
        assert STRICT_OFFICE_DOCUMENT in archive.read("_rels/.rels")
        assert b"schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" not in archive.read(
            "_rels/.rels"
        )
    transitional = extract(builder(tmp_path / f"transitional-{name}"), plugins=plugins)
    result = extract(path, plugins=plugins)
    assert result.extractor == extractor
    assert expected in result.text
    assert result.text == transitional.text
    assert result.metadata.get("title") == transitional.metadata.get("title")


def test_strict_main_part_is_found_through_the_root_relationships(tmp_path):
    path = make_strict(build_docx(tmp_path / "moved.docx"))
    moved = {"word/document.xml": None, "word/body.xml": zipfile.ZipFile(path).read("word/document.xml")}
    rewrite_zip(path, {**moved, "_rels/.rels": lambda data: data.replace(b"word/document.xml", b"word/body.xml")})
    renamed = tmp_path / "upload.bin"
    shutil.copy(path, renamed)
    from extractkit_plugins.type_detection import detect as detect_type

    assert detect_type(renamed) == DOCX


# -- encrypted OOXML -------------------------------------------------------------------------------------


def test_password_protected_xlsx_is_encrypted_without_a_password(plugins):
    error = failure_of(TIKA / "testEXCEL_protected_passtika.xlsx", plugins)
    assert error.reason == "encrypted"
    assert "office_password" in error.message


def test_password_protected_xlsx_opens_with_the_configured_password(plugins):
    options = ExtractOptions(extra={"office_password": "tika"})
    result = extract(TIKA / "testEXCEL_protected_passtika.xlsx", plugins=plugins, options=options)
    assert result.extractor == "encrypted-ooxml"
    assert "This is an Encrypted Excel spreadsheet." in result.pages[0].text
    assert result.metadata["encrypted"] is True
    assert result.metadata["sheets"] == ["Sheet1", "Sheet2", "Sheet3"]


def test_generated_encrypted_pptx_needs_the_right_password(tmp_path, plugins):
    from msoffcrypto.format.ooxml import OOXMLFile

    plain = build_pptx(tmp_path / "deck.pptx")
    encrypted = tmp_path / "locked.pptx"
    with plain.open("rb") as source, encrypted.open("wb") as target:
        OOXMLFile(source).encrypt("秘密のパスワード", target)
    assert failure_of(encrypted, plugins).reason == "encrypted"
    wrong = failure_of(encrypted, plugins, options=ExtractOptions(extra={"office_password": "wrong"}))
    assert wrong.reason == "encrypted"
    assert "does not open" in wrong.message
    result = extract(encrypted, plugins=plugins, options=ExtractOptions(extra={"office_password": "秘密のパスワード"}))
    assert result.text == extract(plain, plugins=plugins).text
    assert result.metadata["decrypted_mime_type"].endswith("presentationml.presentation")


# -- comments and charts -----------------------------------------------------------------------------------


def test_docx_comments_and_chart_labels_are_extracted(tmp_path, plugins):
    path = build_docx_with_chart_and_comment(tmp_path / "annotated.docx", tmp_path)
    lines = extract(path, plugins=plugins).text.splitlines()
    for line in ("コメント付きの段落。", CHART_TITLE, *SERIES_NAMES, COMMENT_TEXT):
        assert line in lines
    assert lines.index(CHART_TITLE) < lines.index(COMMENT_TEXT)


def test_xlsx_comments_follow_their_sheet(tmp_path, plugins):
    result = extract(build_xlsx_with_comment(tmp_path / "noted.xlsx"), plugins=plugins)
    assert result.pages[0].text.splitlines() == ["集計", "合計", "\t42", COMMENT_TEXT]


def test_pptx_chart_title_series_names_and_comments(tmp_path, plugins):
    result = extract(build_pptx_with_chart_and_comment(tmp_path / "chart.pptx"), plugins=plugins)
    assert result.pages[0].text.splitlines() == [CHART_TITLE, *SERIES_NAMES, "", COMMENT_TEXT]
