"""A plugin whose extractor claims text/plain with the builtin's priority: origin must decide."""

from extractkit import ExtractionResult, Extractor, Page, hookimpl


class ShoutingTextExtractor(Extractor):
    """Upper-cases text files, so a test can see it was chosen."""

    name = "shouting-text"
    mime_types = ("text/plain",)

    def extract(self, document):
        text = document.path.read_text(encoding="utf-8").upper()
        return ExtractionResult(text=text, pages=(Page(1, text),))


@hookimpl
def register_extractors(register):
    register(ShoutingTextExtractor)
