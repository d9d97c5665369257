"""An extractor whose extract() returns a dict instead of an ExtractionResult, for *.note files."""

from extractkit import Extractor, hookimpl


class DictNoteExtractor(Extractor):
    """Returns the wrong type: the document must fail as crashed, naming this plugin."""

    name = "dict-note"
    mime_types = ("application/x-note",)

    def extract(self, document):
        return {"text": document.path.read_text(encoding="utf-8")}


@hookimpl
def detect_mime_type(path, name):
    return "application/x-note" if name.endswith(".note") else None


@hookimpl
def register_extractors(register):
    register(DictNoteExtractor)
