"""An extractor whose one page is OCR read with confidence 30, for the low-confidence flag tests."""

from extractkit import ExtractionResult, Extractor, Page, hookimpl


class PoorOcrExtractor(Extractor):
    name = "poor-ocr"
    mime_types = ("text/plain",)
    priority = 0

    def accepts(self, document):
        return document.name.startswith("poor-")

    def extract(self, document):
        return ExtractionResult(
            text="??? ###",
            pages=(Page(1, "??? ###", ocr=True, confidence=30.0), Page(2, "fine text", ocr=True, confidence=91.0)),
            metadata={"warnings": ["page 3: OCR timed out after 180 s"]},
        )


@hookimpl
def register_extractors(register):
    register(PoorOcrExtractor)
