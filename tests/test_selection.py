"""Extractor ranking: exact before wildcard, then priority, then third party before builtin."""

from __future__ import annotations

from extractkit.plugins import ENTRY_POINT
from extractkit.selection import match_level, normalise_mime, rank_extractors

from support.registrations import registration


def test_match_levels():
    assert match_level("text/plain", "text/plain") == 0
    assert match_level("text/*", "text/plain") == 1
    assert match_level("*/*", "text/plain") == 2
    assert match_level("image/*", "text/plain") > 2
    assert normalise_mime("Text/Plain; charset=UTF-8") == "text/plain"


def test_exact_match_beats_wildcard_even_with_worse_priority():
    table = dict(
        [
            registration("any", ("*/*",), priority=0),
            registration("family", ("text/*",), priority=1),
            registration("exact", ("text/plain",), priority=500),
        ]
    )
    assert [r.name for r in rank_extractors(table, "text/plain")] == ["exact", "family", "any"]


def test_priority_then_origin():
    table = dict(
        [
            registration("builtin-a", ("text/plain",), 50),
            registration("third", ("text/plain",), 50, ENTRY_POINT),
            registration("builtin-b", ("text/plain",), 10),
        ]
    )
    assert [r.name for r in rank_extractors(table, "text/plain")] == ["builtin-b", "third", "builtin-a"]


def test_preferred_and_disabled_names():
    table = dict([registration("fast", ("application/pdf",), 10), registration("layout", ("application/pdf",), 90)])
    assert [r.name for r in rank_extractors(table, "application/pdf", preferred=["layout"])] == ["layout", "fast"]
    assert [r.name for r in rank_extractors(table, "application/pdf", disabled=["fast"])] == ["layout"]
    assert rank_extractors(table, "image/png") == []
