"""A file that starts with the PDF signature is a PDF without asking libmagic, and libmagic agrees."""

from __future__ import annotations

import magic

from extractkit_plugins.type_detection import PDF_SIGNATURE, detect


def test_files_starting_with_the_pdf_signature_are_pdfs_as_libmagic_says(corpus, tmp_path):
    made = {
        "header-only.pdf": b"%PDF-1.4 fake",
        "not-really.pdf": b"%PDF-1.4\nnot really a PDF\n",
        "named-like-text.txt": b"%PDF-1.7\n" + bytes(range(256)) * 4,
    }
    for name, content in made.items():
        (tmp_path / name).write_bytes(content)
    files = [*sorted(corpus.rglob("*.pdf")), *(tmp_path / name for name in made)]
    signed = [path for path in files if path.read_bytes()[: len(PDF_SIGNATURE)] == PDF_SIGNATURE]
    assert len(signed) >= len(made) + 10
    libmagic = magic.Magic(mime=True)
    for path in signed:
        assert detect(path, path.name) == "application/pdf" == libmagic.from_file(str(path)), path.name


def test_a_pdf_signature_later_in_the_file_is_left_to_libmagic(tmp_path):
    path = tmp_path / "late.pdf"
    path.write_bytes(b"garbage line\n" * 200 + b"%PDF-1.4\n")
    assert detect(path, path.name) != "application/pdf"
