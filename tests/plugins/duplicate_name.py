"""A plugin that reuses the builtin extractor name 'text': loading must refuse it."""

from extractkit import ExtractionResult, Extractor, hookimpl


class AnotherTextExtractor(Extractor):
    name = "text"
    mime_types = ("text/plain",)

    def extract(self, document):
        return ExtractionResult(text="")


@hookimpl
def register_extractors(register):
    register(AnotherTextExtractor)
