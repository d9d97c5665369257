"""Build the binary sample documents for ``make run``: a scan, an image-only PDF and a docx.

They are generated rather than stored, into ``examples/documents/generated/``.
Run: ``python examples/make_samples.py``.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PIL import Image

OUT = Path(__file__).resolve().parent / "documents" / "generated"
FONT = Path("/usr/share/fonts/opentype/ipafont-gothic/ipag.ttf")
DPI = 300

SCAN_LINES = (
    "請求書　第2024-118号",
    "株式会社さくら商事　御中",
    "品名：業務用コピー用紙（A4）　数量：20箱",
    "お支払い期限は来月末日です。",
    "Invoice total: 48,400 JPY (tax included)",
)
MEMO_LINES = (
    "防災訓練のお知らせ",
    "来週水曜日の午後二時から避難訓練を行います。",
    "Fire drill: please gather at the north parking lot.",
)


def _render(lines: tuple[str, ...]) -> Image.Image:
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.truetype(str(FONT), size=int(DPI * 14 / 72))
    width, line_height = int(8.27 * DPI), int(DPI * 14 / 72 * 1.8)
    image = Image.new("L", (width, line_height * (len(lines) + 2)), 255)
    draw = ImageDraw.Draw(image)
    for number, line in enumerate(lines, start=1):
        draw.text((DPI // 2, number * line_height), line, font=font, fill=0)
    return image


def build(out: Path = OUT) -> list[Path]:
    """Write the samples into ``out`` and return their paths."""
    from docx import Document

    out.mkdir(parents=True, exist_ok=True)
    scan = out / "invoice-scan.png"
    _render(SCAN_LINES).save(scan, dpi=(DPI, DPI))
    memo = out / "fire-drill-memo.pdf"
    _render(MEMO_LINES).convert("RGB").save(memo, "PDF", resolution=DPI)
    report = out / "quarterly-report.docx"
    document = Document()
    document.add_heading("四半期報告書", level=1)
    document.add_paragraph("今期の売上は前年同期比で十二パーセント増加しました。")
    table = document.add_table(rows=3, cols=2)
    for row, (region, sales) in zip(table.rows, (("地域", "売上"), ("関東", "1,200"), ("Kansai", "860")), strict=True):
        row.cells[0].text, row.cells[1].text = region, sales
    document.sections[0].footer.paragraphs[0].text = "Confidential — internal use only"
    document.save(report)
    return [scan, memo, report]


if __name__ == "__main__":
    if not FONT.exists():
        sys.exit(f"extractkit: font {FONT} is missing; install fonts-ipafont-gothic (make does it for you)")
    for path in build():
        print(f"sample: {path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path}")
