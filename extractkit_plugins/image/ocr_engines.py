"""OCR engines as plugins, and the one call the extractors make: :func:`read_page`.

Engines are classes registered through the ``register_ocr_engines`` hook (see
``docs/plugins.md``); ``ExtractOptions.ocr_engine`` (``[extract] ocr_engine``) picks one by name, ``tesseract``
by default. The builtins:

* ``tesseract``: :mod:`.ocr` (upright pass, OSD, ``jpn_vert`` for tategaki, denoise re-read);
* ``ppocr``: PP-OCRv5 mobile on onnxruntime (:mod:`.ppocr_engine`, ``extractkit[ppocr]``);
* ``tesseract+ppocr``: both engines read the page and the reading with the better *calibrated*
  confidence is kept (:mod:`.ocr_choice`); look-alike confusions in it are corrected where the
  other reading shows the right character. A vertical page stays with Tesseract's ``jpn_vert``
  reading, which PP-OCR cannot match.

Before any engine runs, pages with nothing to read can be let through: with
``[extract] ocr_text_detection = true`` PP-OCR's small detector looks for text lines first, and a
photo or a blank scan without any is returned empty at a fraction of the cost of recognition.
:class:`PageNotes` collects, per document, the pages whose OCR timed out (the page fails, the
document keeps the pages that worked) and those read below :data:`LOW_CONFIDENCE`, for the
document's metadata (``page_failures``, ``low_confidence_pages``, ``warnings``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, ClassVar

from extractkit.errors import ConfigError, ExtractionTimeout
from extractkit.models import ExtractOptions, PageFailure

from . import ocr

if TYPE_CHECKING:
    from PIL import Image

#: The option naming the engine, and whether text detection runs first.
ENGINE_OPTION = "ocr_engine"
DETECTION_OPTION = "ocr_text_detection"
DEFAULT_ENGINE = "tesseract"
#: Below this mean confidence (0-100) a page's OCR text is flagged as probably unreadable.
LOW_CONFIDENCE = 60.0


class OcrEngine:
    """Base class of an OCR engine: a unique ``name`` and :meth:`read`.

    An engine is built with the run's options, once per extraction. It runs in the extraction
    child, so it must keep native thread pools to one thread and stop at ``deadline``.
    """

    name: ClassVar[str]

    def __init__(self, options: ExtractOptions) -> None:
        self.options = options

    def read(self, image: Image.Image, *, dpi: int, languages: str, deadline: float, name: str) -> ocr.OcrResult:
        """Read one page image; raise ``ExtractionTimeout`` past ``deadline`` (``time.monotonic()``)."""
        raise NotImplementedError

    @classmethod
    def warm_up(cls, options: ExtractOptions) -> None:
        """Load what the engine needs in the process the extraction children are forked from (nothing here)."""


class TesseractEngine(OcrEngine):
    """Tesseract through its command line (:mod:`.ocr`)."""

    name = "tesseract"

    def read(self, image: Image.Image, *, dpi: int, languages: str, deadline: float, name: str) -> ocr.OcrResult:
        """The Tesseract passes of :func:`.ocr.ocr_image`, within the remaining time."""
        remaining = max(0.001, deadline - time.monotonic())
        options = replace(self.options, ocr_timeout=remaining)
        return ocr.ocr_image(image, options, dpi=dpi, languages=languages, name=name)


class PpOcrEngine(OcrEngine):
    """PP-OCRv5 mobile on onnxruntime (needs ``extractkit[ppocr]``)."""

    name = "ppocr"

    def read(self, image: Image.Image, *, dpi: int, languages: str, deadline: float, name: str) -> ocr.OcrResult:
        """Detect and recognise the page's lines; ``languages`` is ignored (one model reads ja, zh, en)."""
        from . import ppocr_engine

        return ppocr_engine.read_image(image, deadline=deadline, name=name)

    @classmethod
    def warm_up(cls, options: ExtractOptions) -> None:
        """Build and run the PP-OCR sessions once, so forked children share them loaded."""
        from . import ppocr_engine

        ppocr_engine.warm_up()


class CombinedEngine(OcrEngine):
    """Tesseract and PP-OCRv5 both read the page; the better calibrated reading is kept and corrected."""

    name = "tesseract+ppocr"

    def read(self, image: Image.Image, *, dpi: int, languages: str, deadline: float, name: str) -> ocr.OcrResult:
        """Both readings, then :func:`.ocr_choice.choose`; a vertical reading is Tesseract's alone."""
        from .ocr_choice import choose

        first = TesseractEngine(self.options).read(image, dpi=dpi, languages=languages, deadline=deadline, name=name)
        if first.vertical or first.rotation:
            return first  # PP-OCR reads neither tategaki nor turned pages
        second = PpOcrEngine(self.options).read(image, dpi=dpi, languages=languages, deadline=deadline, name=name)
        return choose(first, second)

    @classmethod
    def warm_up(cls, options: ExtractOptions) -> None:
        """PP-OCR's sessions; Tesseract is a command and has nothing to load."""
        PpOcrEngine.warm_up(options)


BUILTIN_ENGINES: dict[str, type[OcrEngine]] = {
    engine.name: engine for engine in (TesseractEngine, PpOcrEngine, CombinedEngine)
}


def engine_classes() -> dict[str, type]:
    """The engines registered by the loaded plugins, or the builtins when no plugin set is loaded."""
    from extractkit.plugins import ocr_engine_registrations

    registered = {name: registration.cls for name, registration in ocr_engine_registrations().items()}
    return registered or dict(BUILTIN_ENGINES)


def engine_name(options: ExtractOptions) -> str:
    """The configured engine's name: ``options.extra["ocr_engine"]``, else ``options.ocr_engine``."""
    return str(options.extra.get(ENGINE_OPTION) or options.ocr_engine or DEFAULT_ENGINE)


def warm_up_engine(options: ExtractOptions) -> None:
    """Load what the configured engine (and the text detection, if on) will need, before children fork.

    An unknown engine name loads nothing here; extraction reports it.
    """
    engine = engine_classes().get(engine_name(options))
    if engine is not None and hasattr(engine, "warm_up"):
        engine.warm_up(options)
    if options.ocr_text_detection or options.extra.get(DETECTION_OPTION):
        from . import ppocr_engine

        ppocr_engine.warm_up(reading=False, detection=True)


def engine_for(options: ExtractOptions) -> Any:
    """The engine ``options.extra["ocr_engine"]`` names, built with the options."""
    wanted = engine_name(options)
    classes = engine_classes()
    if wanted not in classes:
        known = ", ".join(sorted(classes))
        raise ConfigError("extract.ocr_engine", f"no OCR engine named '{wanted}' (installed: {known})")
    return classes[wanted](options)


def has_text(image: Image.Image) -> bool:
    """PP-OCR's detector finds at least one text line on the page."""
    from . import ppocr_engine

    return ppocr_engine.detect_text(image) > 0


def read_page(
    image: Image.Image, options: ExtractOptions, *, dpi: int, name: str, languages: str | None = None
) -> ocr.OcrResult:
    """OCR one page with the configured engine, within ``options.ocr_timeout`` seconds."""
    deadline = time.monotonic() + options.ocr_timeout
    if (options.ocr_text_detection or options.extra.get(DETECTION_OPTION)) and not has_text(image):
        return ocr.OcrResult("", None, languages or options.ocr_languages, engine="text-detection")
    engine = engine_for(options)
    result = engine.read(image, dpi=dpi, languages=languages or options.ocr_languages, deadline=deadline, name=name)
    return result


def is_low_confidence(result: ocr.OcrResult) -> bool:
    """True when the page read something, but with a mean confidence under :data:`LOW_CONFIDENCE`."""
    return result.characters > 0 and result.confidence is not None and result.confidence < LOW_CONFIDENCE


@dataclass
class PageNotes:
    """What the OCR'd pages of one document leave for its metadata: failures and low-confidence pages."""

    failures: list[dict[str, Any]] = field(default_factory=list)
    low_confidence: list[int] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    read: int = 0

    def ocr(
        self, image: Image.Image, options: ExtractOptions, *, dpi: int, name: str, number: int
    ) -> ocr.OcrResult | None:
        """OCR one page; a page that times out is recorded as failed (``None``), not raised."""
        try:
            result = read_page(image, options, dpi=dpi, name=name)
        except ExtractionTimeout as error:
            self.failures.append({"page": number, "reason": error.reason, "message": error.message})
            return None
        self.read += 1
        if is_low_confidence(result):
            self.low_confidence.append(number)
            script = f", script {result.script}" if result.script else ""
            self.warnings.append(
                f"page {number}: OCR confidence {result.confidence:.0f} is below {LOW_CONFIDENCE:.0f} "
                f"(languages {result.languages}{script}); the text may be unreadable"
            )
        return result

    def failure_of(self, number: int) -> PageFailure | None:
        """The failure recorded for page ``number``, if it failed."""
        for failure in self.failures:
            if failure["page"] == number:
                return PageFailure(failure["reason"], failure["message"])
        return None

    def finish(self, metadata: dict[str, Any], *, pages_with_text: int) -> None:
        """Add ``page_failures``, ``low_confidence_pages`` and ``warnings`` to the metadata.

        When no page yielded anything and a page timed out, the document fails with that timeout.
        """
        if self.failures and not self.read and not pages_with_text:
            raise ExtractionTimeout(self.failures[0]["message"])
        if self.failures:
            metadata["page_failures"] = self.failures
            self.warnings.extend(f"page {failure['page']}: {failure['message']}" for failure in self.failures)
        if self.low_confidence:
            metadata["low_confidence_pages"] = self.low_confidence
        if self.warnings:
            metadata["warnings"] = self.warnings
