"""Page geometry in the OCR text: phantom words, split words, gaps inside a word, wraps across blocks."""

from __future__ import annotations

from PIL import Image, ImageDraw

from extractkit_plugins.image.ocr_text import TsvLine, continues_below, join_words, lines_to_text
from extractkit_plugins.image.phantom_words import drop_phantom_words

from support.ocr_lines import boxed_line, character_line

Box = tuple[int, int, int, int]


def page_with_ink(*boxes: Box, size: tuple[int, int] = (800, 300)) -> Image.Image:
    """A white page with a black block (a glyph) in each box (left, top, width, height)."""
    page = Image.new("L", size, 255)
    draw = ImageDraw.Draw(page)
    for left, top, width, height in boxes:
        draw.rectangle((left, top, left + width - 1, top + height - 1), fill=0)
    return page


# -- phantom words ---------------------------------------------------------------------------


def test_a_doubtful_word_on_blank_paper_between_two_glyphs_is_dropped():
    glyphs = [(100, 50, 40, 40), (200, 50, 40, 40)]
    page = page_with_ink(*glyphs)
    line = boxed_line([("。", 90.0), ("人", 25.0), ("金", 90.0)], [glyphs[0], (140, 50, 60, 40), glyphs[1]])
    [kept] = drop_phantom_words([line], page)
    assert [word for word, _ in kept.words] == ["。", "金"]
    assert kept.boxes == tuple(glyphs)


def test_a_confident_word_or_a_word_with_ink_of_its_own_stays():
    glyphs = [(100, 50, 40, 40), (200, 50, 40, 40)]
    blank_between = boxed_line([("a", 90.0), ("b", 85.0), ("c", 90.0)], [glyphs[0], (140, 50, 60, 40), glyphs[1]])
    assert drop_phantom_words([blank_between], page_with_ink(*glyphs)) == [blank_between]
    inked = page_with_ink(*glyphs, (150, 50, 40, 40))
    doubtful = boxed_line([("a", 90.0), ("b", 25.0), ("c", 90.0)], [glyphs[0], (150, 50, 40, 40), glyphs[1]])
    assert drop_phantom_words([doubtful], inked) == [doubtful]


def test_a_doubtful_word_mostly_covered_by_its_neighbours_stays():
    glyphs = [(100, 50, 50, 40), (160, 50, 50, 40)]
    page = page_with_ink(*glyphs)
    # Its box lies almost all within its neighbours' boxes: the page cannot tell whose ink it is.
    line = boxed_line([("a", 90.0), ("x", 20.0), ("c", 90.0)], [glyphs[0], (130, 50, 40, 40), glyphs[1]])
    assert drop_phantom_words([line], page) == [line]


def test_a_low_fragment_line_inside_a_taller_line_is_dropped_and_a_confident_one_kept():
    glyphs = [(100, 50, 40, 40), (150, 50, 40, 40), (200, 50, 40, 40)]
    page = page_with_ink(*glyphs)
    main = boxed_line([("で", 90.0), ("き", 90.0), ("ま", 90.0)], glyphs)
    fragment = boxed_line([("es", 30.0)], [(150, 80, 40, 12)], ("1", "1", "2"))
    assert drop_phantom_words([main, fragment], page) == [main]
    confident = boxed_line([("es", 75.0)], [(150, 80, 40, 12)], ("1", "1", "2"))
    assert drop_phantom_words([main, confident], page) == [main, confident]


# -- spaces measured on the page --------------------------------------------------------------


def test_a_latin_word_split_into_overlapping_boxes_is_joined_and_separate_words_are_not():
    split = boxed_line([("support@examp", 60.0), ("le.com", 55.0)], [(100, 50, 260, 30), (330, 50, 120, 30)])
    assert join_words(split) == "support@example.com"
    apart = boxed_line([("support", 90.0), ("team", 90.0)], [(100, 50, 140, 30), (255, 50, 90, 30)])
    assert join_words(apart) == "support team"
    within = boxed_line([("Hello", 90.0), ("world", 90.0)], [(100, 50, 100, 30), (100, 50, 100, 30)])
    assert join_words(within) == "Hello world"  # boxes starting at one place prove nothing
    wide = boxed_line([("support@examp", 92.0), ("le.com", 78.0)], [(779, 206, 363, 28), (988, 199, 101, 40)])
    assert join_words(wide) == "support@example.com"  # the engine's first box may reach past the second


def test_a_blank_gap_inside_one_word_box_is_no_space_but_between_boxes_it_is():
    # The engine's box for "語、英" holds the wide blank after its comma; the nearest boundary is the next one.
    page = page_with_ink((100, 50, 40, 40), (145, 80, 8, 10), (200, 50, 40, 40), (262, 50, 40, 40))
    inside = boxed_line([("語、英", 90.0), ("字", 90.0)], [(100, 50, 140, 40), (262, 50, 40, 40)])
    assert join_words(inside, page) == "語、英字"
    page = page_with_ink((100, 50, 40, 40), (200, 50, 40, 40))
    between = boxed_line([("五", 90.0), ("法", 90.0)], [(100, 50, 40, 40), (200, 50, 40, 40)])
    assert join_words(between, page) == "五\u3000法"


# -- lines that wrap across the engine's blocks ----------------------------------------------


def row(text: str, left: int, top: int, block: str, size: int = 40) -> TsvLine:
    """A line of one-character words ``size`` pixels square, starting at ``left``."""
    return character_line(text, left=left, top=top, size=size, spacing=2, paragraph=(block, "1", "1"))


def test_the_next_line_of_a_column_continues_below_across_a_block_boundary():
    first = row("第三十", 100, 100, "1")
    assert continues_below(first, row("九条", 100, 150, "2"))
    assert continues_below(row("第三十", 140, 100, "1"), row("九条", 100, 150, "2"))  # after an indented first line
    assert not continues_below(first, row("九条", 600, 150, "2"))  # another column
    assert not continues_below(first, row("九条", 100, 260, "2"))  # a gap of paragraphs
    assert not continues_below(first, row("九条", 100, 100, "2"))  # beside it


def test_a_soft_wrapped_japanese_line_joins_the_next_block_at_its_margin():
    full = "あ" * 15
    lines = [row(full, 100, 100, "1"), row("続きです", 100, 150, "2"), row(full, 100, 300, "3")]
    text = lines_to_text(lines)
    assert text.startswith(full + "続きです\n")
    beside = [row(full, 100, 100, "1"), row("別の段", 800, 100, "2")]
    assert "\n" in lines_to_text(beside)
