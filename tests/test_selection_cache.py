"""Kept rankings: the same table and options give the same answer, and any change to the table is seen."""

from __future__ import annotations

from extractkit.plugins import ENTRY_POINT
from extractkit.selection import rank_extractors

from support.registrations import registration


def _names(table, mime_type="application/pdf", **options):
    return [entry.name for entry in rank_extractors(table, mime_type, **options)]


def test_a_kept_ranking_is_not_changed_by_what_the_caller_does_with_it():
    table = dict([registration("fast", ("application/pdf",), 10), registration("layout", ("application/pdf",), 90)])
    first = rank_extractors(table, "application/pdf")
    first.clear()
    assert _names(table) == ["fast", "layout"]


def test_a_registration_added_or_removed_later_is_ranked():
    table = dict([registration("fast", ("application/pdf",), 10)])
    assert _names(table) == ["fast"]
    table.update([registration("third", ("application/pdf",), 5, ENTRY_POINT)])
    assert _names(table) == ["third", "fast"]
    del table["third"]
    assert _names(table) == ["fast"]


def test_a_replaced_registration_and_a_changed_priority_are_seen():
    table = dict([registration("fast", ("application/pdf",), 10), registration("layout", ("application/pdf",), 90)])
    assert _names(table) == ["fast", "layout"]
    table["layout"].cls.priority = 1
    assert _names(table) == ["layout", "fast"]
    table["fast"] = registration("fast", ("image/png",), 0)[1]
    assert _names(table) == ["layout"]


def test_options_and_mime_types_are_kept_apart():
    table = dict([registration("fast", ("application/pdf",), 10), registration("layout", ("application/*",), 90)])
    assert _names(table) == ["fast", "layout"]
    assert _names(table, preferred=["layout"]) == ["layout", "fast"]
    assert _names(table, disabled=["fast"]) == ["layout"]
    assert _names(table, "application/zip") == ["layout"]
    assert _names(table, "Application/PDF; charset=binary") == ["fast", "layout"]
