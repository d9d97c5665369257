"""RTF, EPUB, XML, HTML and declared encodings: Apache Tika's test documents plus generated files."""

from __future__ import annotations

import zipfile

import pytest

from extractkit import extract
from extractkit.errors import DocumentError
from extractkit.testing import check_extractor
from extractkit_plugins.markup.epub_extractor import EpubExtractor
from extractkit_plugins.markup.rtf_extractor import RtfExtractor
from extractkit_plugins.markup.xml_extractor import XmlExtractor
from extractkit_plugins.type_detection import detect


def _reason(path, plugins) -> str:
    with pytest.raises(DocumentError) as caught:
        extract(path, plugins=plugins)
    return caught.value.reason


@pytest.fixture
def tika_zip_member(corpus, tmp_path):
    """Copy one member of Tika's test-documents.zip (a real file) out to a temporary path."""

    def member(name: str):
        with zipfile.ZipFile(corpus / "tika" / "test-documents.zip") as archive:
            path = tmp_path / name
            path.write_bytes(archive.read(name))
        return path

    return member


# -- RTF -------------------------------------------------------------------------


def test_japanese_rtf_in_its_code_pages(corpus, plugins):
    ms932 = extract(corpus / "tika" / "testRTF-ms932.rtf", plugins=plugins)
    assert ms932.mime_type == "application/rtf"
    assert ms932.text == "Hello\nこんにちは\nTest\nテスト"
    assert ms932.metadata["title"] == "タイトル"
    unicode = extract(corpus / "tika" / "testRTFJapanese.rtf", plugins=plugins)
    assert "ゾルゲと尾崎、淡々と最期" in unicode.text
    assert "国内最大のスパイ事件として知られ" in unicode.text
    assert unicode.metadata["title"] == "ゾルゲと尾崎、淡々と最期"
    assert "\\" not in unicode.text and "fonttbl" not in unicode.text


def test_rtf_metadata_and_no_control_words(corpus, plugins):
    result = extract(corpus / "tika" / "testRTF.rtf", plugins=plugins)
    assert result.text == "Test d’indexation Word"
    assert result.metadata["author"] == "Bibliotheque"
    assert result.metadata["created"] == "2006-05-18T12:19:00"


def test_generated_rtf_escapes_tables_and_pictures(tmp_path, plugins):
    path = tmp_path / "letter.rtf"
    path.write_bytes(
        b"{\\rtf1\\ansi\\ansicpg1252\\deff0"
        b"{\\fonttbl{\\f0\\fnil\\fcharset128 MS Mincho;}{\\f1\\fswiss\\fcharset0 Arial;}}"
        b"{\\info{\\title \\'8c\\'5f\\'96\\'f1}}"
        b"\\'8c\\'5f\\'96\\'f1\\'8f\\'91\\par "
        b"{\\f1 caf\\'e9}\\par "
        b"\\uc1\\u26085?\\u26412?\\u-10179?\\u-8704?\\par "
        b"{\\pict\\pngblip 89504e470d0a1a0a}"
        b"\\trowd A\\cell B\\cell\\row "
        b'{\\field{\\*\\fldinst HYPERLINK "http://x"}{\\fldrslt link}}}'
    )
    result = extract(path, plugins=plugins)
    assert result.text.splitlines() == ["契約書", "café", "日本\U0001f600", "A\tB", "link"]
    assert result.metadata["title"] == "契約"


def test_rtf_conforms(corpus, tmp_path):
    check_extractor(
        RtfExtractor, [corpus / "tika" / "testRTF-ms932.rtf"], expected_text={"testRTF-ms932.rtf": "こんにちは"}
    )


# -- EPUB ------------------------------------------------------------------------


def test_epub_chapters_in_spine_order(corpus, plugins):
    result = extract(corpus / "tika" / "testEPUB.epub", plugins=plugins)
    assert result.mime_type == "application/epub+zip"
    assert result.metadata["title"] == "An ePub for Tika"
    assert result.metadata["creator"] == "Bart Hanssens"
    assert (result.metadata["language"], result.metadata["date"]) == ("en", "2009-10-07")
    assert result.text.index("This is the text for chapter One") < result.text.index("This is the text for chapter Two")
    assert "Table header\tTable data" in result.text
    assert len(result.pages) == result.metadata["chapters"] == 4
    assert "<" not in result.text


def _epub(path, chapters, encrypted=()):
    with zipfile.ZipFile(path, "w") as book:
        book.writestr("mimetype", "application/epub+zip", compress_type=zipfile.ZIP_STORED)
        book.writestr(
            "META-INF/container.xml",
            '<?xml version="1.0"?><container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">'
            '<rootfiles><rootfile full-path="OEBPS/book.opf" media-type="application/oebps-package+xml"/>'
            "</rootfiles></container>",
        )
        items = "".join(
            f'<item id="c{n}" href="text/ch%20{n}.xhtml" media-type="application/xhtml+xml"/>' for n in chapters
        )
        spine = "".join(f'<itemref idref="c{n}"/>' for n in reversed(chapters))
        book.writestr(
            "OEBPS/book.opf",
            '<?xml version="1.0"?><package xmlns="http://www.idpf.org/2007/opf" version="3.0">'
            '<metadata xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>吾輩は猫である</dc:title>'
            "<dc:creator>夏目漱石</dc:creator><dc:language>ja</dc:language></metadata>"
            f"<manifest>{items}</manifest><spine>{spine}</spine></package>",
        )
        for n in chapters:
            book.writestr(
                f"OEBPS/text/ch {n}.xhtml",
                '<?xml version="1.0" encoding="utf-8"?><!DOCTYPE html><html xmlns="http://www.w3.org/1999/xhtml">'
                f"<head><title>第{n}章</title></head><body><h1>第{n}章</h1><p>本文{n}&#12290;</p></body></html>",
            )
        if encrypted:
            refs = "".join(
                f'<EncryptedData xmlns="http://www.w3.org/2001/04/xmlenc#"><CipherData><CipherReference URI="{uri}"/>'
                "</CipherData></EncryptedData>"
                for uri in encrypted
            )
            book.writestr(
                "META-INF/encryption.xml",
                f'<encryption xmlns="urn:oasis:names:tc:opendocument:xmlns:container">{refs}</encryption>',
            )


def test_generated_japanese_epub_follows_the_spine(tmp_path, plugins):
    path = tmp_path / "neko.epub"
    _epub(path, [1, 2])
    result = extract(path, plugins=plugins)
    assert result.text == "第2章\n本文2。\n\n第1章\n本文1。"  # spine order, the title once per chapter
    assert [page.text for page in result.pages] == ["第2章\n本文2。", "第1章\n本文1。"]
    assert result.metadata["creator"] == "夏目漱石"


def test_drm_epub_is_encrypted_and_zip_bombs_are_too_large(tmp_path, plugins):
    drm = tmp_path / "drm.epub"
    _epub(drm, [1], encrypted=["OEBPS/text/ch%201.xhtml"])
    assert _reason(drm, plugins) == "encrypted"
    bomb = tmp_path / "bomb.epub"
    _epub(bomb, [1])
    with zipfile.ZipFile(bomb, "a", compression=zipfile.ZIP_DEFLATED) as book:
        book.writestr("OEBPS/filler.css", b" " * (40 * 1024 * 1024))
    assert _reason(bomb, plugins) == "too_large"


def test_epub_conforms(corpus):
    check_extractor(EpubExtractor, [corpus / "tika" / "testEPUB.epub"], expected_text={"testEPUB.epub": "chapter One"})


# -- XML and XHTML ---------------------------------------------------------------


def test_xml_gives_text_and_root_element(tika_zip_member, plugins):
    result = extract(tika_zip_member("testXML.xml"), plugins=plugins)
    assert result.extractor == "xml"
    assert result.metadata["root_element"] == "dc"
    assert result.text.splitlines()[:2] == ["Archimède et Lius", "Rida Benjelloun"]
    assert "<" not in result.text and "xmlns" not in result.text


def test_xml_entities_are_refused(tmp_path, plugins):
    laughs = tmp_path / "laughs.xml"
    laughs.write_text(
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>'
        "<lolz>&lol2;</lolz>"
    )
    assert _reason(laughs, plugins) == "corrupt"
    external = tmp_path / "xxe.xml"
    external.write_text('<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>')
    assert _reason(external, plugins) == "corrupt"


def test_xhtml_with_xml_declaration_is_html(tmp_path, plugins):
    path = tmp_path / "page.html"
    path.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd">\n'
        '<html xmlns="http://www.w3.org/1999/xhtml"><head><title>Rapport</title><style>p{}</style></head>'
        "<body><h1>Rapport</h1><p>Texte&#160;seul<br/>ligne deux</p></body></html>",
        encoding="utf-8",
    )
    assert detect(path) == "application/xhtml+xml"
    result = extract(path, plugins=plugins)
    assert result.text == "Rapport\nTexte seul\nligne deux"  # a no-break space is a space in text
    assert result.metadata["title"] == "Rapport"
    as_xml = extract(path, mime_type="text/xml", plugins=plugins)  # handed to the XML extractor, read as HTML
    assert as_xml.text == result.text


def test_xml_conforms(tika_zip_member):
    check_extractor(XmlExtractor, [tika_zip_member("testXML.xml")], expected_text={"testXML.xml": "Archimède"})


# -- HTML and encodings ----------------------------------------------------------


def test_tika_html_title_once(tika_zip_member, plugins):
    result = extract(tika_zip_member("testHTML.html"), plugins=plugins)
    assert result.metadata["title"] == "Title : Test Indexation Html"
    assert result.text.count("Title : Test Indexation Html") == 1


def test_title_equal_to_heading_appears_once(tmp_path, plugins):
    path = tmp_path / "same.html"
    path.write_text("<html><head><title>Annual report</title></head><body><h1>Annual report</h1><p>x</p></body></html>")
    assert extract(path, plugins=plugins).text == "Annual report\nx"


def test_html_tables_keep_their_rows(tmp_path, plugins):
    path = tmp_path / "table.html"
    path.write_text(
        "<html><body><p>Sales</p><table><tr><th>Region</th><th>Q1</th><th>Q2</th></tr>"
        "<tr><td>East</td><td><p>10</p></td><td>12</td></tr><tr><td>West<br>coast</td><td>7<td>9</tr>"
        "</table><p>End</p></body></html>"
    )
    assert extract(path, plugins=plugins).text.splitlines() == [
        "Sales",
        "Region\tQ1\tQ2",
        "East\t10\t12",
        "West coast\t7\t9",
        "End",
    ]


def test_declared_cp1252_wins_over_guessing(tmp_path, plugins):
    path = tmp_path / "es.html"
    path.write_bytes(
        b'<html><head><meta http-equiv="Content-Type" content="text/html; charset=windows-1252"></head>'
        + "<body><p>Très bien, niño. ¿Qué tal? “Sí” — 5 €</p></body></html>".encode("cp1252")
    )
    result = extract(path, plugins=plugins)
    assert result.text == "Très bien, niño. ¿Qué tal? “Sí” — 5 €"
    assert (result.metadata["encoding"], result.metadata["declared_encoding"]) == ("cp1252", "windows-1252")


def test_meta_charset_shift_jis(tmp_path, plugins):
    path = tmp_path / "jp.html"
    path.write_bytes(b'<meta charset="Shift_JIS"><p>' + "①番～表示".encode("cp932") + b"</p>")
    assert extract(path, plugins=plugins).text == "①番～表示"


def test_bom_less_utf16_text(tmp_path, plugins):
    path = tmp_path / "notes.txt"
    path.write_bytes("Meeting notes 議事録\r\nline two\r\n".encode("utf-16-le"))
    assert detect(path) == "text/plain"
    result = extract(path, plugins=plugins)
    assert (result.text, result.metadata["encoding"]) == ("Meeting notes 議事録\nline two", "utf-16-le")
    big_endian = tmp_path / "be.txt"
    big_endian.write_bytes("Plain ASCII in UTF-16BE\n".encode("utf-16-be"))
    assert extract(big_endian, plugins=plugins).text == "Plain ASCII in UTF-16BE"


def test_clean_text_is_text_whatever_libmagic_says(tmp_path, plugins):
    path = tmp_path / "record.txt"
    path.write_text("PA 123 Main St\nSpringfield\n", encoding="ascii")  # libmagic: application/vnd.hp-HPGL
    result = extract(path, plugins=plugins)
    assert (result.mime_type, result.text) == ("text/plain", "PA 123 Main St\nSpringfield")


def test_empty_input_rule(tmp_path, plugins):
    blank = tmp_path / "blank.txt"
    blank.write_text("  \n\t\n")
    result = extract(blank, plugins=plugins)
    assert (result.text, result.metadata["empty_text"]) == ("", True)
    empty_page = tmp_path / "empty.html"
    empty_page.write_text("<html><body><script>x()</script></body></html>")
    assert extract(empty_page, plugins=plugins).metadata["empty_text"] is True
    nothing = tmp_path / "nothing.txt"
    nothing.write_bytes(b"")
    assert _reason(nothing, plugins) == "empty"
