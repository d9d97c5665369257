"""Choosing extractors for a MIME type.

Candidates are ranked by how well their MIME pattern matches (exact, then
``type/*``, then ``*/*``), then by priority (lower first), then by origin (a
third-party plugin before a builtin). Config can prefer or disable names.
"""

from __future__ import annotations

import operator
from typing import Any, Iterable, Mapping

from .plugins import BUILTIN, Registration

NO_MATCH = 99
#: Rankings kept (per table, MIME type and options) before the cache starts over.
MAX_CACHED_RANKINGS = 512
#: What a ranking is made from besides the registrations themselves: their classes' MIME types and priorities.
_RANKED_BY = operator.attrgetter("cls.mime_types", "cls.priority")
_RANKINGS: dict[tuple[Any, ...], tuple[tuple[Any, ...], tuple[Registration, ...]]] = {}


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
    """Return the extractors that handle ``mime_type``, best first.

    The ranking is kept per registration table, MIME type and options, and made again whenever the
    table's registrations (or their classes' MIME types and priorities) are not the ones it was made from.
    """
    mime_type = normalise_mime(mime_type)
    preferred = tuple(preferred)
    disabled_names = frozenset(disabled)
    current = tuple(registrations.values())
    snapshot = (current, tuple(map(_RANKED_BY, current)))
    key = (id(registrations), mime_type, preferred, disabled_names)
    cached = _RANKINGS.get(key)
    if cached is not None and cached[0] == snapshot:
        return list(cached[1])
    ranked = _rank(registrations, mime_type, preferred, disabled_names)
    if len(_RANKINGS) >= MAX_CACHED_RANKINGS:
        _RANKINGS.clear()
    _RANKINGS[key] = (snapshot, tuple(ranked))
    return ranked


def _rank(
    registrations: Mapping[str, Registration], mime_type: str, preferred: tuple[str, ...], disabled: frozenset[str]
) -> list[Registration]:
    ranked = []
    for registration in registrations.values():
        if registration.name in disabled:
            continue
        level = min((match_level(p, mime_type) for p in registration.cls.mime_types), default=NO_MATCH)
        if level == NO_MATCH:
            continue
        preference = preferred.index(registration.name) if registration.name in preferred else len(preferred)
        origin_rank = 1 if registration.origin == BUILTIN else 0
        ranked.append(((preference, level, registration.cls.priority, origin_rank, registration.name), registration))
    ranked.sort(key=lambda pair: pair[0])
    return [registration for _, registration in ranked]
