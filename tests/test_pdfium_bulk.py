"""pdfium calls made many at a time give what pypdfium2's one-by-one calls give, on real pages."""

from __future__ import annotations

import ctypes
import math

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
import pytest

from extractkit_plugins.pdf import pdfium_bulk, pdfium_calls
from extractkit_plugins.pdf.pdf_layout import measure_lines
from extractkit_plugins.pdf.pdf_page_text import _lines_with_offsets
from extractkit_plugins.pdf.pdf_tables import TABLE_GAP_EM, _contiguous_starts, spaced_lines

from truth import generate as generator

TABLE = "pdfplumber/nics-background-checks-2015-11.pdf"


@pytest.fixture
def pages(corpus, tmp_path):
    """Text pages of a table of figures, vertical Japanese, and generated Japanese+English prose."""
    generated = tmp_path / "ja-en.pdf"
    generator.build_born_digital_pdf(generated, pages=3)
    documents = [pdfium.PdfDocument(str(path)) for path in (corpus / TABLE, corpus / "pdfminer.six/jo.pdf", generated)]
    loaded = [(document[index], document) for document in documents for index in range(len(document))]
    textpages = [(page.get_textpage(), page, document) for page, document in loaded]
    yield [textpage for textpage, _, _ in textpages]
    for textpage, page, _ in textpages:
        textpage.close()
        page.close()
    for document in documents:
        document.close()


def test_boxes_angles_and_indexes_match_the_single_calls(pages):
    for textpage in pages:
        indexes = list(range(textpage.count_chars()))
        loose = pdfium_bulk.loose_boxes(textpage, indexes)
        tight = pdfium_bulk.tight_boxes(textpage, indexes)
        angles = pdfium_bulk.char_angles(textpage, indexes)
        for index in indexes:
            assert loose.box(index) == pytest.approx(textpage.get_charbox(index, loose=True), abs=1e-9)
            assert tight.box(index) == pytest.approx(textpage.get_charbox(index), abs=1e-9)
            assert angles[index] == pytest.approx(pdfium_c.FPDFText_GetCharAngle(textpage, index), abs=1e-9)
        text_indexes = list(range(0, len(textpage.get_text_range()), 7))
        expected = [pdfium_c.FPDFText_GetCharIndexFromTextIndex(textpage, index) for index in text_indexes]
        assert pdfium_bulk.char_indexes(textpage, text_indexes) == expected
        flagged = sum(1 for index in indexes if pdfium_c.FPDFText_HasUnicodeMapError(textpage, index) == 1)
        assert pdfium_bulk.map_errors(textpage, indexes) == flagged


def test_an_index_pdfium_refuses_gets_an_empty_box(pages):
    textpage = pages[0]
    beyond = textpage.count_chars() + 5
    assert pdfium_bulk.loose_boxes(textpage, [-1, beyond]).box(0) == (0.0, 0.0, 0.0, 0.0)
    assert pdfium_bulk.loose_boxes(textpage, [-1, beyond]).box(1) == (0.0, 0.0, 0.0, 0.0)
    assert pdfium_bulk.loose_boxes(textpage, []) == ([], [], [], [])


def test_metadata_matches_pypdfium2(corpus):
    document = pdfium.PdfDocument(str(corpus / TABLE))
    try:
        keys = pdfium.PdfDocument.METADATA_KEYS
        texts = pdfium_bulk.metadata_texts(document, keys)
        assert texts == document.get_metadata_dict()
        assert texts["Producer"].startswith("Mac OS X")
    finally:
        document.close()


def test_long_and_japanese_metadata_match_pypdfium2(tmp_path):
    """Entries longer than the first read's buffer are read again in full."""
    path = tmp_path / "long-title.pdf"
    pdf = generator.new_fpdf()
    pdf.set_title("議事録 " * 200 + "end")  # about 1,200 UTF-16 bytes
    pdf.set_author("山田太郎")
    pdf.add_page()
    pdf.output(str(path))
    document = pdfium.PdfDocument(str(path))
    try:
        texts = pdfium_bulk.metadata_texts(document, pdfium.PdfDocument.METADATA_KEYS)
        assert texts == document.get_metadata_dict()
        assert texts["Title"].endswith("議事録 end") and texts["Author"] == "山田太郎"
    finally:
        document.close()


def _spaced_one_by_one(textpage, line: str, offset: int) -> str:
    """The table-gap rule character by character through pypdfium2, as the reference."""
    out, previous_right, position = [], None, offset
    for char in line:
        index = pdfium_c.FPDFText_GetCharIndexFromTextIndex(textpage, position)
        position += len(char.encode("utf-16-le")) // 2
        if char.isspace() or index < 0:
            out.append(char)
            previous_right = None if char.isspace() else previous_right
            continue
        left, bottom, right, top = textpage.get_charbox(index, loose=True)
        if previous_right is not None and left - previous_right > TABLE_GAP_EM * (abs(top - bottom) or 10.0):
            out.append(" ")
        out.append(char)
        previous_right = right
    return "".join(out)


def test_table_gaps_of_a_page_match_the_one_by_one_rule(pages):
    textpage = pages[0]
    lines = _lines_with_offsets(textpage.get_text_range())
    spaced = spaced_lines(textpage, lines)
    assert spaced == [_spaced_one_by_one(textpage, line, offset) for line, offset in lines]
    assert any(line.startswith("Hawaii 1,248 0 0 0 0 0") for line in spaced)


def test_table_gaps_of_lines_out_of_step_with_pdfium_match_the_one_by_one_rule(pages):
    """A line whose text offsets do not run with pdfium's indexes is measured character by character."""
    textpage = pages[0]
    lines = _lines_with_offsets(textpage.get_text_range())
    shifted = [(line, offset + 1) for line, offset in lines[10:14]]  # indexes now point one character on
    assert spaced_lines(textpage, shifted) == [_spaced_one_by_one(textpage, line, offset) for line, offset in shifted]


def _check_geometry(textpage) -> None:
    lines = _lines_with_offsets(textpage.get_text_range())
    for (line, offset), geometry in zip(lines, measure_lines(textpage, lines), strict=True):
        if not line.strip():
            assert geometry is None
            continue
        first = len(line) - len(line.lstrip())
        head = pdfium_c.FPDFText_GetCharIndexFromTextIndex(
            textpage, offset + len(line[:first].encode("utf-16-le")) // 2
        )
        assert geometry.first == pytest.approx(textpage.get_charbox(head, loose=True), abs=1e-9)
        angle = math.degrees(pdfium_c.FPDFText_GetCharAngle(textpage, head)) % 360
        assert geometry.angle == pytest.approx(angle, abs=1e-9)


def test_line_geometry_matches_the_single_calls(pages):
    for textpage in pages:
        _check_geometry(textpage)


def test_addresses_are_read_from_the_pointers(pages):
    textpage = pages[0]
    assert pdfium_calls.address_of(textpage).value == ctypes.cast(textpage.raw, ctypes.c_void_p).value


def _table_with_a_letter_outside_the_bmp(path) -> None:
    """Right-aligned figures set close together, one row named with U+1D538 (two UTF-16 units, one pdfium character)."""
    from fpdf import FPDF

    from support.pdf_images import DEJAVU_SANS

    pdf = FPDF()
    pdf.add_page()
    pdf.add_font("dejavu", fname=str(DEJAVU_SANS))
    pdf.set_font("dejavu", size=7)
    rows = [("Region", "Permit", "Hand", "Long", "Total")] + [
        (name, "1,248", "0", "10", "1,258") for name in ("Alpha", "\U0001d538lpha", "Bravo", "Charlie", "Delta", "Echo")
    ]
    for number, row in enumerate(rows):
        x = 20.0
        for column, (value, width) in enumerate(zip(row, (20.0, 12.0, 7.0, 7.0, 12.0), strict=True)):
            pdf.set_xy(x, 30.0 + 4.0 * number)
            pdf.cell(w=width, h=4.0, text=value, align="L" if column == 0 else "R")
            x += width
    pdf.output(str(path))


def test_table_lines_with_characters_outside_the_bmp_match_the_one_by_one_rule(tmp_path):
    path = tmp_path / "table-smp.pdf"
    _table_with_a_letter_outside_the_bmp(path)
    document = pdfium.PdfDocument(str(path))
    try:
        page = document[0]
        textpage = page.get_textpage()
        lines = _lines_with_offsets(textpage.get_text_range())
        assert any("\U0001d538" in line for line, _ in lines)
        spaced = spaced_lines(textpage, lines)
        assert spaced == [_spaced_one_by_one(textpage, line, offset) for line, offset in lines]
        assert any(line.startswith("\U0001d538lpha 1,248") for line in spaced), spaced
        assert None in _contiguous_starts(textpage, lines)  # that line was measured character by character
        _check_geometry(textpage)  # and the page's lines were measured through pdfium's index lookups
        textpage.close()
        page.close()
    finally:
        document.close()
