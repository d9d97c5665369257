"""The in-process executor: extraction in the calling thread, the pipeline's default."""

from __future__ import annotations

from .models import Document, ExtractOptions, Outcome
from .plugins import Plugins
from .processing import process_document


class InProcessExecutor:
    """Extraction in the calling thread, for library use and when isolation is off."""

    def __init__(self, plugins: Plugins, options: ExtractOptions | None = None) -> None:
        self.plugins = plugins
        self.options = options or ExtractOptions()

    def __call__(self, document: Document) -> Outcome:
        """Extract one document; never raises for a bad document."""
        return process_document(document, self.plugins, self.options)

    def close(self) -> None:
        """Nothing to release."""

    def __enter__(self) -> InProcessExecutor:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
