"""Digits inside CJK lines: which runs are re-read, which re-readings replace them, and real Tesseract.

The pure tests build :class:`TsvLine` data as Tesseract's TSV gives it; the Tesseract tests render
lines with numbers (dates, amounts, codes) in IPA Gothic and Mincho at 200 and 300 dpi, and the
demo invoice, and compare the reading with the exact text drawn.
"""

from __future__ import annotations

import pytest
from PIL import Image, ImageDraw, ImageFont

from extractkit.models import ExtractOptions
from extractkit_plugins.image import ocr
from extractkit_plugins.image.digit_reread import digit_stretches, run_cut
from extractkit_plugins.image.digit_runs import (
    DigitRun,
    accepted_reading,
    apply_rereads,
    find_digit_runs,
    same_shape,
)
from extractkit_plugins.image.ocr import ocr_image
from extractkit_plugins.image.ocr_text import TsvLine

from support.ocr_lines import boxed_line
from support.samples import demo_invoice
from truth.render import GOTHIC, MINCHO, render_lines


def line(*words: tuple[str, float], key: str = "1") -> TsvLine:
    """A line of words set 40 px apart, 30 px high."""
    return boxed_line(words, [(40 * index, 0, 36, 30) for index in range(len(words))], ("1", "1", key))


INVOICE = line(("請求", 93.0), ("書", 92.9), ("第", 95.9), ("2924-118", 40.3), ("号", 92.4))


def test_a_low_confidence_run_on_a_cjk_line_is_suspect():
    [run] = find_digit_runs([INVOICE])
    assert (run.line, run.first, run.last, run.head, run.run, run.tail) == (0, 3, 3, "", "2924-118", "")


def test_the_run_keeps_the_cjk_text_of_its_word_apart():
    [run] = find_digit_runs([line(("発行日", 96.0), ("第2O24年", 50.0))])
    assert (run.head, run.run, run.tail) == ("第", "2O24", "年")  # a look-alike inside a group of digits


def test_confident_runs_and_latin_lines_are_left_alone():
    assert find_digit_runs([line(("第", 95.0), ("2024-118", 92.0), ("号", 92.0))]) == []
    assert find_digit_runs([line(("Invoice", 95.0), ("2924-118", 40.0))]) == []  # no CJK on the line
    assert find_digit_runs([line(("番号", 95.0), ("No.", 50.0))]) == []  # no digit


def test_a_run_split_at_a_separator_is_one_run_and_a_space_between_numbers_is_two():
    [run] = find_digit_runs([line(("金額", 97.0), ("\\1,234,", 81.0), ("500", 38.0), ("円", 92.0))])
    assert (run.first, run.last, run.head, run.run, run.confidence) == (1, 2, "\\", "1,234,500", 38.0)
    runs = find_digit_runs([line(("数量", 97.0), ("12", 50.0), ("34", 50.0))])
    assert [run.run for run in runs] == ["12", "34"]


@pytest.mark.parametrize(
    ("first", "second", "same"),
    [
        ("2924-118", "2024-118", True),
        ("1.234,509", "1,234,500", True),  # a comma read as a period is the same shape
        ("1,9809", "1,980", True),  # one glyph more: the kanji after it read as a digit
        ("2924-118", "2024118", False),
        ("2924-118", "2024/118", False),
        ("2024", "20", False),
        ("12-34", "123-345", False),  # two groups a glyph off is another number
    ],
)
def test_same_shape(first, second, same):
    assert same_shape(first, second) is same


def run_of(text: str, confidence: float) -> DigitRun:
    return DigitRun(0, 3, 3, "", text, "", confidence)


def test_a_confident_reading_of_the_same_shape_is_accepted():
    assert accepted_reading(run_of("2924-118", 40.0), "2024-118", 96.0) == "2024-118"
    assert accepted_reading(run_of("1.234,509", 60.0), "¥1,234,500", 92.0) == "1,234,500"


@pytest.mark.parametrize(
    ("reading", "confidence", "why"),
    [
        ("2024-118", 70.0, "not confident"),
        ("=982024-1185", 96.0, "took in the kanji around it"),
        ("2024118", 96.0, "another shape"),
        ("2924-118", 96.0, "read the same"),
        ("", 0.0, "nothing read"),
    ],
)
def test_a_reading_that_is_no_evidence_is_refused(reading, confidence, why):
    assert accepted_reading(run_of("2924-118", 40.0), reading, confidence) is None, why


def test_a_reading_must_be_clearly_above_the_first_one():
    assert accepted_reading(run_of("2924", 79.0), "2024", 90.0) is None
    assert accepted_reading(run_of("2924", 79.0), "2024", 95.0) == "2024"


def test_accepted_readings_replace_the_digits_and_keep_the_cjk_text():
    lines = [line(("発行日", 96.0), ("第2924年", 50.0)), INVOICE]
    runs = find_digit_runs(lines)
    fixed, changed = apply_rereads(lines, runs, [("2024", 97.0), ("2O24-118", 97.0)])
    assert changed == 1  # the second reading is no run of digits
    assert [word for word, _ in fixed[0].words] == ["発行日", "第2024年"]
    assert fixed[1] is lines[1]


def test_a_run_over_two_words_becomes_one_word_with_both_boxes():
    lines = [line(("金額", 97.0), ("\\1,234,", 81.0), ("500", 38.0), ("円", 92.0))]
    fixed, changed = apply_rereads(lines, find_digit_runs(lines), [("1,234,500", 96.0)])
    assert changed == 1
    assert [word for word, _ in fixed[0].words] == ["金額", "\\1,234,500", "円"]
    assert fixed[0].boxes[1] == (40, 0, 76, 30)


def test_digits_are_the_glyphs_above_the_cjk_baseline():
    kanji, digit, hyphen = (0, 28), (3, 24), (13, 15)
    glyphs = [(0, *kanji), (30, 0, 57, 28), (60, *digit), (74, *digit), (88, *hyphen), (100, *digit), (120, *kanji)]
    glyphs = [(left, top, left + (27 if (top, bottom) == kanji else 12), bottom) for left, top, *_, bottom in glyphs]
    assert digit_stretches(glyphs) == [(60, 112)]
    only_digits = [(left, 3, left + 12, 24) for left in (0, 15, 30)]
    assert digit_stretches(only_digits) == []  # nothing tells digits from the CJK glyphs' baseline


# -- real Tesseract ------------------------------------------------------------------------

NUMBER_LINES = (
    "請求書　第3057-221号",
    "発行日　2024年12月1日",
    "合計金額　¥1,234,500（税込）",
    "納期は2025年3月31日です。",
)
#: What each line must read: the numbers exactly, with the CJK characters around them.
EXPECTED = ("第3057-221号", "2024年12月1日", "1,234,500", "2025年3月31日")


@pytest.mark.parametrize("font", [GOTHIC, MINCHO], ids=["gothic", "mincho"])
@pytest.mark.parametrize("dpi", [200, 300])
def test_numbers_in_cjk_lines_read_exactly(font, dpi):
    image = render_lines(NUMBER_LINES, font, dpi, full_page=False)
    image.info["dpi"] = (dpi, dpi)
    text = ocr_image(image, ExtractOptions()).text
    compact = "".join(text.split())
    missing = [expected for expected in EXPECTED if expected not in compact]
    assert not missing, text


def test_the_demo_invoice_reads_its_number(tmp_path):
    scan, _ = demo_invoice(tmp_path)
    with Image.open(scan) as image:
        text = ocr_image(image, ExtractOptions()).text
    assert "第2024-118号" in text, text


def test_confident_digits_and_latin_lines_are_untouched(monkeypatch):
    font = ImageFont.truetype(GOTHIC, size=60)
    image = Image.new("L", (1400, 420), 255)
    draw = ImageDraw.Draw(image)
    for row, text in enumerate(("Invoice 2924-118 total 48,400 JPY", "請求書　第2024-118号", "発行日　2024年12月1日")):
        draw.text((60, 40 + 120 * row), text, font=font, fill=0)
    image.info["dpi"] = (300, 300)
    monkeypatch.setattr(ocr, "reread_digits", lambda result, *args, **kwargs: result)
    plain = ocr_image(image, ExtractOptions())
    monkeypatch.undo()
    result = ocr_image(image, ExtractOptions())
    suspect = {run.line for run in find_digit_runs(plain.lines)}
    kept = [index for index in range(len(plain.lines)) if index not in suspect]
    assert any(any(char.isdigit() for word, _ in plain.lines[index].words for char in word) for index in kept)
    assert [result.lines[index].words for index in kept] == [plain.lines[index].words for index in kept]
    assert "Invoice 2924-118 total" in result.text  # a Latin line's digits are never re-read


def test_a_line_without_cjk_glyphs_has_no_cut():
    font = ImageFont.truetype(GOTHIC, size=40)
    image = Image.new("L", (600, 100), 255)
    ImageDraw.Draw(image).text((20, 20), "2924-118", font=font, fill=0)
    only = boxed_line((("第", 90.0), ("2924-118", 40.0)), ((20, 20, 40, 40), (20, 20, 200, 40)))
    [run] = find_digit_runs([only])
    assert run_cut(image, only, run) is None
