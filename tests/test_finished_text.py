"""A result's text is cleaned exactly as ``clean_text`` would, whether or not its pages show it clean already;
its metadata comes out ready for JSON."""

from __future__ import annotations

import datetime
import json
import random
from enum import IntEnum
from pathlib import Path

from extractkit.models import ExtractionResult, Page
from extractkit.normalize import clean_text
from extractkit.processing import _finished_result, json_ready_metadata

#: Pieces that each step of ``clean_text`` acts on: line endings, controls, trailing blanks, blank
#: runs, combining marks (NFC) and edges, beside plain Latin and CJK text.
PIECES = (
    "a",
    "Zoë",
    "日本語",
    "\u3000",
    " ",
    "\t",
    "\n",
    "\n\n\n",
    "\r\n",
    "\r",
    "\x07",
    "e\u0301",
    "\u0301",
    "\ufeff",
    "",
)


def _page_text(rng: random.Random) -> str:
    return "".join(rng.choice(PIECES) for _ in range(rng.randint(0, 8)))


def test_the_text_is_cleaned_as_clean_text_cleans_it():
    rng = random.Random(12)
    for _ in range(3000):
        texts = [_page_text(rng) for _ in range(rng.randint(0, 4))]
        if rng.random() < 0.5:  # pages made clean first: the text is their join, the case that needs no pass
            texts = [clean_text(text) for text in texts]
        pages = tuple(Page(number, text) for number, text in enumerate(texts, 1))
        joined = "\n\n".join(text for text in texts if text)
        text = joined if rng.random() < 0.8 else joined + rng.choice(PIECES)
        finished = _finished_result(ExtractionResult(text=text, pages=pages), "test", "text/plain")
        assert finished.text == clean_text(text), (texts, text)
        assert [page.text for page in finished.pages] == [clean_text(page) for page in texts]


def test_metadata_comes_out_json_ready_whatever_its_values() -> None:
    class Level(IntEnum):
        HIGH = 2

    moment = datetime.datetime(2024, 4, 1, 9, 0, tzinfo=datetime.UTC)
    plain = {"title": "報告書", "pages": 3, "ratio": 0.5, "encrypted": False, "missing": None, "level": Level.HIGH}
    converted = {
        "created": (moment, "2024-04-01T09:00:00+00:00"),
        "day": (datetime.date(2024, 4, 1), "2024-04-01"),
        "authors": (("a", b"b\xff"), ["a", "b\ufffd"]),
        "nested": ({1: {moment}}, {"1": ["2024-04-01T09:00:00+00:00"]}),
        "path": (Path("/x"), "/x"),
        "encoding": ("UTF_16LE", "utf-16-le"),
        "charset": ("Shift_JIS", "shift-jis"),
    }
    ready = json_ready_metadata({**plain, **{key: value for key, (value, _) in converted.items()}})
    assert ready == {**plain, **{key: expected for key, (_, expected) in converted.items()}}
    json.dumps(ready)
    assert json_ready_metadata({}) == {} and json_ready_metadata(None) == {}  # type: ignore[arg-type]
