"""The Tesseract OCR module against the real tesseract: accuracy, CJK spacing, orientation, tategaki, failures."""

from __future__ import annotations

import re
import time
from pathlib import Path

import psutil
import pytest
from PIL import Image

from extractkit.errors import ConfigError, CorruptDocument, ExtractionTimeout
from extractkit.models import ExtractOptions
from extractkit_plugins.image import ocr

from support.pdf_images import (
    DEJAVU_SANS,
    ENGLISH_SAMPLE,
    IPA_GOTHIC,
    IPA_MINCHO,
    JAPANESE_SAMPLE,
    MIXED_SAMPLE,
    VERTICAL_SAMPLE,
    degrade,
    render_lines,
    render_vertical,
)
from truth.cer import cer

CJK_SPACE_CJK = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff][ \u3000]+[\u3040-\u30ff\u4e00-\u9fff]")


def page_of(lines: tuple[str, ...], font: Path, font_px: int = 46) -> Image.Image:
    """A 300-dpi, A4-wide strip holding just these lines (OCR time grows with the area)."""
    height = 400 + int(len(lines) * font_px * 1.6)
    image = render_lines(lines, font_path=font, font_px=font_px, size=(2480, height))
    image.info["dpi"] = (300, 300)
    return image


def test_clean_english_within_one_percent_cer():
    result = ocr.ocr_image(page_of(ENGLISH_SAMPLE, DEJAVU_SANS, 42), ExtractOptions())
    assert cer("\n".join(ENGLISH_SAMPLE), result.text) <= 0.01, result.text
    assert result.engine == "tesseract"
    assert 80 <= result.confidence <= 100
    assert "copyright owner" in result.text  # spaces between Latin words stay


def test_clean_japanese_within_one_percent_cer_without_spaces_between_kanji():
    result = ocr.ocr_image(page_of(JAPANESE_SAMPLE, IPA_MINCHO), ExtractOptions())
    assert cer("\n".join(JAPANESE_SAMPLE), result.text) <= 0.01, result.text
    assert not CJK_SPACE_CJK.search(result.text), result.text
    assert result.confidence > 80


def test_mixed_script_keeps_latin_spaces_and_drops_script_change_spaces():
    result = ocr.ocr_image(page_of(MIXED_SAMPLE, IPA_GOTHIC), ExtractOptions())
    assert "The head office is in Tokyo." in result.text
    assert "2024年度" in result.text
    assert cer("\n".join(MIXED_SAMPLE), result.text) <= 0.02, result.text


def test_degraded_japanese_scan_within_five_percent_cer():
    scan = degrade(page_of(JAPANESE_SAMPLE, IPA_GOTHIC), angle=1.2)
    result = ocr.ocr_image(scan, ExtractOptions())
    assert cer("\n".join(JAPANESE_SAMPLE), result.text) <= 0.05, result.text
    assert result.deskew != 0.0


def test_vertical_japanese_comes_out_in_reading_order():
    result = ocr.ocr_image(render_vertical(VERTICAL_SAMPLE), ExtractOptions())
    assert result.vertical
    assert cer("\n".join(VERTICAL_SAMPLE), result.text) <= 0.1, result.text
    flat = re.sub(r"\s+", "", result.text)
    positions = [flat.find(column[1:6]) for column in VERTICAL_SAMPLE]
    assert -1 not in positions, result.text
    assert positions == sorted(positions), f"columns out of order: {result.text!r}"


def test_vertical_pass_is_skipped_when_disabled():
    options = ExtractOptions(vertical_japanese=False, detect_orientation=False)
    result = ocr.ocr_image(render_vertical(VERTICAL_SAMPLE), options)
    assert not result.vertical


def test_upside_down_page_is_turned_upright_by_osd():
    upright = page_of(JAPANESE_SAMPLE[:4], IPA_GOTHIC)
    result = ocr.ocr_image(upright.rotate(180), ExtractOptions())
    assert result.rotation == 180
    assert cer("\n".join(JAPANESE_SAMPLE[:4]), result.text) <= 0.02, result.text


def test_osd_with_too_few_characters_fails_soft(tmp_path):
    blank = tmp_path / "blank.png"
    Image.new("L", (1200, 1600), 255).save(blank)
    assert ocr.detect_rotation(blank, 300, deadline=time.monotonic() + 60) == 0


def test_blank_page_reads_nothing_in_one_pass():
    result = ocr.ocr_image(Image.new("L", (1240, 1754), 255), ExtractOptions())
    assert result.text == ""
    assert result.confidence is None
    assert result.characters == 0


def test_timeout_raises_and_leaves_no_tesseract_behind():
    options = ExtractOptions(ocr_timeout=0.3)
    with pytest.raises(ExtractionTimeout) as raised:
        ocr.ocr_image(render_lines(JAPANESE_SAMPLE * 6, font_path=IPA_GOTHIC), options, name="slow.png")
    assert raised.value.reason == "timeout"
    assert "slow.png" in raised.value.message
    leftovers = [child for child in psutil.Process().children(recursive=True) if "tesseract" in child.name()]
    assert leftovers == []


def test_unreadable_image_is_corrupt(tmp_path):
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00garbage" * 50)
    with pytest.raises(CorruptDocument) as raised:
        ocr.ocr_image_file(broken, ExtractOptions(), dpi=300, name="broken.png")
    assert raised.value.reason == "corrupt"


def test_missing_language_pack_is_a_configuration_error(tmp_path):
    image = tmp_path / "text.png"
    page_of(ENGLISH_SAMPLE[:1], DEJAVU_SANS).save(image)
    with pytest.raises(ConfigError) as raised:
        ocr.ocr_image_file(image, ExtractOptions(), dpi=300, languages="xxx")
    assert raised.value.key == "ocr_languages"


def test_languages_can_be_chosen_per_call(tmp_path):
    image = tmp_path / "text.png"
    page_of(ENGLISH_SAMPLE[:2], DEJAVU_SANS, 42).save(image)
    result = ocr.ocr_image_file(image, ExtractOptions(ocr_languages="jpn"), dpi=300, languages="eng")
    assert result.languages == "eng"
    assert "copyright owner" in result.text


def test_tsv_parsing_ignores_minus_one_and_joins_words_sensibly():
    header = "level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext"
    rows = [
        "1\t1\t0\t0\t0\t0\t0\t0\t100\t100\t-1\t",
        "5\t1\t1\t1\t1\t1\t0\t0\t10\t10\t90\t東京",
        "5\t1\t1\t1\t1\t2\t0\t0\t10\t10\t80\tに",
        "5\t1\t1\t1\t1\t3\t0\t0\t10\t10\t70\tOpenSearch",
        "5\t1\t1\t1\t2\t1\t0\t0\t10\t10\t60\tHello",
        "5\t1\t1\t1\t2\t2\t0\t0\t10\t10\t-1\tworld",
        "5\t1\t2\t1\t1\t1\t0\t0\t10\t10\t100\t2024",
        "5\t1\t2\t1\t1\t2\t0\t0\t10\t10\t100\t年",
    ]
    result = ocr.result_from_lines(ocr.parse_tsv_lines("\n".join([header, *rows])), "jpn+eng")
    assert result.text == "東京にOpenSearch\nHello world\n\n2024年"
    assert result.confidence == pytest.approx((90 + 80 + 70 + 60 + 100 + 100) / 6, abs=0.01)
    assert result.characters == len("東京にOpenSearchHelloworld2024年")


def test_child_environment_limits_openmp_to_one_thread(monkeypatch):
    monkeypatch.setenv("OMP_THREAD_LIMIT", "8")
    assert ocr.child_environment()["OMP_THREAD_LIMIT"] == "1"


def test_dpi_is_the_image_own_when_sane_and_300_otherwise():
    assert ocr.estimate_dpi(200.0) == 200
    assert ocr.estimate_dpi(None) == 300
    assert ocr.estimate_dpi(1.0) == 300
    assert ocr.estimate_dpi(72_000.0) == 300


def test_skew_is_measured_and_level_pages_are_left_alone():
    level = page_of(ENGLISH_SAMPLE, DEJAVU_SANS, 42)
    assert ocr.skew_angle(level) == 0.0
    tilted = level.rotate(2.0, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=255)
    assert ocr.skew_angle(tilted) == pytest.approx(-2.0, abs=0.3)
    assert ocr.skew_angle(Image.new("L", (800, 600), 255)) == 0.0


# -- geometry: real spaces, soft line breaks ---------------------------------------------------

ITEMS = (
    "第三条　次に掲げる者は、届出をしなければならない。",
    "五　法第二十五条の二に規定する事業者",
    "六　前号に掲げる者の代理人",
)


def test_real_full_width_spaces_after_item_numbers_are_kept_and_false_ones_dropped():
    result = ocr.ocr_image(page_of(ITEMS, IPA_MINCHO), ExtractOptions())
    assert result.text.splitlines()[0] == ITEMS[0]
    lines = result.text.splitlines()
    assert [line[:2] for line in lines] == ["第三", "五\u3000", "六\u3000"], result.text
    assert result.text.count("\u3000") == 3, result.text
    assert cer("\n".join(ITEMS), result.text) <= 0.03
    assert not re.search(r"[\u3040-\u30ff\u4e00-\u9fff] [\u3040-\u30ff\u4e00-\u9fff]", result.text)


def test_a_japanese_paragraph_wrapped_at_the_margin_is_one_line_and_short_lines_stay_apart():
    paragraph = "日本語の文章は単語の間に空白を入れずに書きますので、行の終わりで折り返した文も一続きです。"
    wrapped = (paragraph[:26], paragraph[26:])  # 26 characters of 46 px fill the 1240 px text width
    short = ("これは短い行です。", "もう一つの短い行です。")
    image = render_lines((*wrapped, *short), font_path=IPA_GOTHIC, font_px=46, size=(1440, 700), margin=100)
    result = ocr.ocr_image(image, ExtractOptions(), dpi=300)
    assert result.text.replace("\n\n", "\n").splitlines() == [paragraph, *short], result.text


def test_a_latin_paragraph_keeps_its_line_breaks():
    result = ocr.ocr_image(page_of(ENGLISH_SAMPLE[:3], DEJAVU_SANS, 42), ExtractOptions())
    lines = result.text.splitlines()
    assert len(lines) == 3, result.text
    assert all(cer(expected, line) <= 0.03 for expected, line in zip(ENGLISH_SAMPLE[:3], lines, strict=True)), lines


def test_a_72_dpi_page_is_enlarged_before_reading():
    small = render_lines(ENGLISH_SAMPLE, font_path=DEJAVU_SANS, font_px=11, size=(612, 400), margin=40)
    small.info["dpi"] = (72, 72)
    result = ocr.ocr_image(small, ExtractOptions())
    assert result.upscale >= 2.5
    assert cer("\n".join(ENGLISH_SAMPLE), result.text) <= 0.02, result.text


def test_a_300_dpi_page_is_not_enlarged():
    assert ocr.ocr_image(page_of(ENGLISH_SAMPLE[:2], DEJAVU_SANS, 42), ExtractOptions()).upscale == 1.0


def test_auto_languages_follow_the_script_osd_detects():
    english = ocr.ocr_image(page_of(ENGLISH_SAMPLE, DEJAVU_SANS, 42), ExtractOptions(ocr_languages="auto"))
    assert (english.languages, english.script) == ("eng", "Latin")
    assert "copyright owner" in english.text
    japanese = ocr.ocr_image(page_of(JAPANESE_SAMPLE, IPA_GOTHIC), ExtractOptions(ocr_languages="auto"))
    assert (japanese.languages, japanese.script) == ("jpn+eng", "Japanese")
    assert cer("\n".join(JAPANESE_SAMPLE), japanese.text) <= 0.03


CYRILLIC = (
    "Каждое утро архив получает несколько тысяч новых файлов из",
    "региональных отделений. Большинство из них счета и договоры,",
    "а многие сканированы на старых копировальных аппаратах офиса.",
)


def test_a_script_without_its_language_pack_reads_with_low_confidence_and_is_flagged(tmp_path):
    import extractkit

    path = tmp_path / "cyrillic.png"
    page_of(CYRILLIC, DEJAVU_SANS, 42).save(path, dpi=(300, 300))
    result = extractkit.extract(path, options=ExtractOptions(ocr_languages="auto"))
    [page] = result.pages
    assert page.confidence is not None and page.confidence < 60, page
    assert result.metadata["low_confidence_pages"] == [1]
    assert "Cyrillic" in result.metadata["warnings"][0] and "below 60" in result.metadata["warnings"][0]
    clean = extractkit.extract(tmp_path / "cyrillic.png", options=ExtractOptions(ocr_languages="eng+jpn"))
    assert clean.metadata["low_confidence_pages"] == [1]  # the same page without auto is flagged too


def test_a_confident_page_is_not_flagged(tmp_path):
    import extractkit

    path = tmp_path / "english.png"
    page_of(ENGLISH_SAMPLE, DEJAVU_SANS, 42).save(path, dpi=(300, 300))
    result = extractkit.extract(path)
    assert "low_confidence_pages" not in result.metadata and "warnings" not in result.metadata


def test_upscaling_never_passes_600_dpi_for_a_page_rendered_at_a_known_resolution():
    from PIL import Image, ImageDraw

    from extractkit_plugins.image.page_prep import MAX_EFFECTIVE_DPI, TARGET_LINE_HEIGHT, upscale_factor

    page = Image.new("L", (1200, 1600), 255)
    draw = ImageDraw.Draw(page)
    for top in range(40, 1500, 30):  # text-like bands 8 px high: small print
        draw.rectangle((60, top, 1100, top + 7), fill=0)
    assert upscale_factor(page) == TARGET_LINE_HEIGHT / 8  # a file's stated DPI may be wrong: as the lines ask
    assert upscale_factor(page, 300) == MAX_EFFECTIVE_DPI / 300
    assert upscale_factor(page, 600) == 1.0
