"""The query behind ``extractkit search`` for the OpenSearch sink, and reading its answer into hits.

A ``simple_query_string`` with AND as the default operator, so ``"quoted phrases"``, ``+``,
``-`` and ``|`` work as users expect, over ``content``, ``title`` and ``name``. The snippet is the
best fragment of ``content`` with matches in [brackets], as the local index shows them; the page
is the lowest-numbered page that matches the whole query on its own, when pages are indexed.
"""

from __future__ import annotations

from typing import Any, Mapping

from extractkit.models import SearchHit

SEARCH_FIELDS = ("content", "title^2", "name^2")
FRAGMENT_CHARS = 120


def _query_string(query: str, fields: list[str]) -> dict[str, Any]:
    return {"simple_query_string": {"query": query, "fields": fields, "default_operator": "and"}}


def search_body(query: str, limit: int) -> dict[str, Any]:
    """The ``_search`` body for a user's query."""
    return {
        "size": max(1, limit),
        "_source": ["uri", "name"],
        "query": {
            "bool": {
                "must": [_query_string(query, list(SEARCH_FIELDS))],
                "should": [
                    {
                        "nested": {
                            "path": "pages",
                            "query": _query_string(query, ["pages.text"]),
                            "score_mode": "max",
                            "ignore_unmapped": True,
                            "inner_hits": {
                                "name": "first_page",
                                "size": 1,
                                "sort": [{"pages.number": {"order": "asc"}}],
                                "_source": ["pages.number"],
                            },
                        }
                    }
                ],
            }
        },
        "highlight": {
            "pre_tags": ["["],
            "post_tags": ["]"],
            "fields": {
                "content": {
                    "fragment_size": FRAGMENT_CHARS,
                    "number_of_fragments": 1,
                    "no_match_size": FRAGMENT_CHARS,
                }
            },
        },
    }


def _first_page(hit: Mapping[str, Any]) -> int | None:
    inner = ((hit.get("inner_hits") or {}).get("first_page") or {}).get("hits") or {}
    for page_hit in inner.get("hits") or ():
        number = (page_hit.get("_source") or {}).get("number")
        if isinstance(number, int):
            return number
    return None


def hits_from_answer(answer: Mapping[str, Any]) -> list[SearchHit]:
    """The :class:`SearchHit` list for a ``_search`` answer, best first."""
    hits = []
    for hit in (answer.get("hits") or {}).get("hits") or ():
        source = hit.get("_source") or {}
        fragments = (hit.get("highlight") or {}).get("content") or [""]
        hits.append(
            SearchHit(
                id=str(hit.get("_id", "")),
                uri=str(source.get("uri", "")),
                name=str(source.get("name", "")),
                snippet=" ".join(fragments[0].split()),
                score=float(hit.get("_score") or 0.0),
                page=_first_page(hit),
            )
        )
    return hits
