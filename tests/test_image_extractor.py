"""The image extractor end to end: every format, multi-page TIFF, odd modes, bombs and broken files."""

from __future__ import annotations

import resource
import tempfile
import warnings
from pathlib import Path

import pytest
from PIL import Image

import extractkit
from extractkit.errors import CorruptDocument, TooLarge
from extractkit.models import Document, ExtractOptions
from extractkit_plugins.image.image_extractor import ImageExtractor, tesseract_ready

from support.pdf_images import IPA_GOTHIC, png_header_only, render_lines

LINES = ("請求書 Invoice 2024", "東京都千代田区")


def text_image(lines: tuple[str, ...] = LINES) -> Image.Image:
    """A small grey image of a few lines at 300 dpi."""
    image = render_lines(lines, font_path=IPA_GOTHIC, font_px=48, size=(1300, 160 + 80 * len(lines)), margin=60)
    image.info["dpi"] = (300, 300)
    return image


def document(path: Path, mime_type: str) -> Document:
    return Document(uri=path.as_uri(), path=path, name=path.name, size=path.stat().st_size, mime_type=mime_type)


def assert_reads_lines(text: str) -> None:
    assert "請求書" in text, text
    assert "Invoice 2024" in text, text
    assert "東京都千代田区" in text, text


@pytest.mark.parametrize(
    ("suffix", "save_as", "mime_type"),
    [
        (".png", "PNG", "image/png"),
        (".jpg", "JPEG", "image/jpeg"),
        (".tif", "TIFF", "image/tiff"),
        (".bmp", "BMP", "image/bmp"),
        (".gif", "GIF", "image/gif"),
        (".webp", "WEBP", "image/webp"),
    ],
)
def test_each_format_is_detected_and_read(tmp_path, plugins, suffix, save_as, mime_type):
    path = tmp_path / f"scan{suffix}"
    extra = {"quality": 95} if save_as in ("JPEG", "WEBP") else {}
    if save_as in ("PNG", "JPEG", "TIFF", "BMP"):
        extra["dpi"] = (300, 300)
    text_image().save(path, format=save_as, **extra)
    result = extractkit.extract(path, plugins=plugins)
    assert result.extractor == "image"
    assert result.mime_type == mime_type
    assert_reads_lines(result.text)
    [page] = result.pages
    assert page.ocr and page.engine == "tesseract"
    assert 50 < page.confidence <= 100


def test_every_tiff_frame_is_a_page(tmp_path, plugins):
    path = tmp_path / "fax.tif"
    first, second = text_image(("第一頁 first page",)), text_image(("第二頁 second page",))
    first.save(path, format="TIFF", save_all=True, append_images=[second], compression="tiff_deflate")
    result = extractkit.extract(path, plugins=plugins)
    assert [page.number for page in result.pages] == [1, 2]
    assert "first page" in result.pages[0].text and "second page" in result.pages[1].text
    assert result.text.index("first page") < result.text.index("second page")
    assert result.metadata["page_count"] == 2


def test_animated_gif_frames_are_not_pages(tmp_path, plugins):
    path = tmp_path / "banner.gif"
    text_image().save(path, save_all=True, append_images=[text_image(("別の画像",))], duration=500)
    result = extractkit.extract(path, plugins=plugins)
    assert len(result.pages) == 1
    assert result.metadata["frames"] == 2
    assert_reads_lines(result.text)


def test_tiff_with_more_frames_than_max_pages_is_too_large(tmp_path):
    path = tmp_path / "long.tif"
    frame = Image.new("1", (50, 50), 1)
    frame.save(path, format="TIFF", save_all=True, append_images=[frame, frame])
    with pytest.raises(TooLarge):
        ImageExtractor(ExtractOptions(max_pages=2)).extract(document(path, "image/tiff"))


def black_text_on_transparent(mode: str) -> Image.Image:
    ink = text_image().point(lambda value: 255 - value)
    black = Image.new("L", ink.size, 0)
    if mode == "LA":
        return Image.merge("LA", (black, ink))
    return Image.merge("RGBA", (black, black, black, ink))


def sixteen_bit(image: Image.Image) -> Image.Image:
    return image.convert("I").point(lambda value: value * 257).convert("I;16")


@pytest.mark.parametrize(
    ("label", "make", "suffix", "save_as", "mime_type"),
    [
        ("palette+transparency", lambda: text_image().convert("P"), ".png", "PNG", "image/png"),
        ("grey+alpha", lambda: black_text_on_transparent("LA"), ".png", "PNG", "image/png"),
        ("rgba", lambda: black_text_on_transparent("RGBA"), ".png", "PNG", "image/png"),
        ("cmyk", lambda: text_image().convert("CMYK"), ".jpg", "JPEG", "image/jpeg"),
        ("16-bit grey", lambda: sixteen_bit(text_image()), ".png", "PNG", "image/png"),
    ],
)
def test_unusual_modes_are_converted_for_tesseract(tmp_path, label, make, suffix, save_as, mime_type):
    image = make()
    path = tmp_path / f"mode{suffix}"
    options = {"transparency": 255} if label.startswith("palette") else {}
    image.save(path, format=save_as, **options)
    result = ImageExtractor().extract(document(path, mime_type))
    assert_reads_lines(result.text)


def test_converted_modes_are_ones_tesseract_reads():
    for mode in ("P", "LA", "RGBA", "CMYK", "I", "F", "YCbCr"):
        converted = tesseract_ready(text_image().convert(mode))
        assert converted.mode in ("1", "L", "RGB"), mode
        assert converted.getpixel((0, 0)) in (255, (255, 255, 255)), mode


def test_forty_thousand_square_png_fails_fast_and_small(tmp_path):
    path = png_header_only(tmp_path / "bomb.png", 40_000, 40_000)
    assert path.stat().st_size < 1024
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(TooLarge) as raised:
        ImageExtractor().extract(document(path, "image/png"))
    peak_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    assert raised.value.reason == "too_large"
    assert "bomb.png" in raised.value.message
    assert peak_after - peak_before < 100 * 1024  # kilobytes: nothing near 1.6 GB was decoded


def test_pillow_bomb_warning_is_an_error_without_touching_global_state(tmp_path):
    # 10000 x 10000 is over Pillow's warning threshold but under max_image_pixels.
    path = png_header_only(tmp_path / "big.png", 10_000, 10_000)
    limit_before, filters_before = Image.MAX_IMAGE_PIXELS, list(warnings.filters)
    with pytest.raises(TooLarge):
        ImageExtractor(ExtractOptions(max_image_pixels=200_000_000)).extract(document(path, "image/png"))
    assert limit_before == Image.MAX_IMAGE_PIXELS
    assert warnings.filters == filters_before


def test_own_pixel_limit_applies_before_decoding(tmp_path):
    path = tmp_path / "photo.png"
    Image.new("L", (1500, 1000), 255).save(path)
    with pytest.raises(TooLarge) as raised:
        ImageExtractor(ExtractOptions(max_image_pixels=1_000_000)).extract(document(path, "image/png"))
    assert "max_image_pixels" in raised.value.message


def test_truncated_png_is_corrupt(tmp_path):
    path = tmp_path / "cut.png"
    text_image().save(path)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(CorruptDocument):
        ImageExtractor().extract(document(path, "image/png"))


def test_random_bytes_claiming_to_be_jpeg_are_corrupt(tmp_path):
    path = tmp_path / "noise.jpg"
    path.write_bytes(bytes(range(256)) * 40)
    with pytest.raises(CorruptDocument):
        ImageExtractor().extract(document(path, "image/jpeg"))


def test_jpeg_named_png_is_read_as_jpeg(tmp_path, plugins):
    path = tmp_path / "really-a-jpeg.png"
    text_image().convert("RGB").save(path, format="JPEG", quality=95)
    result = extractkit.extract(path, plugins=plugins)
    assert result.mime_type == "image/jpeg"
    assert_reads_lines(result.text)


def test_temporary_files_are_removed(tmp_path, monkeypatch):
    private = tmp_path / "private-tmp"
    private.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(private))
    path = tmp_path / "scan.png"
    text_image().save(path)
    ImageExtractor().extract(document(path, "image/png"))
    assert list(private.iterdir()) == []


def test_ocr_can_be_switched_off(tmp_path):
    path = tmp_path / "scan.png"
    text_image().save(path)
    result = ImageExtractor(ExtractOptions(ocr_enabled=False)).extract(document(path, "image/png"))
    assert result.text == ""
    assert [page.ocr for page in result.pages] == [False]
    assert result.metadata["width"] == 1300


# -- OCR engines as plugins ---------------------------------------------------------------------

ENGINE_PLUGIN = '''
"""A test OCR engine that reads every page as the same words."""
from extractkit import hookimpl
from extractkit_plugins.image.ocr import OcrResult
from extractkit_plugins.image.ocr_engines import OcrEngine


class StampEngine(OcrEngine):
    name = "stamp"

    def read(self, image, *, dpi, languages, deadline, name):
        return OcrResult(f"stamped {image.width}x{image.height}", 99.0, languages, engine="stamp", characters=7)


@hookimpl
def register_ocr_engines(register):
    register(StampEngine)
'''


def test_register_ocr_engines_adds_an_engine_the_options_can_pick(tmp_path):
    from extractkit.plugins import load_plugins

    plugin = tmp_path / "stamp_engine.py"
    plugin.write_text(ENGINE_PLUGIN, encoding="utf-8")
    plugins = load_plugins(extra=[str(plugin)], entry_points=False)
    assert {"tesseract", "ppocr", "tesseract+ppocr", "stamp"} <= set(plugins.ocr_engines)
    assert plugins.ocr_engines["stamp"].plugin == str(plugin)
    path = tmp_path / "page.png"
    text_image().save(path)
    result = extractkit.extract(path, plugins=plugins, options=ExtractOptions(extra={"ocr_engine": "stamp"}))
    assert result.text == "stamped 1300x320"
    assert result.pages[0].engine == "stamp"
    default = extractkit.extract(path, plugins=plugins)
    assert default.pages[0].engine == "tesseract"
    assert_reads_lines(default.text)


def test_an_unknown_engine_is_a_configuration_error(tmp_path, plugins):
    from extractkit.errors import ConfigError

    path = tmp_path / "page.png"
    text_image().save(path)
    with pytest.raises(ConfigError) as raised:
        ImageExtractor(ExtractOptions(extra={"ocr_engine": "nonesuch"})).extract(document(path, "image/png"))
    assert "nonesuch" in str(raised.value) and "tesseract" in str(raised.value)


def test_ppocr_reads_japanese_and_english_with_one_thread(tmp_path, plugins):
    from extractkit_plugins.image import ppocr_engine

    path = tmp_path / "page.png"
    text_image().save(path)
    result = extractkit.extract(path, plugins=plugins, options=ExtractOptions(extra={"ocr_engine": "ppocr"}))
    assert_reads_lines(result.text)
    assert result.pages[0].engine == "ppocr"
    assert 90 <= result.pages[0].confidence <= 100
    detector, recogniser = ppocr_engine.models()
    for model in (detector, recogniser):
        settings = model.session.get_session_options()
        assert (settings.intra_op_num_threads, settings.inter_op_num_threads) == (1, 1)
    assert not (Path.cwd() / "cache").exists()  # the package's own loader would write optimised models there


def test_the_combination_picks_a_reading_and_keeps_vertical_pages_with_tesseract(tmp_path, plugins):
    from support.pdf_images import VERTICAL_SAMPLE, render_vertical

    options = ExtractOptions(extra={"ocr_engine": "tesseract+ppocr"})
    path = tmp_path / "page.png"
    text_image().save(path)
    result = extractkit.extract(path, plugins=plugins, options=options)
    assert_reads_lines(result.text)
    assert result.pages[0].engine in ("tesseract", "ppocr")
    vertical = tmp_path / "vertical.png"
    render_vertical(VERTICAL_SAMPLE).save(vertical, dpi=(300, 300))
    tategaki = extractkit.extract(vertical, plugins=plugins, options=options)
    assert tategaki.pages[0].engine == "tesseract"
    assert VERTICAL_SAMPLE[1][:8] in tategaki.text, tategaki.text


def test_text_detection_lets_photos_and_blank_pages_through_without_recognition(tmp_path, plugins, monkeypatch):
    from PIL import ImageFilter

    from extractkit_plugins.image import ocr

    photo = Image.new("RGB", (800, 600))
    photo.putdata([((x * 255) // 800, (y * 255) // 600, ((x + y) * 91) % 256) for y in range(600) for x in range(800)])
    photo.filter(ImageFilter.GaussianBlur(3)).save(tmp_path / "photo.jpg", quality=85)
    Image.new("L", (2480, 3508), 250).save(tmp_path / "blank.png")
    text_image().save(tmp_path / "text.png")
    calls: list[str] = []
    real = ocr.recognise
    monkeypatch.setattr(ocr, "recognise", lambda *args, **kwargs: calls.append(str(args[0])) or real(*args, **kwargs))
    options = ExtractOptions(extra={"ocr_text_detection": True})
    for name in ("photo.jpg", "blank.png"):
        result = extractkit.extract(tmp_path / name, plugins=plugins, options=options)
        assert (result.text, result.pages[0].engine) == ("", "text-detection")
    assert calls == []
    assert_reads_lines(extractkit.extract(tmp_path / "text.png", plugins=plugins, options=options).text)
    assert calls


def test_lookalikes_change_only_with_the_other_reading_as_evidence():
    from extractkit_plugins.image.ocr_choice import correct_lookalikes

    read = "第ー条 五 法第ニ十五条の=\n0penSearch ラーメン 白円"
    evidence = "第一条\n五法第二十五条の二 OpenSearch ラ一メン 百円"
    assert correct_lookalikes(read, evidence) == ("第一条 五 法第二十五条の=\nOpenSearch ラーメン 百円", 4)
    assert correct_lookalikes(read, read) == (read, 0)
    assert correct_lookalikes("カ夕ログ", "カタログ") == ("カタログ", 1)
