"""An extractor that sleeps EXTRACTKIT_TEST_SLEEP seconds on files named sleepy-*.txt, for drain tests."""

import os
import time

from extractkit import ExtractionResult, Extractor, Page, hookimpl


class SleepyTextExtractor(Extractor):
    """Reads sleepy-*.txt after a configurable pause."""

    name = "sleepy-text"
    mime_types = ("text/plain",)
    priority = 0

    def accepts(self, document):
        return document.name.startswith("sleepy-")

    def extract(self, document):
        time.sleep(float(os.environ.get("EXTRACTKIT_TEST_SLEEP", "5")))
        text = document.path.read_text(encoding="utf-8")
        return ExtractionResult(text=text, pages=(Page(1, text),))


@hookimpl
def register_extractors(register):
    register(SleepyTextExtractor)
