"""PDF pages read a batch at a time: every page in order whatever the batch limits, a damaged page named, and the
visible-character count each reading carries."""

from __future__ import annotations

from pathlib import Path

import pypdfium2 as pdfium
import pytest
from test_pdf_extractor import document

import extractkit
from extractkit.errors import CorruptDocument
from extractkit.models import ExtractOptions
from extractkit_plugins.pdf import pdf_page_reading, pdfium_calls, pdfium_pages
from extractkit_plugins.pdf.pdf_extractor import open_document
from extractkit_plugins.pdf.pdf_page_reading import PAGE_BATCH, read_page, read_pages
from extractkit_plugins.pdf.pdf_page_text import read_page_text
from extractkit_plugins.pdf.pdf_text_quality import visible_characters
from extractkit_plugins.pdf.pdfium_pages import load_document, loaded_page

from support.paths import CORPUS
from truth import generate

NO_OCR = ExtractOptions(ocr_enabled=False)


@pytest.fixture(scope="module")
def long_pdf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A born-digital PDF of more pages than one batch holds (2½ batches)."""
    path = tmp_path_factory.mktemp("batches") / "long.pdf"
    generate.build_born_digital_pdf(path, pages=PAGE_BATCH * 2 + PAGE_BATCH // 2)
    return path


def one_by_one(path: Path) -> list[str]:
    """Each page's text read alone, through a pypdfium2 document (no batches)."""
    pdf = pdfium.PdfDocument(str(path))
    try:
        return [read_page(pdf, index, path.name, NO_OCR).text for index in range(len(pdf))]
    finally:
        pdf.close()


def test_a_long_document_comes_out_whole_and_in_order(long_pdf: Path) -> None:
    result = extractkit.extract(long_pdf, options=NO_OCR)
    assert [page.number for page in result.pages] == list(range(1, PAGE_BATCH * 2 + PAGE_BATCH // 2 + 1))
    assert [page.text for page in result.pages] == one_by_one(long_pdf)


@pytest.mark.parametrize("limit", ["PAGE_BATCH", "BATCH_OBJECTS", "BATCH_CHARACTERS"])
def test_any_batch_limit_gives_the_same_pages(long_pdf: Path, limit: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pdf_page_reading, limit, 1)
    pdf = load_document(long_pdf)
    try:
        first = read_pages(pdf, 0, len(pdf), long_pdf.name)
    finally:
        pdf.close()
    assert len(first) == 1  # a batch past its limit ends, but never empty
    result = extractkit.extract(long_pdf, options=NO_OCR)
    assert [page.text for page in result.pages] == one_by_one(long_pdf)


def test_a_batch_stops_at_the_end_asked_for(long_pdf: Path) -> None:
    pdf = load_document(long_pdf)
    try:
        assert len(read_pages(pdf, 0, len(pdf), long_pdf.name)) == PAGE_BATCH
        assert len(read_pages(pdf, 3, 5, long_pdf.name)) == 2
        assert [reading.text for reading in read_pages(pdf, 3, 5, long_pdf.name)] == one_by_one(long_pdf)[3:5]
    finally:
        pdf.close()


def _pdf_with_a_broken_second_page(path: Path) -> Path:
    """Three pages whose second entry in the page tree is a number, not a page: pdfium cannot load it."""
    page = b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]/Contents 5 0 R/Resources<</Font<</F1 6 0 R>>>>>>"
    text = b"BT /F1 12 Tf 20 100 Td (hello) Tj ET"
    objects = [
        b"<</Type/Catalog/Pages 2 0 R>>",
        b"<</Type/Pages/Kids[3 0 R 4 0 R 3 0 R]/Count 3>>",
        page,
        b"42",
        b"<</Length %d>>stream\n" % len(text) + text + b"\nendstream",
        b"<</Type/Font/Subtype/Type1/BaseFont/Helvetica>>",
    ]
    body = b"%PDF-1.4\n"
    offsets = []
    for number, content in enumerate(objects, 1):
        offsets.append(len(body))
        body += b"%d 0 obj\n" % number + content + b"\nendobj\n"
    xref = len(body)
    body += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    body += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    body += b"trailer<</Size %d/Root 1 0 R>>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    path.write_bytes(body)
    return path


def test_a_page_that_cannot_be_loaded_fails_the_document_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _pdf_with_a_broken_second_page(tmp_path / "broken.pdf")
    loads: list[object] = []
    closes: list[object] = []
    bound = pdfium_calls.calls()
    load_page, close_page = bound.load_page, bound.close_page

    def counted_load(*arguments: object) -> object:
        page = load_page(*arguments)
        if page:
            loads.append(page)
        return page

    def counted_close(page: object) -> None:
        closes.append(page)
        close_page(page)

    counted = bound._replace(load_page=counted_load, close_page=counted_close)
    monkeypatch.setattr(pdfium_pages, "calls", lambda: counted)
    pdf = open_document(document(path))
    try:
        with pytest.raises(CorruptDocument, match="page 2 cannot be loaded"):
            read_pages(pdf, 0, len(pdf), path.name)
        assert len(loads) == len(closes) == 1  # page 1, loaded before the broken one, was closed
        assert [reading.text for reading in read_pages(pdf, 2, 3, path.name)] == ["hello"]
    finally:
        pdf.close()
    with pytest.raises(CorruptDocument, match=r"broken\.pdf: page 2 cannot be loaded"):
        extractkit.extract(path, options=NO_OCR)
    assert len(loads) == len(closes) == 3


@pytest.mark.parametrize(
    "name",
    [
        "pdfminer.six/jo.pdf",  # vertical columns, put in order
        "pdfplumber/nics-background-checks-2015-11.pdf",  # a table, its cells spaced apart
        "pdfplumber/nics-background-checks-2015-11-rotated.pdf",  # turned text, put top to bottom
        "pdfminer.six/simple1.pdf",
    ],
)
def test_the_visible_count_is_that_of_the_final_text(name: str, long_pdf: Path) -> None:
    for path in (CORPUS / name, long_pdf):
        pdf = load_document(path)
        try:
            for index in range(len(pdf)):
                with loaded_page(pdf, index) as (page, textpage):
                    text, visible = read_page_text(textpage, page.get_size()[0])
                assert visible == visible_characters(text), (path.name, index)
        finally:
            pdf.close()
