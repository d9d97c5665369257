"""Extractor registrations made up for the ranking tests: a name, MIME types, a priority and an origin."""

from __future__ import annotations

from extractkit import ExtractionResult, Extractor
from extractkit.plugins import BUILTIN, Registration


def registration(name: str, mime_types: tuple[str, ...], priority: int = 100, origin: str = BUILTIN):
    """``(name, Registration)`` of a made-up extractor class handling ``mime_types``."""
    cls = type(
        name,
        (Extractor,),
        {
            "name": name,
            "mime_types": mime_types,
            "priority": priority,
            "extract": lambda self, d: ExtractionResult(text=""),
        },
    )
    return name, Registration(name, cls, f"plugin-{name}", origin, "1")
