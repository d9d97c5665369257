"""An extractor with an empty mime_types tuple: refused when the plugin loads, not silently unused."""

from extractkit import ExtractionResult, Extractor, hookimpl


class NothingExtractor(Extractor):
    name = "nothing"
    mime_types = ()

    def extract(self, document):
        return ExtractionResult(text="")


@hookimpl
def register_extractors(register):
    register(NothingExtractor)
