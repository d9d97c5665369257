"""extractkit: turn files into searchable text through source, extractor and sink plugins.

Library use::

    import extractkit
    result = extractkit.extract("report.pdf")
    print(result.text)
"""

from __future__ import annotations

import importlib.metadata as _metadata

from .errors import (
    ConfigError,
    DocumentError,
    ExtractkitError,
    PermanentError,
    PluginError,
    TransientError,
)
from .hookspecs import hookimpl
from .interfaces import Extractor, Sink, Source
from .models import (
    Attempt,
    Document,
    ExtractionResult,
    ExtractOptions,
    Failure,
    Outcome,
    Page,
    PageFailure,
    SourceItem,
)
from .pipeline import Pipeline
from .plugins import Plugins, load_plugins
from .processing import extract, local_document, process_document

try:
    __version__: str = _metadata.version("extractkit")
except _metadata.PackageNotFoundError:  # a source tree that was never installed
    __version__ = "0+unknown"

__all__ = [
    "Attempt",
    "ConfigError",
    "Document",
    "DocumentError",
    "ExtractOptions",
    "ExtractionResult",
    "ExtractkitError",
    "Extractor",
    "Failure",
    "Outcome",
    "Page",
    "PageFailure",
    "PermanentError",
    "Pipeline",
    "PluginError",
    "Plugins",
    "Sink",
    "Source",
    "SourceItem",
    "TransientError",
    "__version__",
    "extract",
    "hookimpl",
    "load_plugins",
    "local_document",
    "process_document",
]
