"""Pages OCR read poorly are flagged, and every warning reaches the result and the JSON record."""

from __future__ import annotations

from extractkit.models import LOW_CONFIDENCE
from extractkit.plugins import Plugins, PluginSpec
from extractkit.processing import extract

from support.paths import TEST_PLUGINS


def test_low_confidence_pages_are_flagged_with_a_document_warning(tmp_path):
    plugins = Plugins(PluginSpec(entry_points=False, extra=(str(TEST_PLUGINS / "poor_ocr.py"),)))
    path = tmp_path / "poor-scan.txt"
    path.write_text("anything")
    result = extract(path, plugins=plugins)
    assert [page.low_confidence for page in result.pages] == [True, False]
    assert result.warnings == (
        "page 3: OCR timed out after 180 s",
        f"OCR confidence under {LOW_CONFIDENCE:.0f} on pages 1",
    )
    assert result.to_dict()["warnings"] == list(result.warnings)
    assert result.to_dict()["pages"][0]["low_confidence"] is True
