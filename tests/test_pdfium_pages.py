"""Opening a PDF through pdfium's own functions: small files from memory, big ones by path, the same text either way."""

from __future__ import annotations

from pathlib import Path

import pypdfium2.raw as pdfium_c
import pytest

from extractkit_plugins.pdf import pdfium_pages
from extractkit_plugins.pdf.pdfium_pages import DocumentLoadError, load_document, loaded_page

from truth import generate as generator


def _texts(path: Path, password: str = "") -> tuple[bool, list[str]]:
    """Whether the document was opened from memory, and the text of each of its pages."""
    pdf = load_document(path, password)
    try:
        from_memory = pdf._contents is not None
        texts = []
        for index in range(len(pdf)):
            with loaded_page(pdf, index) as (_, textpage):
                texts.append(textpage.get_text_range())
        return from_memory, texts
    finally:
        pdf.close()


@pytest.fixture
def prose(tmp_path: Path) -> Path:
    path = tmp_path / "prose.pdf"
    generator.build_born_digital_pdf(path, pages=3)
    return path


def test_a_small_file_is_read_from_memory_and_a_big_one_by_path_with_the_same_text(prose, monkeypatch):
    from_memory, in_memory = _texts(prose)
    assert from_memory and len(in_memory) == 3 and all(in_memory)
    monkeypatch.setattr(pdfium_pages, "MEMORY_LOAD_LIMIT", prose.stat().st_size - 1)
    from_memory, by_path = _texts(prose)
    assert not from_memory
    assert by_path == in_memory


def test_a_password_opens_a_document_read_from_memory(corpus):
    path = corpus / "pdfminer.six" / "enc-aes-256.pdf"
    with pytest.raises(DocumentLoadError) as refused:
        load_document(path)
    assert refused.value.code == pdfium_c.FPDF_ERR_PASSWORD
    assert _texts(path, "baz") == (True, ["Secret!"])


def test_a_missing_file_fails_as_pdfium_reports_it(tmp_path):
    with pytest.raises(DocumentLoadError) as failed:
        load_document(tmp_path / "gone.pdf")
    assert failed.value.code == pdfium_c.FPDF_ERR_FILE


def test_an_empty_file_is_opened_by_path_and_fails_as_a_damaged_one(tmp_path):
    path = tmp_path / "empty.pdf"
    path.write_bytes(b"")
    assert pdfium_pages._small_file_contents(path) is None
    with pytest.raises(DocumentLoadError) as failed:
        load_document(path)
    assert failed.value.code == pdfium_c.FPDF_ERR_FORMAT


def test_closing_lets_go_of_the_bytes(prose):
    pdf = load_document(prose)
    assert pdf._contents is not None and len(pdf._contents) == prose.stat().st_size
    pdf.close()
    pdf.close()
    assert pdf._contents is None and pdf.raw is None
