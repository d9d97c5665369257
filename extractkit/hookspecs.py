"""Hook specifications: the only points where plugins plug into extractkit.

Every spec is documented here and in ``docs/plugins.md``; a test checks both.
Specs grow by gaining arguments, never by changing existing ones.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Callable

import pluggy

if TYPE_CHECKING:
    from .models import ExtractOptions

PROJECT_NAME = "extractkit"

#: The callback a ``register_*`` hook receives: call it once per class.
RegisterClass = Callable[[type], None]
#: The callback ``warm_up`` receives: ``register_sample(name, data)``.
RegisterSample = Callable[[str, bytes], None]

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


@hookspec
def register_extractors(register: RegisterClass) -> None:
    """Register extractor classes.

    Call ``register(ExtractorClass)`` once per :class:`~extractkit.interfaces.Extractor`
    subclass. Every plugin's implementation is called; names must be unique
    across plugins. Returns nothing.
    """


@hookspec
def register_sources(register: RegisterClass) -> None:
    """Register source classes.

    Call ``register(SourceClass)`` once per :class:`~extractkit.interfaces.Source`
    subclass; its ``name`` is what ``[source] type`` names in the config. Every
    plugin's implementation is called. Returns nothing.
    """


@hookspec
def register_sinks(register: RegisterClass) -> None:
    """Register sink classes.

    Call ``register(SinkClass)`` once per :class:`~extractkit.interfaces.Sink`
    subclass; its ``name`` is what ``[sink] type`` names in the config. Every
    plugin's implementation is called. Returns nothing.
    """


@hookspec(firstresult=True)
def detect_mime_type(path: Path, name: str) -> str | None:
    """Detect the MIME type of the file at ``path``.

    ``name`` is the original file name, a hint only. firstresult: the first
    plugin (most recently registered first) that returns a string decides;
    return ``None`` to let the next one try. Never raise for a bad file:
    return ``application/octet-stream``.
    """


@hookspec(firstresult=True)
def estimate_pages(path: Path, mime_type: str, options: ExtractOptions) -> int | None:
    """Count the pages of the document at ``path`` cheaply, before it is extracted.

    ``mime_type`` is the detected type; ``options`` are the run's extraction
    options (a PDF's ``pdf_password``, say). Called in the extraction child only
    when a per-page time budget (``seconds_per_page``) is configured; the page
    count, capped at ``max_pages``, extends the document's wall-clock and CPU
    limits. firstresult: the first plugin (most recently registered first) that
    returns an int decides; return ``None`` for a type you do not read or a file
    you cannot open, and leave the error to the extractor. Must be fast: it runs
    inside the document's time budget.
    """


@hookspec
def warm_up(register_sample: Callable[[str, bytes], None], options: ExtractOptions) -> None:
    """Get ready for documents in the process the extraction children are forked from.

    Called once on every plugin in the isolation template process, before any
    child is forked (never for in-process extraction). ``options`` are the run's
    extraction options, for loading only what they will use (the OCR engine's
    models, say); an implementation may leave the argument out. Import the heavy libraries
    the plugin uses on first call, so every child inherits them loaded, and call
    ``register_sample(file_name, data)`` with tiny files of the formats it reads
    (the extension of ``file_name`` is a hint for type detection, as always); each
    sample is then extracted once through detection, selection and extraction, to
    fill the caches every child inherits. Returns nothing. An exception is logged
    with the plugin's name and skips only that plugin; a missing optional library
    should simply register nothing.
    """


@hookspec
def register_ocr_engines(register: RegisterClass) -> None:
    """Register OCR engine classes.

    Call ``register(EngineClass)`` once per engine class; its ``name`` is what
    ``[extract] ocr_engine`` names in the config. An engine class is built with
    the run's ``ExtractOptions`` and has a ``read(image, *, dpi, languages,
    deadline, name)`` method returning an
    :class:`~extractkit_plugins.image.ocr.OcrResult` (see
    ``extractkit_plugins.image.ocr_engines.OcrEngine``). Every plugin's
    implementation is called; names must be unique across plugins. Returns nothing.
    """
