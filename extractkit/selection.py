"""Choosing extractors for a MIME type.

Candidates are ranked by how well their MIME pattern matches (exact, then
``type/*``, then ``*/*``), then by priority (lower first), then by origin (a
third-party plugin before a builtin). Config can prefer or disable names.
"""

from __future__ import annotations

from typing import Iterable, Mapping

from .plugins import BUILTIN, Registration

NO_MATCH = 99


def normalise_mime(mime_type: str) -> str:
    """Lower-case a MIME type and drop its parameters (``; charset=...``)."""
    return mime_type.split(";", 1)[0].strip().lower()


def match_level(pattern: str, mime_type: str) -> int:
    """0 for an exact match, 1 for ``type/*``, 2 for ``*/*``, ``NO_MATCH`` otherwise."""
    pattern = normalise_mime(pattern)
    if pattern == mime_type:
        return 0
    if pattern.endswith("/*") and mime_type.split("/", 1)[0] == pattern[:-2]:
        return 1
    if pattern in ("*/*", "*"):
        return 2
    return NO_MATCH


def rank_extractors(
    registrations: Mapping[str, Registration],
    mime_type: str,
    *,
    preferred: Iterable[str] = (),
    disabled: Iterable[str] = (),
) -> list[Registration]:
    """Return the extractors that handle ``mime_type``, best first."""
    mime_type = normalise_mime(mime_type)
    preferred = list(preferred)
    disabled_names = set(disabled)
    ranked = []
    for registration in registrations.values():
        if registration.name in disabled_names:
            continue
        level = min((match_level(p, mime_type) for p in registration.cls.mime_types), default=NO_MATCH)
        if level == NO_MATCH:
            continue
        preference = preferred.index(registration.name) if registration.name in preferred else len(preferred)
        origin_rank = 1 if registration.origin == BUILTIN else 0
        ranked.append(((preference, level, registration.cls.priority, origin_rank, registration.name), registration))
    ranked.sort(key=lambda pair: pair[0])
    return [registration for _, registration in ranked]
