"""The builtin image extractor: PNG, JPEG, TIFF (every frame a page), BMP, GIF and WebP through OCR.

Pillow opens the file with only the decoder of the detected type. The pixel count is checked
against ``ExtractOptions.max_image_pixels`` before anything is decoded, and Pillow's own
decompression-bomb warning is turned into an error, so a 40000 x 40000 image fails at once
as ``too_large``. Each frame is converted to a mode tesseract reads (transparency flattened
onto white, 16-bit grey scaled to 8 bits) and handed to the configured OCR engine
(:mod:`extractkit_plugins.image.ocr_engines`, Tesseract by default). Each page's ``confidence``
is the engine's mean confidence, 0-100; a frame whose OCR times out fails alone (metadata
``page_failures``), and low-confidence frames are listed in ``low_confidence_pages``.
"""

from __future__ import annotations

import struct
import warnings
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from extractkit import hookimpl
from extractkit.errors import CorruptDocument, TooLarge
from extractkit.interfaces import Extractor
from extractkit.models import Document, ExtractionResult, ExtractOptions, Page
from extractkit_plugins.extras import require

from .ocr import estimate_dpi
from .ocr_engines import BUILTIN_ENGINES, PageNotes, warm_up_engine

if TYPE_CHECKING:
    from PIL import Image

#: Pillow decoder names for each MIME type this extractor takes.
PILLOW_FORMATS: dict[str, str] = {
    "image/png": "PNG",
    "image/jpeg": "JPEG",
    "image/pjpeg": "JPEG",
    "image/tiff": "TIFF",
    "image/bmp": "BMP",
    "image/x-ms-bmp": "BMP",
    "image/x-bmp": "BMP",
    "image/gif": "GIF",
    "image/webp": "WEBP",
}
#: Formats whose frames are pages; in the others (GIF, WebP) extra frames are animation.
PAGED_FORMATS = frozenset({"TIFF"})
#: A stated DPI is believed only if it makes the image no bigger than this many inches.
MAX_PLAUSIBLE_INCHES = 17.0
#: Errors Pillow raises for damaged or truncated files.
DECODE_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    SyntaxError,
    ValueError,
    EOFError,
    IndexError,
    KeyError,
    TypeError,
    struct.error,
    zlib.error,
)


class ImageExtractor(Extractor):
    """OCR every page of an image file with Tesseract."""

    name = "image"
    mime_types = tuple(PILLOW_FORMATS)

    def extract(self, document: Document) -> ExtractionResult:
        """Decode each frame within the pixel limits and OCR it."""
        require("PIL", "ocr", "read images")
        formats = self._formats_for(document)
        pages: list[Page] = []
        with _open_image(document, formats, self.options.max_image_pixels) as image:
            frame_count = self._frame_count(document, image)
            metadata: dict[str, Any] = {
                "format": image.format,
                "width": image.width,
                "height": image.height,
                "mode": image.mode,
                "frames": frame_count,
                "page_count": frame_count if image.format in PAGED_FORMATS else 1,
            }
            notes = PageNotes()
            for index in range(metadata["page_count"]):
                frame = _decoded_frame(document, image, index, self.options.max_image_pixels)
                pages.append(self._page(document, frame, index + 1, notes))
        notes.finish(metadata, pages_with_text=sum(1 for page in pages if page.text))
        text = "\n\n".join(page.text for page in pages if page.text)
        return ExtractionResult(text=text, pages=tuple(pages), metadata=metadata)

    @staticmethod
    def _formats_for(document: Document) -> list[str]:
        mime_type = (document.mime_type or "").split(";", 1)[0].strip().lower()
        if mime_type in PILLOW_FORMATS:
            return [PILLOW_FORMATS[mime_type]]
        return sorted(set(PILLOW_FORMATS.values()))

    def _frame_count(self, document: Document, image: Image.Image) -> int:
        try:
            frames = int(getattr(image, "n_frames", 1))
        except DECODE_ERRORS as exc:
            raise CorruptDocument(
                f"{document.name}: its frames cannot be counted ({exc}); the file is damaged"
            ) from exc
        if image.format in PAGED_FORMATS and frames > self.options.max_pages:
            raise TooLarge(
                f"{document.name} has {frames} pages, over the {self.options.max_pages}-page limit (max_pages)"
            )
        return frames

    def _page(self, document: Document, frame: Image.Image, number: int, notes: PageNotes) -> Page:
        if not self.options.ocr_enabled:
            return Page(number=number, text="", ocr=False, engine=None)
        prepared = tesseract_ready(frame)
        name = f"{document.name} page {number}"
        result = notes.ocr(prepared, self.options, dpi=_dpi_of(frame), name=name, number=number)
        if result is None:  # timed out: the page carries its failure (also in the metadata's page_failures)
            return Page(number=number, text="", ocr=True, engine=None, failure=notes.failure_of(number))
        return Page(number=number, text=result.text, ocr=True, confidence=result.confidence, engine=result.engine)


@contextmanager
def _open_image(document: Document, formats: list[str], max_pixels: int) -> Iterator[Image.Image]:
    """Open lazily (header only), with decompression bombs as errors, and check the pixel count."""
    from PIL import Image, UnidentifiedImageError

    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(document.path, formats=formats)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise TooLarge(f"{document.name}: {exc}; raise max_image_pixels only for trusted files") from None
        except UnidentifiedImageError:
            expected = " or ".join(formats)
            raise CorruptDocument(f"{document.name} is not a readable {expected} image; the file is damaged") from None
        except DECODE_ERRORS as exc:
            raise CorruptDocument(f"{document.name}: the image header is damaged ({exc})") from None
        try:
            _check_pixels(document, image, max_pixels)
            yield image
        finally:
            image.close()


def _check_pixels(document: Document, image: Image.Image, max_pixels: int) -> None:
    width, height = image.size
    if width <= 0 or height <= 0:
        raise CorruptDocument(f"{document.name} claims an empty {width}x{height} image; the file is damaged")
    if width * height > max_pixels:
        raise TooLarge(
            f"{document.name} is {width}x{height} = {width * height:,} pixels, over the "
            f"{max_pixels:,}-pixel limit (max_image_pixels)"
        )


def _decoded_frame(document: Document, image: Image.Image, index: int, max_pixels: int) -> Image.Image:
    """Seek to a frame, check its own size, and decode it (Pillow decodes lazily)."""
    from PIL import Image as PILImage

    with warnings.catch_warnings():
        warnings.simplefilter("error", PILImage.DecompressionBombWarning)
        try:
            image.seek(index)
            _check_pixels(document, image, max_pixels)
            image.load()
            frame = image.copy()
        except (PILImage.DecompressionBombError, PILImage.DecompressionBombWarning) as exc:
            raise TooLarge(f"{document.name}: {exc}; raise max_image_pixels only for trusted files") from None
        except DECODE_ERRORS as exc:
            raise CorruptDocument(
                f"{document.name}: frame {index + 1} cannot be decoded ({exc}); the file is damaged or truncated"
            ) from None
    return frame


def tesseract_ready(image: Image.Image) -> Image.Image:
    """Convert any Pillow mode into 1-bit, 8-bit grey or RGB, flattening transparency onto white."""
    from PIL import Image

    mode = image.mode
    if mode in ("1", "L", "RGB"):
        return image
    if mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
        mode = image.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        return _scaled_to_8_bits(image)
    if mode in ("LA", "La", "PA", "RGBA", "RGBa"):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        flattened = Image.alpha_composite(background, rgba).convert("RGB")
        return flattened.convert("L") if mode in ("LA", "La") else flattened
    return image.convert("RGB")


def _scaled_to_8_bits(image: Image.Image) -> Image.Image:
    wide = image.convert("F") if image.mode == "F" else image.convert("I")
    low, high = wide.getextrema()
    span = (high - low) or 1
    scaled = wide.point(lambda value: (value - low) * (255.0 / span))
    return scaled.convert("L")


def _dpi_of(frame: Image.Image) -> int:
    stated = frame.info.get("dpi")
    dpi = None
    if isinstance(stated, tuple) and stated and stated[0]:
        try:
            dpi = float(stated[0])
        except (TypeError, ValueError):
            dpi = None
    if dpi and max(frame.size) / dpi > MAX_PLAUSIBLE_INCHES:
        dpi = None
    return estimate_dpi(dpi)


@hookimpl
def register_extractors(register: Any) -> None:
    """Register the image extractor."""
    register(ImageExtractor)


@hookimpl
def register_ocr_engines(register: Any) -> None:
    """Register the builtin OCR engines: tesseract, ppocr and their combination."""
    for engine in BUILTIN_ENGINES.values():
        register(engine)


@hookimpl
def warm_up(register_sample: Any, options: ExtractOptions) -> None:
    """Load Pillow and what the configured OCR engine needs (PP-OCR's sessions); no sample to OCR.

    A sample page would run the OCR engine (a Tesseract start, say) on every template start;
    the engine's own warm-up loads only what ``options`` will use.
    """
    try:
        import PIL.Image  # noqa: F401 (imported to be inherited loaded)
    except ImportError:
        return
    warm_up_engine(options)
