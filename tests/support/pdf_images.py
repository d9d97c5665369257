"""Test inputs made at test time: rendered text images, PDFs with and without a text layer, odd PNGs.

Everything is drawn with the system fonts (IPA for Japanese, DejaVu for Latin) so the
expected text is known exactly.
"""

from __future__ import annotations

import ctypes
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from PIL import Image, ImageDraw, ImageFilter, ImageFont

IPA_GOTHIC = Path("/usr/share/fonts/opentype/ipafont-gothic/ipag.ttf")
IPA_MINCHO = Path("/usr/share/fonts/opentype/ipafont-mincho/ipam.ttf")
DEJAVU_SANS = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
DEJAVU_SERIF = Path("/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf")

A4_POINTS = (595, 842)
A4_300DPI = (2480, 3508)

ENGLISH_SAMPLE = (
    "Licensor shall mean the copyright owner or entity authorized by",
    "the copyright owner that is granting the License. Legal Entity",
    "shall mean the union of the acting entity and all other entities",
    "that control, are controlled by, or are under common control with",
    "that entity. For the purposes of this definition, control means",
    "the power, direct or indirect, to cause the direction or management",
    "of such entity, whether by contract or otherwise, or ownership of",
    "fifty percent (50%) or more of the outstanding shares.",
)

JAPANESE_SAMPLE = (
    "道路交通法施行令の一部を改正する政令",
    "内閣は、道路交通法の一部を改正する法律の一部の施行に伴い、",
    "この政令を制定する。第一条の二第四項第三号中の規定を改める。",
    "わたくしといふ現象は仮定された有機交流電燈の",
    "ひとつの青い照明です。風景やみんなといっしょに",
    "せはしくせはしく明滅しながら、いかにもたしかにともりつづける。",
    "東京都千代田区の会議で新しい計画が発表されました。",
)

MIXED_SAMPLE = (
    "2024年度の売上報告（Sales Report）",
    "本社は東京にあります。The head office is in Tokyo.",
    "会議は午後三時から始まります。",
)

VERTICAL_SAMPLE = (
    "春はあけぼの",
    "やうやう白くなりゆく山ぎは",
    "少しあかりて紫だちたる雲の",
    "細くたなびきたる",
)


def render_lines(
    lines: Sequence[str],
    *,
    font_path: Path = DEJAVU_SANS,
    font_px: int = 42,
    size: tuple[int, int] = A4_300DPI,
    margin: int = 200,
    line_gap: float = 1.6,
) -> Image.Image:
    """Draw horizontal lines of text, black on white, in an 8-bit grey image."""
    image = Image.new("L", size, 255)
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(str(font_path), font_px)
    y = margin
    for line in lines:
        draw.text((margin, y), line, font=font, fill=0)
        y += int(font_px * line_gap)
    return image


def render_vertical(
    columns: Sequence[str],
    *,
    font_path: Path = IPA_MINCHO,
    font_px: int = 64,
    size: tuple[int, int] = (1800, 1400),
    margin: int = 150,
    column_gap: float = 1.8,
) -> Image.Image:
    """Draw Japanese tategaki: characters top to bottom, the first column on the right."""
    image = Image.new("L", size, 255)
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(str(font_path), font_px)
    x = size[0] - margin - font_px
    for column in columns:
        y = margin
        for char in column:
            draw.text((x, y), char, font=font, fill=0)
            y += int(font_px * 1.1)
        x -= int(font_px * column_gap)
    return image


def degrade(image: Image.Image, *, blur: float = 1.1, noise_seed: int = 7, angle: float = 0.6) -> Image.Image:
    """Make a rendering look scanned: a slight skew, blur and speckle noise."""
    import random

    rng = random.Random(noise_seed)
    skewed = image.rotate(angle, resample=Image.Resampling.BICUBIC, expand=False, fillcolor=255)
    blurred = skewed.filter(ImageFilter.GaussianBlur(blur))
    pixels = blurred.load()
    width, height = blurred.size
    for _ in range(width * height // 400):
        x, y = rng.randrange(width), rng.randrange(height)
        pixels[x, y] = rng.choice((0, 90, 200, 255))
    return blurred


@dataclass(frozen=True)
class ScanPage:
    """A scanned page whose text layer also holds ``lines`` (a stamp, or a layer that does not match)."""

    image: Image.Image
    lines: Sequence[str] = ()
    invisible: bool = False


def pdf_with_pages(path: Path, pages: Sequence[Sequence[str] | Image.Image | ScanPage], *, dpi: int = 300) -> Path:
    """Write a PDF: strings make a page with a text layer, an image a scanned page without one."""
    import pypdfium2 as pdfium
    import pypdfium2.raw as raw

    pdf = pdfium.PdfDocument.new()
    font_bytes = IPA_GOTHIC.read_bytes()
    font_buffer = (ctypes.c_uint8 * len(font_bytes)).from_buffer_copy(font_bytes)
    font = None
    for content in pages:
        scan = content if isinstance(content, ScanPage) else None
        if isinstance(content, Image.Image):
            scan = ScanPage(content)
        if scan is not None:
            width, height = scan.image.width * 72 / dpi, scan.image.height * 72 / dpi
            page = pdf.new_page(width, height)
            _place_image(pdf, page, scan.image, width, height)
        else:
            page = pdf.new_page(*A4_POINTS)
        lines = scan.lines if scan is not None else content
        if lines:
            if font is None:
                font = raw.FPDFText_LoadFont(pdf, font_buffer, len(font_bytes), raw.FPDF_FONT_TRUETYPE, True)
            invisible = scan is not None and scan.invisible
            _place_lines(pdf, page, font, lines, top=page.get_height() - 36, invisible=invisible)
        page.gen_content()
        page.close()
    pdf.save(str(path))
    pdf.close()
    return path


def _place_lines(
    pdf: object, page: object, font: object, lines: Sequence[str], top: float, invisible: bool = False
) -> None:
    import pypdfium2.raw as raw

    size = 11.0
    y = top
    for line in lines:
        text_object = raw.FPDFPageObj_CreateTextObj(pdf, font, size)
        encoded = ctypes.create_string_buffer((line + "\0").encode("utf-16-le"))
        raw.FPDFText_SetText(text_object, ctypes.cast(encoded, ctypes.POINTER(raw.FPDF_WCHAR)))
        if invisible:
            raw.FPDFTextObj_SetTextRenderMode(text_object, raw.FPDF_TEXTRENDERMODE_INVISIBLE)
        raw.FPDFPageObj_Transform(text_object, 1, 0, 0, 1, 60, y)
        raw.FPDFPage_InsertObject(page, text_object)
        y -= size * 1.6


def _place_image(pdf: object, page: object, image: Image.Image, width: float, height: float) -> None:
    import pypdfium2 as pdfium

    image_object = pdfium.PdfImage.new(pdf)
    bitmap = pdfium.PdfBitmap.from_pil(image.convert("RGB"))
    image_object.set_bitmap(bitmap)
    image_object.set_matrix(pdfium.PdfMatrix().scale(width, height))
    page.insert_obj(image_object)


def blank_pdf(path: Path, page_count: int, size: tuple[float, float] = A4_POINTS) -> Path:
    """Write a PDF of ``page_count`` empty pages of ``size`` points."""
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument.new()
    for _ in range(page_count):
        pdf.new_page(*size).close()
    pdf.save(str(path))
    pdf.close()
    return path


def png_header_only(path: Path, width: int, height: int) -> Path:
    """Write a tiny PNG that claims ``width`` x ``height`` pixels: a real IHDR and a few rows of data."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    rows = zlib.compress(b"\x00" + b"\xff" * width, 9)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", rows) + chunk(b"IEND", b""))
    return path


def pdf_claiming_pages(path: Path, claimed: int) -> Path:
    """Write a small hand-made PDF whose page tree claims ``claimed`` pages and lists them all."""
    kids = " ".join("3 0 R" for _ in range(claimed))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        f"<< /Type /Pages /Count {claimed} /Kids [{kids}] >>".encode(),
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref_at = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref_at}\n%%EOF\n".encode()
    path.write_bytes(bytes(out))
    return path
