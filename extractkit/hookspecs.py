"""Hook specifications: the only points where plugins plug into extractkit.

Every spec is documented here and in ``docs/plugins.md``; a test checks both.
Specs grow by gaining arguments, never by changing existing ones.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import pluggy

PROJECT_NAME = "extractkit"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


@hookspec
def register_extractors(register: Callable[[type], None]) -> None:
    """Register extractor classes.

    Call ``register(ExtractorClass)`` once per :class:`~extractkit.interfaces.Extractor`
    subclass. Every plugin's implementation is called; names must be unique
    across plugins. Returns nothing.
    """


@hookspec
def register_sources(register: Callable[[type], None]) -> None:
    """Register source classes.

    Call ``register(SourceClass)`` once per :class:`~extractkit.interfaces.Source`
    subclass; its ``name`` is what ``[source] type`` names in the config. Every
    plugin's implementation is called. Returns nothing.
    """


@hookspec
def register_sinks(register: Callable[[type], None]) -> None:
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
