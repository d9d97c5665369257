"""An extractor that takes a while per document, for shutdown tests."""

import time

from extractkit import ExtractionResult, Extractor, Page, hookimpl


class SlowTextExtractor(Extractor):
    """Reads files named slow-*.txt after a pause."""

    name = "slow-text"
    mime_types = ("text/plain",)
    priority = 0

    def accepts(self, document):
        return document.name.startswith("slow-")

    def extract(self, document):
        time.sleep(0.4)
        text = document.path.read_text(encoding="utf-8")
        return ExtractionResult(text=text, pages=(Page(1, text),))


@hookimpl
def register_extractors(register):
    register(SlowTextExtractor)
