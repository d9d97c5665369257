"""The index templates the sink installs on first use, with analysis chosen by what the cluster has.

``GET _nodes/plugins`` says which analysis plugins every node carries:

- ``kuromoji``: ``analysis-kuromoji`` and ``analysis-icu`` on every node (every Amazon OpenSearch
  Service domain): ICU NFKC case-folding as a char filter, the kuromoji tokenizer in search mode,
  base forms, part-of-speech and stop-word removal, and the katakana stemmer;
- ``cjk``: the ``analysis-common`` module (the built-in ``cjk`` analyzer: width folding,
  lowercase, bigrams of CJK characters, English stop words; the index side adds unigrams so
  one-character queries match);
- ``standard``: neither (one token per CJK character, so Japanese still matches, less precisely).

``content`` has no keyword sub-field (Lucene refuses terms over 32,766 bytes) and is indexed with
offsets, so highlighting never re-analyses the text and ``index.highlight.max_analyzed_offset``
does not bound it; the setting is raised above ``max_content_chars`` anyway for other highlighters.
Unknown fields are kept in ``_source`` but not indexed (``dynamic: false``), so arbitrary metadata
can neither explode nor conflict with the mapping; ``metadata`` is stored, not indexed.

A template is (re)installed when missing or when its ``_meta.extractkit_template`` differs; an
existing index keeps the mapping it was created with.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping

TEMPLATE_VERSION = 1
ANALYSIS_CHOICES = ("auto", "kuromoji", "cjk", "standard")
KUROMOJI_PLUGINS = ("analysis-kuromoji", "analysis-icu")
CJK_MODULE = "analysis-common"
TEXT_ANALYZER = "extractkit_text"
SEARCH_ANALYZER = "extractkit_text_search"
DEFAULT_HIGHLIGHT_OFFSET = 1_000_000
TEMPLATE_PRIORITY = 200


def _installed_names(node: Mapping[str, Any]) -> set[str]:
    names: set[str] = set()
    for key in ("plugins", "modules"):
        for entry in node.get(key) or ():
            name = str(entry.get("name", "")).lower()
            names.add(name)
            # Some distributions prefix the names (opensearch-analysis-icu).
            names.add(name.removeprefix("opensearch-"))
    return names


def analysis_for_nodes(nodes_plugins: Mapping[str, Any]) -> str:
    """``kuromoji``, ``cjk`` or ``standard``: the best analysis every node of ``GET _nodes/plugins`` supports."""
    nodes = list((nodes_plugins.get("nodes") or {}).values())
    if not nodes:
        return "standard"
    common = set.intersection(*(_installed_names(node) for node in nodes))
    if all(plugin in common for plugin in KUROMOJI_PLUGINS):
        return "kuromoji"
    if CJK_MODULE in common:
        return "cjk"
    return "standard"


def analysis_settings(analysis: str) -> dict[str, Any]:
    """The ``index.analysis`` block defining :data:`TEXT_ANALYZER` (index side) and :data:`SEARCH_ANALYZER`."""
    if analysis == "kuromoji":
        settings: dict[str, Any] = {
            "char_filter": {"extractkit_nfkc_cf": {"type": "icu_normalizer", "name": "nfkc_cf", "mode": "compose"}},
            "tokenizer": {
                "extractkit_kuromoji": {"type": "kuromoji_tokenizer", "mode": "search", "discard_compound_token": True}
            },
            "analyzer": {
                TEXT_ANALYZER: {
                    "type": "custom",
                    "char_filter": ["extractkit_nfkc_cf"],
                    "tokenizer": "extractkit_kuromoji",
                    "filter": ["kuromoji_baseform", "kuromoji_part_of_speech", "ja_stop", "kuromoji_stemmer"],
                }
            },
        }
        settings["analyzer"][SEARCH_ANALYZER] = settings["analyzer"][TEXT_ANALYZER]
        return settings
    if analysis == "cjk":
        # The built-in cjk analyzer, spelt out so the index side can keep unigrams as well: a query
        # of one character (猫) then finds it, while longer queries still match bigrams only.
        chain = ["cjk_width", "lowercase"]
        return {
            "filter": {
                "extractkit_cjk_bigram_and_unigram": {"type": "cjk_bigram", "output_unigrams": True},
                "extractkit_english_stop": {"type": "stop", "stopwords": "_english_"},
            },
            "analyzer": {
                TEXT_ANALYZER: {
                    "type": "custom",
                    "tokenizer": "standard",
                    "filter": [*chain, "extractkit_cjk_bigram_and_unigram", "extractkit_english_stop"],
                },
                SEARCH_ANALYZER: {
                    "type": "custom",
                    "tokenizer": "standard",
                    "filter": [*chain, "cjk_bigram", "extractkit_english_stop"],
                },
            },
        }
    if analysis == "standard":
        return {"analyzer": {TEXT_ANALYZER: {"type": "standard"}, SEARCH_ANALYZER: {"type": "standard"}}}
    raise ValueError(f"unknown analysis {analysis!r} (expected one of {', '.join(ANALYSIS_CHOICES[1:])})")


def _text(**extra: Any) -> dict[str, Any]:
    return {"type": "text", "analyzer": TEXT_ANALYZER, "search_analyzer": SEARCH_ANALYZER, **extra}


def _text_with_keyword(ignore_above: int = 512) -> dict[str, Any]:
    return _text(fields={"keyword": {"type": "keyword", "ignore_above": ignore_above}})


KEYWORD = {"type": "keyword", "ignore_above": 1024}
DATE = {"type": "date", "format": "strict_date_optional_time||epoch_millis"}

#: Where an embedded document (a mail attachment, an archive member) sits: its parent's and root's ids.
EMBEDDING_PROPERTIES: dict[str, Any] = {"parent_id": KEYWORD, "root_id": KEYWORD, "path": KEYWORD}

#: The fields both indices share, about the file itself.
FILE_PROPERTIES: dict[str, Any] = {
    "uri": KEYWORD,
    "name": _text_with_keyword(1024),
    "bucket": KEYWORD,
    "key": {"type": "keyword", "ignore_above": 2048},
    "extension": KEYWORD,
    "mime_type": KEYWORD,
    "status": KEYWORD,
    **EMBEDDING_PROPERTIES,
}


def document_mappings() -> dict[str, Any]:
    """The mapping of ``<index>``: file fields, text and pages, extraction metadata."""
    return {
        "dynamic": False,
        "_meta": {"extractkit_template": TEMPLATE_VERSION},
        "properties": {
            **FILE_PROPERTIES,
            "size": {"type": "long"},
            "etag": KEYWORD,
            "version_id": KEYWORD,
            "last_modified": DATE,
            "content": _text(index_options="offsets"),
            "content_truncated": {"type": "boolean"},
            "pages": {
                "type": "nested",
                "properties": {
                    "number": {"type": "integer"},
                    "text": _text(index_options="offsets"),
                    "ocr": {"type": "boolean"},
                    "confidence": {"type": "float"},
                    "engine": KEYWORD,
                    "low_confidence": {"type": "boolean"},
                    "failure": {"properties": {"reason": KEYWORD, "message": {"type": "text"}}},
                },
            },
            "warnings": {"type": "text"},
            "page_count": {"type": "integer"},
            "ocr_page_count": {"type": "integer"},
            "languages": KEYWORD,
            "title": _text_with_keyword(),
            "author": _text_with_keyword(),
            "created": DATE,
            "modified": DATE,
            "extractor": KEYWORD,
            "extracted_at": DATE,
            "processing_time": {"type": "float"},
            "metadata": {"type": "object", "enabled": False},
        },
    }


def failure_mappings() -> dict[str, Any]:
    """The mapping of ``<index>-failures``: what failed, where, why, and how often it was tried."""
    return {
        "dynamic": False,
        "_meta": {"extractkit_template": TEMPLATE_VERSION},
        "properties": {
            **FILE_PROPERTIES,
            "stage": KEYWORD,
            "plugin": KEYWORD,
            "class": KEYWORD,
            "reason": KEYWORD,
            "message": _text(),
            "attempts": {
                "properties": {"plugin": KEYWORD, "reason": KEYWORD, "message": {"type": "text", "index": False}}
            },
            "attempt_count": {"type": "integer"},
            "failed_at": DATE,
        },
    }


def index_settings(analysis: str, max_content_chars: int) -> dict[str, Any]:
    """Index settings: the analysis chosen and a highlighting bound above the content cap."""
    return {
        "index": {
            "highlight": {"max_analyzed_offset": max(DEFAULT_HIGHLIGHT_OFFSET, max_content_chars + 1)},
            "mapping": {"nested_objects": {"limit": 20_000}},
        },
        "analysis": analysis_settings(analysis),
    }


def template_name(index: str) -> str:
    """The name of the template that shapes ``index``."""
    return f"extractkit-{index}"


def build_templates(index: str, failures_index: str, analysis: str, max_content_chars: int) -> dict[str, dict]:
    """The composable templates to PUT, by template name: one for the documents, one for the failures."""
    settings = index_settings(analysis, max_content_chars)
    meta = {"extractkit_template": TEMPLATE_VERSION, "analysis": analysis}
    return {
        template_name(index): {
            "index_patterns": [index],
            "priority": TEMPLATE_PRIORITY,
            "template": {"settings": settings, "mappings": document_mappings()},
            "_meta": meta,
        },
        template_name(failures_index): {
            "index_patterns": [failures_index],
            "priority": TEMPLATE_PRIORITY,
            "template": {"settings": settings, "mappings": failure_mappings()},
            "_meta": meta,
        },
    }


def installed_template_meta(answer: Mapping[str, Any], name: str) -> Mapping[str, Any] | None:
    """The ``_meta`` of template ``name`` in a ``GET _index_template/<name>`` answer (``None`` if absent)."""
    for entry in answer.get("index_templates") or ():
        if entry.get("name") == name:
            return (entry.get("index_template") or {}).get("_meta") or {}
    return None


def templates_to_install(
    wanted: Mapping[str, Mapping[str, Any]], installed: Mapping[str, Mapping[str, Any] | None]
) -> Iterable[str]:
    """Names of the wanted templates that are missing or differ in version or analysis from what is installed."""
    for name, body in wanted.items():
        meta = installed.get(name)
        if meta is None or dict(meta) != dict(body["_meta"]):
            yield name
