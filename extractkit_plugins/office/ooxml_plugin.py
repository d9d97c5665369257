"""What the Word, Excel and PowerPoint extractor plugins share: the extra check and the lazily imported reader."""

from __future__ import annotations

import importlib
from typing import ClassVar

from extractkit.interfaces import Extractor
from extractkit.models import Document, ExtractionResult
from extractkit_plugins.extras import require


class OoxmlExtractor(Extractor):
    """An extractor whose parsing lives in a reader module loaded on first use.

    Subclasses name the Python library the reader needs (``library``), the file
    suffix for the missing-extra message (``suffix``) and the reader as
    ``(module in this package, class name)``.
    """

    library: ClassVar[str]
    suffix: ClassVar[str]
    reader: ClassVar[tuple[str, str]]
    priority = 50

    def extract(self, document: Document) -> ExtractionResult:
        """Check the extra is installed, then read the package with the reader."""
        require(self.library, "office", f"read {self.suffix} files")
        require("lxml", "office", f"read {self.suffix} files")
        module_name, class_name = self.reader
        module = importlib.import_module(f"{__package__}.{module_name}")
        return getattr(module, class_name)(self.options).extract(document)
