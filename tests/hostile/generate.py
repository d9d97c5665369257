"""Build a hostile corpus: bombs, broken and encrypted files, mislabelled files and good ones.

Each :class:`HostileCase` names a file and what a correct extractor must make of
it: ``"ok"`` (with text it must contain) or a failure reason. The expectations
follow what the builtin engines really do with each file: pdfium rebuilds a PDF
whose cross-reference table is wrong (so ``broken-xref.pdf`` is ``ok``) but
cannot open one cut in half (``corrupt``); random bytes named ``.pdf`` are
a mislabelled, damaged file (``corrupt``) while the same bytes named ``.bin``
are merely ``unsupported``; OOXML parts with a DOCTYPE are refused
as ``corrupt`` before any parser sees them; bombs and page counts over the
limits are ``too_large``.

Run as a script to write the corpus to a folder::

    python tests/hostile/generate.py OUT_DIR
"""

from __future__ import annotations

import argparse
import io
import random
import shutil
import struct
import sys
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus" / "public"
DEJAVU_SANS = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")

OK = "ok"
PDF_TEXT = ("Hello isolation", "Broken files must not break the batch")
JPEG_TEXT = "ISOLATION WORKS"
#: Pages in the page-count bomb: over ExtractOptions.max_pages (2000).
MANY_PAGES = 2500
#: Declared size of the decompression-bomb PNG.
BOMB_PIXELS_SIDE = 40_000
#: Inflated size of the zip-bomb docx's main part.
ZIP_BOMB_BYTES = 1024 * 1024 * 1024


@dataclass(frozen=True)
class HostileCase:
    """One file of the corpus and the outcome a correct extractor gives it."""

    name: str
    expected: str
    """``"ok"`` or the failure reason (``corrupt``, ``too_large``, ``encrypted`` …)."""
    contains: str = ""
    """For ``ok`` cases: text the result must contain."""
    must_not_contain: str = ""
    """Text that must appear in no result or message (a leaked local file, say)."""
    description: str = ""


# -- PDF --------------------------------------------------------------------


def build_pdf(objects: list[bytes]) -> bytes:
    """A PDF with the given objects (object 1 is the catalog) and a correct xref table."""
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def text_pdf(lines: tuple[str, ...]) -> bytes:
    """A one-page PDF showing ``lines`` in Helvetica."""
    shown = b" ".join(b"(%s) '" % line.encode("latin-1") for line in lines)
    content = b"BT /F1 18 Tf 72 720 Td 22 TL " + shown + b" ET"
    return build_pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
            b"/Resources << /Font << /F1 5 0 R >> >> >>",
            b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        ]
    )


def broken_xref_pdf() -> bytes:
    """Every xref offset is wrong by 999 bytes and ``startxref`` points past the end."""
    objects, marker, table = text_pdf(PDF_TEXT).partition(b"\nxref\n")
    table = table.rpartition(b"startxref")[0].replace(b"0000000", b"0000999")
    return objects + marker + table + b"startxref\n999999\n%%EOF\n"


def many_pages_pdf(pages: int) -> bytes:
    """A genuine PDF of ``pages`` tiny pages sharing one content stream."""
    content = b"BT /F1 12 Tf 20 20 Td (p) Tj ET"
    kids = b" ".join(b"%d 0 R" % (5 + index) for index in range(pages))
    page = b"<< /Type /Page /Parent 2 0 R /Contents 3 0 R >>"
    return build_pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids ["
            + kids
            + b"] /Count %d /MediaBox [0 0 100 100] " % pages
            + b"/Resources << /Font << /F1 4 0 R >> >> >>",
            b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        ]
        + [page] * pages
    )


# -- images -----------------------------------------------------------------


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def bomb_png(side: int) -> bytes:
    """A valid 1-bit greyscale PNG of ``side`` x ``side`` white pixels: a few hundred KB on disk."""
    row = b"\x00" + b"\xff" * ((side + 7) // 8)
    compressor = zlib.compressobj(9)
    chunks = [compressor.compress(row) for _ in range(side)]
    chunks.append(compressor.flush())
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", b"".join(chunks))
        + _png_chunk(b"IEND", b"")
    )


def text_jpeg(text: str) -> bytes:
    """A JPEG showing ``text`` in large black letters."""
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.truetype(str(DEJAVU_SANS), 64)
    image = Image.new("L", (900, 200), 255)
    ImageDraw.Draw(image).text((40, 60), text, font=font, fill=0)
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=92)
    return buffer.getvalue()


# -- Office -----------------------------------------------------------------

CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/word/document.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
    "</Types>"
)
PACKAGE_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    'Target="word/document.xml"/></Relationships>'
)
WORD_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def _word_document(doctype: str, paragraph: str) -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f"{doctype}\n"
        f'<w:document xmlns:w="{WORD_NS}"><w:body><w:p><w:r><w:t>{paragraph}</w:t></w:r></w:p>'
        "</w:body></w:document>"
    )


def write_docx(path: Path, document_xml: str) -> None:
    """Write a minimal docx package whose main part is ``document_xml``."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as package:
        package.writestr("[Content_Types].xml", CONTENT_TYPES)
        package.writestr("_rels/.rels", PACKAGE_RELS)
        package.writestr("word/document.xml", document_xml)


def write_zip_bomb_docx(path: Path, inflated_bytes: int) -> None:
    """A docx whose main part inflates to ``inflated_bytes`` of zeros, written in a stream (about 1 MB on disk)."""
    block = bytes(1024 * 1024)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as package:
        package.writestr("[Content_Types].xml", CONTENT_TYPES)
        package.writestr("_rels/.rels", PACKAGE_RELS)
        with package.open("word/document.xml", "w", force_zip64=True) as part:
            for _ in range(inflated_bytes // len(block)):
                part.write(block)


def _billion_laughs() -> str:
    """A DOCTYPE whose entity ``lol9`` expands to 10**9 copies of "lol"."""
    entities = ['<!ENTITY lol0 "lol">']
    for level in range(1, 10):
        entities.append(f'<!ENTITY lol{level} "{f"&lol{level - 1};" * 10}">')
    return "<!DOCTYPE w:document [" + "".join(entities) + "]>"


BILLION_LAUGHS = _billion_laughs()
EXTERNAL_ENTITY = '<!DOCTYPE w:document [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'


# -- the corpus -------------------------------------------------------------


def _copy_from_corpus(out_dir: Path, relative: str, name: str | None = None) -> str:
    source = CORPUS / relative
    target = out_dir / (name or source.name)
    shutil.copyfile(source, target)
    return target.name


def _write(out_dir: Path, name: str, data: bytes) -> str:
    (out_dir / name).write_bytes(data)
    return name


def _bad_files(out_dir: Path) -> list[HostileCase]:
    noise = random.Random(20240611).randbytes(64 * 1024)
    pdf = text_pdf(PDF_TEXT)
    write_zip_bomb_docx(out_dir / "zip-bomb.docx", ZIP_BOMB_BYTES)
    write_docx(out_dir / "entity-expansion.docx", _word_document(BILLION_LAUGHS, "&lol9;"))
    write_docx(out_dir / "external-entity.docx", _word_document(EXTERNAL_ENTITY, "&xxe;"))
    return [
        HostileCase(_write(out_dir, "empty.txt", b""), "empty", description="zero bytes"),
        HostileCase(_write(out_dir, "random.bin", noise), "unsupported", description="64 KiB of random bytes"),
        HostileCase(_write(out_dir, "random.pdf", noise), "corrupt", description="random bytes named .pdf"),
        HostileCase(_write(out_dir, "truncated.pdf", pdf[: len(pdf) // 2]), "corrupt", description="first half"),
        HostileCase(_write(out_dir, "many-pages.pdf", many_pages_pdf(MANY_PAGES)), "too_large", description="pages"),
        HostileCase(_write(out_dir, "bomb.png", bomb_png(BOMB_PIXELS_SIDE)), "too_large", description="40000x40000"),
        HostileCase("zip-bomb.docx", "too_large", description="1 GiB of zeros deflated to about 1 MB"),
        HostileCase("entity-expansion.docx", "corrupt", description="billion laughs in word/document.xml"),
        HostileCase("external-entity.docx", "corrupt", must_not_contain="root:x:0:0", description="XXE on /etc/passwd"),
        HostileCase(_copy_from_corpus(out_dir, "pdfminer.six/enc-aes-256.pdf"), "encrypted", description="AES-256"),
        HostileCase(_copy_from_corpus(out_dir, "pdfminer.six/enc-rc4-128.pdf"), "encrypted", description="RC4-128"),
        HostileCase(_copy_from_corpus(out_dir, "pdfplumber/password-example.pdf"), "encrypted", description="user pw"),
    ]


def _good_files(out_dir: Path) -> list[HostileCase]:
    pdf = text_pdf(PDF_TEXT)
    return [
        HostileCase(
            _write(out_dir, "broken-xref.pdf", broken_xref_pdf()), OK, "Hello isolation", description="pdfium rebuilds"
        ),
        HostileCase(
            _copy_from_corpus(out_dir, "pdfminer.six/enc-encrypted_doc_no_id.pdf"),
            OK,
            description="encrypted, empty user password",
        ),
        HostileCase(_write(out_dir, "photo.docx", text_jpeg(JPEG_TEXT)), OK, "ISOLATION", description="JPEG as .docx"),
        HostileCase(_write(out_dir, "report.txt", pdf), OK, "Hello isolation", description="PDF named .txt"),
        HostileCase(
            _write(out_dir, "notes.txt", b"Quarterly notes: the batch keeps going.\n" * 20),
            OK,
            "the batch keeps going",
        ),
        HostileCase(
            _write(out_dir, "japanese.txt", "隔離された抽出は安全です。\n東京都千代田区\n".encode()),
            OK,
            "東京都千代田区",
        ),
        HostileCase(_copy_from_corpus(out_dir, "pdfplumber/nics-background-checks-2015-11.pdf"), OK, "Alabama"),
        HostileCase(_copy_from_corpus(out_dir, "python-docx/test.docx"), OK, "python-docx was here"),
    ]


def generate(out_dir: str | Path) -> list[HostileCase]:
    """Write the hostile corpus into ``out_dir`` (created if needed) and describe every file."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    return _bad_files(out_dir) + _good_files(out_dir)


def main(argv: list[str] | None = None) -> int:
    """Write the corpus to the folder given on the command line and list it."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", type=Path)
    arguments = parser.parse_args(argv)
    for case in generate(arguments.out_dir):
        print(f"{case.name:32} {case.expected:12} {case.description}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
