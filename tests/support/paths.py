"""Where things are: the checkout, the shared folder beside it, the public corpus and the tests' own plugins."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO.parent / "shared"
CORPUS = SHARED / "corpus" / "public"
TEST_PLUGINS = REPO / "tests" / "plugins"
#: The LibreOffice conversions (.doc, .xls, .ppt, .odt, .ods, .odp) of the Office builders' documents.
LIBREOFFICE_DOCUMENTS = REPO / "tests" / "documents" / "libreoffice"
