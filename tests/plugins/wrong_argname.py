"""A hookimpl whose argument is misnamed (reg instead of register): a plugin error naming the plugin."""

from extractkit import ExtractionResult, Extractor, hookimpl


class NoteExtractor(Extractor):
    name = "wrong-argname-note"
    mime_types = ("text/x-note",)

    def extract(self, document):
        return ExtractionResult(text="")


@hookimpl
def register_extractors(reg):
    reg(NoteExtractor)
