"""Item numerals opening a line (``一　法第…``): suspects, numbering and the real Tesseract correction."""

from __future__ import annotations

import pytest

from extractkit_plugins.image.line_items import numbering_agrees, numeral_value, opens_item, text_item_values
from extractkit_plugins.image.lookalikes import Suspect, apply_confirmed, find_suspects
from extractkit_plugins.image.ocr_text import TsvLine

from support.ocr_lines import character_line


def line(words: str, gaps: tuple[int, ...] = (), size: int = 40) -> TsvLine:
    """A line of one-character words ``size`` pixels square; ``gaps[i]`` extra pixels after word ``i``."""
    return character_line(words, size=size, gaps=gaps)


def test_a_lookalike_opening_a_line_before_a_space_and_cjk_is_an_item_suspect():
    for read in ("ー", "—", "－", "=", "＝", "ニ"):
        for text in (f"{read}法第二", f"{read}その他", f"{read}前号"):
            found = find_suspects([line(text, gaps=(40,))])
            assert Suspect(0, 0, 0, "一二三", item=True) in found, text


def test_no_item_suspect_without_the_space_or_before_latin():
    assert not opens_item(line("ー法第", gaps=(0,)))  # no space: only the neighbour rule may apply
    assert not any(suspect.item for suspect in find_suspects([line("=その", gaps=(0,))]))
    assert find_suspects([line("=b", gaps=(40,))]) == []
    assert find_suspects([line("a=b", gaps=(40, 40))]) == []
    assert find_suspects([line("x—y", gaps=(40, 40))]) == []
    assert find_suspects([line("データー"), line("コーヒー", gaps=(0, 40))]) == []


def test_numbering():
    assert [numeral_value(word) for word in ("一", "三", "九", "十", "十二", "二十", "三十五", "第", "一一", "")] == [
        1, 3, 9, 10, 12, 20, 35, None, None, None,
    ]  # fmt: skip
    assert numbering_agrees([None, 1, None, 2, 3], 3)
    assert numbering_agrees([1, 0, 3], 2)  # an unknown item between counts
    assert numbering_agrees([1, 2], 0)  # the next one agrees
    assert not numbering_agrees([1, 1, 1], 1)
    assert not numbering_agrees([3, 1], 1)
    assert not numbering_agrees([1, None], 0)
    assert text_item_values("一　法第\n= 前号\n第三条　次\n三 その\na = b") == [1, 0, None, 3, None]


def items(*texts: str) -> list[TsvLine]:
    return [line(text, gaps=(40,)) for text in texts]


def test_an_item_numeral_changes_when_the_reading_and_the_numbering_agree():
    lines = items("—法第", "=前号", "三その")
    suspects = [suspect for suspect in find_suspects(lines) if suspect.item]
    fixed, changed = apply_confirmed(lines, suspects, ["一法第", "二前号", ""])
    assert changed == 2
    assert ["".join(word for word, _ in found.words) for found in fixed] == ["一法第", "二前号", "三その"]


def test_dash_bullets_read_as_numerals_do_not_continue_a_numbering():
    lines = items("—注意", "—以下", "ー補足")
    suspects = [suspect for suspect in find_suspects(lines) if suspect.item]
    assert apply_confirmed(lines, suspects, ["一注意", "一以下", "一補足"]) == (lines, 0)


def test_an_item_reading_that_does_not_open_with_the_numeral_proves_nothing():
    lines = items("—法第", "=前号", "三その")
    suspects = [suspect for suspect in find_suspects(lines) if suspect.item]
    assert apply_confirmed(lines, suspects, ["ー法第", "前二号", ""])[1] == 0


# -- real Tesseract on rendered pages -------------------------------------------------------

ITEM_LINES = (
    "第七条　次に掲げる者は、届出をしなければならない。",
    "一　法第二十五条の二に規定する事業者",
    "二　前号に掲げる者の代理人及び使用人",
    "三　その他政令で定める者",
)
NEGATIVE_LINES = ("データーとコーヒーの一覧", "a = b and x = y", "ソフトウェアのバージョン")


def read_page(tmp_path, lines: tuple[str, ...], font: str, render_dpi: int, dpi: int) -> str:
    """OCR of the lines drawn at ``render_dpi`` (11 pt) and saved as ``dpi``: a smaller or larger type."""
    import extractkit

    from truth.render import render_lines, save_image

    path = tmp_path / f"{render_dpi}-{dpi}.png"
    save_image(render_lines(lines, font, render_dpi, full_page=False), path, dpi)
    return extractkit.extract(path).text


@pytest.mark.slow
@pytest.mark.parametrize(
    ("font", "render_dpi", "dpi"),
    [("MINCHO", 300, 300), ("GOTHIC", 200, 200), ("GOTHIC", 340, 300)],
)
def test_line_opening_numerals_are_read_exactly(tmp_path, font, render_dpi, dpi):
    from truth import render

    text = read_page(tmp_path, ITEM_LINES, getattr(render, font), render_dpi, dpi)
    read = [found.strip() for found in text.split("\n") if found.strip()]
    for item in ITEM_LINES[1:]:
        assert item in read, text


@pytest.mark.slow
def test_katakana_and_latin_lines_do_not_change(tmp_path, monkeypatch):
    from extractkit_plugins.image import lookalikes

    from truth import render

    seen = []
    real = lookalikes.apply_confirmed
    monkeypatch.setattr(
        "extractkit_plugins.image.ocr.apply_confirmed",
        lambda lines, suspects, readings: seen.append(suspects) or real(lines, suspects, readings),
    )
    text = read_page(tmp_path, NEGATIVE_LINES, render.GOTHIC, 300, 300)
    assert not any(suspect.item for found in seen for suspect in found)
    truth = "".join(NEGATIVE_LINES)
    for numeral in "一二三":  # none added: only the truth's own (the 一 of 一覧) may be read
        assert text.count(numeral) <= truth.count(numeral), text
