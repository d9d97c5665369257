"""The PDF extractors on real and generated PDFs: text layers, per-page OCR, metadata, encryption, bad input."""

from __future__ import annotations

import random
import threading
from pathlib import Path

import psutil
import pytest
from PIL import Image

import extractkit
from extractkit.errors import CorruptDocument, DocumentError, EncryptedDocument, TooLarge
from extractkit.models import Document, ExtractOptions
from extractkit_plugins.image import ocr
from extractkit_plugins.local.json_records import result_record
from extractkit_plugins.pdf import pdf_text_quality as quality
from extractkit_plugins.pdf.pdf_extractor import PDFIUM_LOCK, PdfExtractor, pdf_date_to_iso
from extractkit_plugins.pdf.pdf_page_reading import raster_dpi, read_page

from support.pdf_images import (
    DEJAVU_SANS,
    ENGLISH_SAMPLE,
    IPA_GOTHIC,
    JAPANESE_SAMPLE,
    ScanPage,
    blank_pdf,
    pdf_claiming_pages,
    pdf_with_pages,
    render_lines,
)
from truth.cer import cer

NO_OCR = ExtractOptions(ocr_enabled=False)


def document(path: Path) -> Document:
    return Document(uri=path.as_uri(), path=path, name=path.name, size=path.stat().st_size, mime_type="application/pdf")


def scanned(lines: tuple[str, ...], font: Path = IPA_GOTHIC, font_px: int = 46) -> Image.Image:
    """An A4 page image at 300 dpi with these lines, below where a stamp would go."""
    return render_lines(lines, font_path=font, font_px=font_px, margin=400)


@pytest.fixture
def count_ocr_passes(monkeypatch):
    """Count tesseract passes (the real ones still run)."""
    calls = []
    real = ocr.recognise

    def counting(*args, **kwargs):
        calls.append(args[0])
        return real(*args, **kwargs)

    monkeypatch.setattr(ocr, "recognise", counting)
    return calls


# -- text layers ---------------------------------------------------------------------------


def test_vertical_japanese_text_layer_comes_in_reading_order(corpus, plugins):
    result = extractkit.extract(corpus / "pdfminer.six" / "jo.pdf", plugins=plugins)
    reference = (corpus / "pdfminer.six" / "jo.txt.ref").read_text(encoding="utf-8")
    assert result.extractor == "pdf"
    assert cer(reference, result.text) == 0.0
    [page] = result.pages
    assert (page.ocr, page.engine, page.confidence) == (False, "pdfium", None)


def test_table_pdfs_read_without_ocr_and_rotation_changes_nothing(corpus, plugins):
    straight = extractkit.extract(corpus / "pdfplumber" / "nics-background-checks-2015-11.pdf", plugins=plugins)
    rotated = extractkit.extract(corpus / "pdfplumber" / "nics-background-checks-2015-11-rotated.pdf", plugins=plugins)
    # The title is drawn after the table; top to bottom it comes first, then the header rows.
    lines = straight.text.splitlines()
    assert lines[0] == "NICS Firearm Background Checks"
    assert lines[2].startswith("State / Territory Permit Handgun Long Gun")
    assert "Wyoming" in straight.text
    assert rotated.text.startswith("NICS Firearm Background Checks\n")  # turned, not tategaki
    assert sorted(rotated.text.splitlines()) == sorted(lines)
    assert straight.ocr_pages == rotated.ocr_pages == 0


def test_table_cells_are_separated_by_their_measured_gaps(corpus, plugins):
    result = extractkit.extract(corpus / "pdfplumber" / "nics-background-checks-2015-11.pdf", plugins=plugins)
    rows = {line.split(" ", 1)[0]: line for line in result.text.splitlines()}
    # pdfium alone gives "Hawaii 1,248 0 00 0 ..." and "Virginia 622 24,052 22,348 974 00 0 ...".
    assert rows["Hawaii"] == "Hawaii 1,248 " + "0 " * 11 + "1 3 " + "0 " * 7 + "1,252"
    assert rows["Virginia"].startswith("Virginia 622 24,052 22,348 974 0 0 0 ")
    assert rows["Wyoming"].endswith(" 5,017")


def test_turned_text_is_read_from_its_own_top(tmp_path, plugins):
    from fpdf import FPDF

    pdf = FPDF(unit="pt", format="A4")
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    with pdf.rotation(90, x=300, y=420):
        for number in (5, 4, 3, 2, 1):  # drawn bottom line first, as some producers do
            pdf.text(150, 280 + number * 20, f"Line number {number} of the turned page")
    pdf.output(str(tmp_path / "turned.pdf"))
    result = extractkit.extract(tmp_path / "turned.pdf", plugins=plugins)
    assert result.text.splitlines() == [f"Line number {number} of the turned page" for number in range(1, 6)]


def test_pdfplumber_declines_vertical_pages(corpus, plugins):
    options = ExtractOptions(preferred_extractors=("pdfplumber",))
    result = extractkit.extract(corpus / "pdfminer.six" / "jo.pdf", plugins=plugins, options=options)
    reference = (corpus / "pdfminer.six" / "jo.txt.ref").read_text(encoding="utf-8")
    assert result.extractor == "pdfplumber"
    assert result.pages[0].engine == "pdfium"
    assert cer(reference, result.text) == 0.0
    assert "  " not in result.text


def test_simple_english_pdf(corpus, plugins):
    result = extractkit.extract(corpus / "pdfminer.six" / "simple1.pdf", plugins=plugins)
    assert result.text.count("Hello World") >= 3


def test_generated_japanese_and_english_text_layer_is_exact(tmp_path, plugins):
    path = pdf_with_pages(tmp_path / "born-digital.pdf", [JAPANESE_SAMPLE, ENGLISH_SAMPLE])
    result = extractkit.extract(path, plugins=plugins)
    assert [page.ocr for page in result.pages] == [False, False]
    assert cer("\n".join(JAPANESE_SAMPLE), result.pages[0].text) == 0.0
    assert cer("\n".join(ENGLISH_SAMPLE), result.pages[1].text) == 0.0


# -- per-page OCR ---------------------------------------------------------------------------


def test_three_hundred_pages_with_one_scan_run_ocr_once(tmp_path, count_ocr_passes):
    pages: list = [[f"Page {n}: " + ENGLISH_SAMPLE[n % 8], JAPANESE_SAMPLE[n % 7]] for n in range(1, 301)]
    pages[149] = scanned(JAPANESE_SAMPLE[:3])
    result = PdfExtractor().extract(document(pdf_with_pages(tmp_path / "mixed.pdf", pages)))
    assert len(count_ocr_passes) == 1
    assert result.metadata["page_count"] == 300
    assert result.metadata["ocr_pages"] == result.ocr_pages == 1
    scan = result.pages[149]
    assert (scan.number, scan.ocr, scan.engine) == (150, True, "tesseract")
    assert 80 < scan.confidence <= 100
    assert cer("\n".join(JAPANESE_SAMPLE[:3]), scan.text) <= 0.01
    assert all(page.engine == "pdfium" and not page.ocr for page in result.pages if page.number != 150)
    assert result.pages[0].text.startswith("Page 1: ")


def test_scan_with_a_stamp_in_its_text_layer_is_ocrd(tmp_path):
    stamped = ScanPage(scanned(ENGLISH_SAMPLE, DEJAVU_SANS, 42), ["Scanned 2021-03-31"])
    path = pdf_with_pages(tmp_path / "stamped.pdf", [stamped])
    [page] = PdfExtractor().extract(document(path)).pages
    assert page.ocr and page.engine == "tesseract"
    assert cer("\n".join(["Scanned 2021-03-31", *ENGLISH_SAMPLE]), page.text) <= 0.01


def test_text_layer_without_unicode_mapping_is_replaced_by_ocr(tmp_path):
    garbage = ["\ue000\ue001\ue002\ue003 \ue004\ue005\ue006" * 6] * 20
    layer = ScanPage(scanned(JAPANESE_SAMPLE[:3]), garbage, invisible=True)
    path = pdf_with_pages(tmp_path / "broken-font.pdf", [layer])
    [page] = PdfExtractor().extract(document(path)).pages
    assert page.ocr
    assert not any(quality.is_unmapped(char) for char in page.text)
    assert "道路交通法" in page.text


def test_ocr_disabled_keeps_the_text_layer(tmp_path, count_ocr_passes):
    path = pdf_with_pages(tmp_path / "scan.pdf", [scanned(JAPANESE_SAMPLE[:2])])
    [page] = PdfExtractor(NO_OCR).extract(document(path)).pages
    assert (page.ocr, page.text) == (False, "")
    assert count_ocr_passes == []


def test_giant_page_is_rendered_within_the_pixel_budget(tmp_path):
    path = blank_pdf(tmp_path / "poster.pdf", 1, size=(14_400, 14_400))
    options = ExtractOptions(max_image_pixels=4_000_000)
    import pypdfium2 as pdfium

    with PDFIUM_LOCK:
        pdf = pdfium.PdfDocument(str(path))
        try:
            reading = read_page(pdf, 0, "poster.pdf", options)
        finally:
            pdf.close()
    assert reading.quality.reason == quality.NO_TEXT
    assert reading.image.width * reading.image.height <= 4_000_000
    assert reading.dpi < 300


def test_raster_dpi_caps():
    assert raster_dpi(595, 842, 300, 178_956_970) == 300
    poster = raster_dpi(14_400, 14_400, 300, 178_956_970)
    assert (14_400 / 72 * poster) ** 2 <= 40_000_000
    strip = raster_dpi(14_400, 72, 300, 10**12)
    assert 14_400 / 72 * strip <= 30_000


# -- metadata --------------------------------------------------------------------------------


def test_metadata_title_dates_producer(corpus, plugins):
    result = extractkit.extract(corpus / "pdfminer.six" / "zen_of_python_corrupted.pdf", plugins=plugins)
    metadata = result.metadata
    assert metadata["title"] == "zen_of_python.txt"
    assert metadata["producer"] == "GPL Ghostscript 9.18"
    assert metadata["created"] == "2018-05-30T13:31:07+02:00"
    assert metadata["modified"] == "2018-05-30T13:31:07+02:00"
    assert (metadata["page_count"], metadata["encrypted"]) == (1, False)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("D:20140509193727+02'00'", "2014-05-09T19:37:27+02:00"),
        ("D:20170223172548Z00'00'", "2017-02-23T17:25:48+00:00"),
        ("D:19990101120000-05'30'", "1999-01-01T12:00:00-05:30"),
        ("D:20041026181009", "2004-10-26T18:10:09"),
        ("D:200805", "2008-05"),
        ("D:20080501", "2008-05-01"),
        ("2008", "2008"),
        ("D:20081399", None),
        ("yesterday", None),
        ("", None),
    ],
)
def test_pdf_dates_become_iso_8601(value, expected):
    assert pdf_date_to_iso(value) == expected


# -- encryption ----------------------------------------------------------------------------------

NEEDS_BAZ = ["enc-aes-128.pdf", "enc-aes-128-m.pdf", "enc-aes-256.pdf", "enc-aes-256-m.pdf", "enc-rc4-40.pdf"]
NEEDS_BAZ += ["enc-rc4-128.pdf"]


@pytest.mark.parametrize("name", NEEDS_BAZ)
def test_user_password_pdfs_fail_as_encrypted_and_open_with_the_password(corpus, plugins, name):
    path = corpus / "pdfminer.six" / name
    with pytest.raises(EncryptedDocument) as raised:
        extractkit.extract(path, plugins=plugins)
    assert raised.value.reason == "encrypted"
    assert name in raised.value.message and "pdf_password" in raised.value.message
    result = extractkit.extract(path, plugins=plugins, options=ExtractOptions(pdf_password="baz"))
    assert result.text == "Secret!"
    assert result.metadata["encrypted"] is True


def test_wrong_configured_password_says_so(corpus):
    path = corpus / "pdfminer.six" / "enc-aes-256-r6.pdf"
    with pytest.raises(EncryptedDocument) as raised:
        PdfExtractor(ExtractOptions(pdf_password="baz")).extract(document(path))
    assert "configured pdf_password" in raised.value.message


def test_owner_password_only_pdf_opens_with_the_empty_password(corpus):
    result = PdfExtractor(NO_OCR).extract(document(corpus / "pdfminer.six" / "enc-encrypted_doc_no_id.pdf"))
    assert result.metadata["encrypted"] is True
    assert result.metadata["page_count"] == 3


def test_unencrypted_base(corpus):
    result = PdfExtractor().extract(document(corpus / "pdfminer.six" / "enc-base.pdf"))
    assert (result.text, result.metadata["encrypted"]) == ("Secret!", False)


def test_pdfplumber_password_example(corpus):
    path = corpus / "pdfplumber" / "password-example.pdf"
    with pytest.raises(EncryptedDocument):
        PdfExtractor().extract(document(path))
    result = PdfExtractor(ExtractOptions(pdf_password="test")).extract(document(path))
    assert "Backup4all" in result.text
    assert result.metadata["author"] == "Administrator"
    assert result.metadata["created"] == "2008-05"
    assert result.metadata["page_count"] == 4


# -- bad input -------------------------------------------------------------------------------------


def corrupted(corpus: Path, tmp_path: Path, kind: str) -> Path:
    nics = (corpus / "pdfplumber" / "nics-background-checks-2015-11.pdf").read_bytes()
    path = tmp_path / f"{kind}.pdf"
    if kind == "truncated":
        path.write_bytes(nics[: len(nics) // 2])
    elif kind == "broken-xref":
        path.write_bytes(nics.replace(b"startxref", b"startxre_").replace(b"xref", b"xre_"))
    elif kind == "random-after-header":
        path.write_bytes(b"%PDF-1.7\n" + random.Random(5).randbytes(40_000))
    return path


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("truncated", "corrupt"),
        ("random-after-header", "corrupt"),
        ("broken-xref", "State / Territory"),
        ("pdfminer.six/zen_of_python_corrupted.pdf", "Beautiful is better than ugly."),
        ("pdfminer.six/issue-1113-evil-xobjects.pdf", "Hello world"),
        ("pdfplumber/malformed-from-issue-932.pdf", "2021"),
    ],
)
def test_bad_pdfs_end_classified_or_correct(corpus, tmp_path, source, expected):
    path = corpus / source if "/" in source else corrupted(corpus, tmp_path, source)
    try:
        result = PdfExtractor(NO_OCR).extract(document(path))
    except DocumentError as error:
        assert error.reason == expected, error.message
        assert path.name in error.message
    else:
        assert expected in result.text


def test_random_bytes_through_the_pipeline_are_classified(tmp_path, plugins):
    path = tmp_path / "noise.pdf"
    path.write_bytes(random.Random(3).randbytes(30_000))
    with pytest.raises(DocumentError) as raised:
        extractkit.extract(path, plugins=plugins)
    assert raised.value.reason == "corrupt"  # named .pdf, but its bytes are not a PDF


def test_pdf_claiming_thousands_of_pages_is_too_large(tmp_path, plugins):
    path = pdf_claiming_pages(tmp_path / "claims.pdf", 5000)
    with pytest.raises(TooLarge) as raised:
        extractkit.extract(path, plugins=plugins)
    assert "5000 pages" in raised.value.message


def test_page_count_that_lies_is_too_large_or_corrupt(tmp_path):
    path = pdf_claiming_pages(tmp_path / "lies.pdf", 1)
    path.write_bytes(path.read_bytes().replace(b"/Count 1 ", b"/Count 100000 "))
    with pytest.raises(TooLarge):
        PdfExtractor().extract(document(path))
    with pytest.raises(CorruptDocument) as raised:
        PdfExtractor(ExtractOptions(max_pages=1_000_000, ocr_enabled=False)).extract(document(path))
    assert "page 2" in raised.value.message


def test_max_pages_is_respected(tmp_path):
    path = blank_pdf(tmp_path / "thirty.pdf", 30)
    with pytest.raises(TooLarge):
        PdfExtractor(ExtractOptions(max_pages=20)).extract(document(path))
    assert len(PdfExtractor(ExtractOptions(max_pages=30, ocr_enabled=False)).extract(document(path)).pages) == 30


def test_concurrent_threads_share_pdfium_safely(corpus):
    paths = [corpus / "pdfminer.six" / "jo.pdf", corpus / "pdfplumber" / "nics-background-checks-2015-11.pdf"]
    expected = {path: PdfExtractor().extract(document(path)).text for path in paths}
    failures: list[str] = []

    def work(path: Path) -> None:
        for _ in range(8):
            if PdfExtractor().extract(document(path)).text != expected[path]:
                failures.append(path.name)

    threads = [threading.Thread(target=work, args=(paths[index % 2],)) for index in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert failures == []


# -- the text-quality decision ----------------------------------------------------------------


def test_quality_verdicts():
    a4 = quality.A4_AREA
    assert quality.assess_text(" \n ", page_area=a4).reason == quality.NO_TEXT
    assert quality.assess_text("\ufffd" * 50 + "abc", page_area=a4).reason == quality.UNMAPPED
    assert quality.assess_text("\x01\x02\x03" * 30, page_area=a4).reason == quality.UNMAPPED
    assert quality.assess_text("ok " * 200, page_area=a4, flagged_share=0.9).reason == quality.UNMAPPED
    assert quality.assess_text("12", page_area=a4, image_coverage=lambda: 0.95).reason == quality.SPARSE
    assert quality.assess_text("Chapter 1", page_area=a4, image_coverage=lambda: 0.0).usable
    assert quality.assess_text("本文" * 100, page_area=a4, image_coverage=lambda: 1.0).usable


# -- the pdfplumber alternative ---------------------------------------------------------------------


def test_pdfplumber_is_used_only_when_preferred(corpus, plugins):
    path = corpus / "pdfplumber" / "nics-background-checks-2015-11.pdf"
    assert extractkit.extract(path, plugins=plugins).extractor == "pdf"
    options = ExtractOptions(preferred_extractors=("pdfplumber",))
    result = extractkit.extract(path, plugins=plugins, options=options)
    assert result.extractor == "pdfplumber"
    assert "State / Territory" in result.text
    assert result.pages[0].engine == "pdfplumber"
    assert result.metadata["page_count"] == 1


def test_pdfplumber_classifies_encrypted_and_broken_files(corpus, tmp_path):
    from extractkit_plugins.pdf.pdfplumber_extractor import PdfplumberExtractor

    with pytest.raises(EncryptedDocument):
        PdfplumberExtractor().extract(document(corpus / "pdfplumber" / "password-example.pdf"))
    with pytest.raises(CorruptDocument):
        PdfplumberExtractor().extract(document(corrupted(corpus, tmp_path, "truncated")))
    result = PdfplumberExtractor(ExtractOptions(pdf_password="test")).extract(
        document(corpus / "pdfplumber" / "password-example.pdf")
    )
    assert "Backup4all" in result.text


def test_pdfplumber_ocrs_scanned_pages(tmp_path):
    from extractkit_plugins.pdf.pdfplumber_extractor import PdfplumberExtractor

    path = pdf_with_pages(tmp_path / "mixed.pdf", [ENGLISH_SAMPLE, scanned(JAPANESE_SAMPLE[:2])])
    result = PdfplumberExtractor().extract(document(path))
    assert [page.ocr for page in result.pages] == [False, True]
    assert "道路交通法" in result.pages[1].text


def test_a_page_whose_ocr_times_out_fails_alone(tmp_path, plugins):
    path = pdf_with_pages(tmp_path / "slow.pdf", [ENGLISH_SAMPLE, scanned(JAPANESE_SAMPLE * 3)])
    result = extractkit.extract(path, plugins=plugins, options=ExtractOptions(ocr_timeout=0.2))
    assert result.pages[0].text.startswith(ENGLISH_SAMPLE[0])
    assert (result.pages[1].ocr, result.pages[1].engine) == (True, None)
    [failure] = result.metadata["page_failures"]
    assert (failure["page"], failure["reason"]) == (2, "timeout")
    assert "slow.pdf page 2" in failure["message"]
    assert any(warning.startswith("page 2: ") for warning in result.metadata["warnings"])
    assert result.pages[0].failure is None
    assert (result.pages[1].failure.reason, result.pages[1].failure.message) == ("timeout", failure["message"])
    record = result_record(path.as_uri(), path.name, result)
    assert record["pages"][1]["failure"] == {"reason": "timeout", "message": failure["message"]}
    assert "failure" not in record["pages"][0]
    leftovers = [child for child in psutil.Process().children(recursive=True) if "tesseract" in child.name()]
    assert leftovers == []


def test_a_document_whose_only_page_times_out_fails(tmp_path, plugins):
    from extractkit.errors import ExtractionTimeout

    path = pdf_with_pages(tmp_path / "scan.pdf", [scanned(JAPANESE_SAMPLE * 3)])
    with pytest.raises(ExtractionTimeout):
        PdfExtractor(ExtractOptions(ocr_timeout=0.2)).extract(document(path))
