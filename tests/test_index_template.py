"""The OpenSearch index templates: the analysis chosen from ``GET _nodes/plugins``, and the JSON sent.

The kuromoji branch cannot run here (the plugin is not obtainable), so its template is checked
as the JSON the sink would send; the ``cjk`` and ``standard`` templates are also put to the real
node, which must accept them and analyse Japanese as expected.
"""

from __future__ import annotations

import copy
import json
import uuid

import pytest

from extractkit_plugins.opensearch import index_template
from extractkit_plugins.opensearch.index_template import (
    SEARCH_ANALYZER,
    TEXT_ANALYZER,
    analysis_for_nodes,
    build_templates,
    installed_template_meta,
    templates_to_install,
)

from support.services import opensearch_request, require_services

# Recorded from the 2.19.6 test node that scripts/services.sh starts (trimmed to the fields read).
NODES_PLUGINS_TEST_NODE = {
    "_nodes": {"total": 1, "successful": 1, "failed": 0},
    "cluster_name": "extractkit-test",
    "nodes": {
        "_RTkPk9VTYm8kOPz4o6B2Q": {
            "name": "extractkit-test",
            "version": "2.19.6",
            "plugins": [],
            "modules": [
                {
                    "name": "analysis-common",
                    "version": "2.19.6",
                    "classname": "org.opensearch.analysis.common.CommonAnalysisPlugin",
                },
                {"name": "transport-netty4", "version": "2.19.6", "classname": "org.opensearch.transport.Netty4Plugin"},
            ],
        }
    },
}


def _with_plugins(answer: dict, *names: str, node: str | None = None) -> dict:
    changed = copy.deepcopy(answer)
    for node_id, info in changed["nodes"].items():
        if node is None or node_id == node:
            info["plugins"].extend({"name": name, "version": "2.19.6"} for name in names)
    return changed


def _without_modules(answer: dict) -> dict:
    changed = copy.deepcopy(answer)
    for info in changed["nodes"].values():
        info["modules"] = [m for m in info["modules"] if m["name"] != "analysis-common"]
    return changed


def test_the_test_node_gets_the_cjk_analysis():
    assert analysis_for_nodes(NODES_PLUGINS_TEST_NODE) == "cjk"


def test_kuromoji_needs_both_kuromoji_and_icu():
    assert analysis_for_nodes(_with_plugins(NODES_PLUGINS_TEST_NODE, "analysis-kuromoji", "analysis-icu")) == "kuromoji"
    assert analysis_for_nodes(_with_plugins(NODES_PLUGINS_TEST_NODE, "analysis-kuromoji")) == "cjk"
    assert (
        analysis_for_nodes(
            _with_plugins(NODES_PLUGINS_TEST_NODE, "opensearch-analysis-kuromoji", "opensearch-analysis-icu")
        )
        == "kuromoji"
    )


def test_kuromoji_must_be_on_every_node():
    two_nodes = copy.deepcopy(NODES_PLUGINS_TEST_NODE)
    two_nodes["nodes"]["second"] = copy.deepcopy(two_nodes["nodes"]["_RTkPk9VTYm8kOPz4o6B2Q"])
    only_one = _with_plugins(two_nodes, "analysis-kuromoji", "analysis-icu", node="second")
    assert analysis_for_nodes(only_one) == "cjk"


def test_standard_without_analysis_common_or_nodes():
    assert analysis_for_nodes(_without_modules(NODES_PLUGINS_TEST_NODE)) == "standard"
    assert analysis_for_nodes({"nodes": {}}) == "standard"


# Every name the kuromoji analyzer may use: what the two plugins provide plus core built-ins.
KUROMOJI_PROVIDES = {
    "tokenizer": {"kuromoji_tokenizer"},
    "filter": {"kuromoji_baseform", "kuromoji_part_of_speech", "ja_stop", "kuromoji_stemmer", "kuromoji_readingform"},
    "char_filter": {"icu_normalizer", "kuromoji_iteration_mark"},
}


def test_kuromoji_template_json():
    templates = build_templates("file-index", "file-index-failures", "kuromoji", 1_000_000)
    assert set(templates) == {"extractkit-file-index", "extractkit-file-index-failures"}
    body = templates["extractkit-file-index"]
    assert body["index_patterns"] == ["file-index"]
    json.dumps(body)  # serialisable as sent
    analysis = body["template"]["settings"]["analysis"]
    analyzer = analysis["analyzer"][TEXT_ANALYZER]
    assert analyzer["type"] == "custom"
    tokenizer = analysis["tokenizer"][analyzer["tokenizer"]]
    assert tokenizer["type"] == "kuromoji_tokenizer" and tokenizer["mode"] == "search"
    char_filters = [analysis["char_filter"][name] for name in analyzer["char_filter"]]
    assert char_filters == [{"type": "icu_normalizer", "name": "nfkc_cf", "mode": "compose"}]
    assert set(analyzer["filter"]) <= KUROMOJI_PROVIDES["filter"]
    assert "kuromoji_baseform" in analyzer["filter"]
    assert analysis["analyzer"][SEARCH_ANALYZER] == analyzer
    for block in ("tokenizer", "char_filter", "filter"):
        for definition in analysis.get(block, {}).values():
            assert definition["type"] in KUROMOJI_PROVIDES[block]
    mappings = body["template"]["mappings"]
    for field in ("content", "name", "title", "author"):
        assert mappings["properties"][field]["analyzer"] == TEXT_ANALYZER
        assert mappings["properties"][field]["search_analyzer"] == SEARCH_ANALYZER
    assert mappings["properties"]["pages"]["properties"]["text"]["analyzer"] == TEXT_ANALYZER
    failures = templates["extractkit-file-index-failures"]
    assert failures["index_patterns"] == ["file-index-failures"]
    assert failures["template"]["settings"]["analysis"] == analysis


@pytest.mark.parametrize("analysis", ["kuromoji", "cjk", "standard"])
def test_content_has_no_keyword_subfield_and_highlights_from_offsets(analysis):
    body = build_templates("file-index", "file-index-failures", analysis, 3_000_000)["extractkit-file-index"]
    content = body["template"]["mappings"]["properties"]["content"]
    assert "fields" not in content
    assert content["index_options"] == "offsets"
    assert body["template"]["settings"]["index"]["highlight"]["max_analyzed_offset"] > 3_000_000
    fields = set(body["template"]["mappings"]["properties"])
    expected = {"name", "key", "bucket", "extension", "mime_type", "size", "etag", "last_modified", "content"}
    expected |= {"pages", "page_count", "languages", "title", "author", "extractor", "extracted_at"}
    expected |= {"processing_time", "content_truncated", "status", "parent_id", "path"}
    assert expected <= fields


def test_failure_fields():
    body = build_templates("file-index", "file-index-failures", "cjk", 1000)["extractkit-file-index-failures"]
    fields = set(body["template"]["mappings"]["properties"])
    assert {"uri", "bucket", "key", "stage", "plugin", "class", "reason", "message", "attempts"} <= fields
    assert {"mime_type", "failed_at", "status"} <= fields


def test_unknown_analysis_is_refused():
    with pytest.raises(ValueError, match="unknown analysis"):
        index_template.analysis_settings("icu")


def test_installed_templates_are_only_replaced_when_they_differ():
    wanted = build_templates("file-index", "file-index-failures", "cjk", 1000)
    same = {name: body["_meta"] for name, body in wanted.items()}
    assert list(templates_to_install(wanted, same)) == []
    other = {**same, "extractkit-file-index": {**same["extractkit-file-index"], "analysis": "standard"}}
    assert list(templates_to_install(wanted, other)) == ["extractkit-file-index"]
    assert sorted(templates_to_install(wanted, {})) == sorted(wanted)
    answer = {"index_templates": [{"name": "extractkit-file-index", "index_template": {"_meta": {"a": 1}}}]}
    assert installed_template_meta(answer, "extractkit-file-index") == {"a": 1}
    assert installed_template_meta({"error": "not found", "status": 404}, "extractkit-file-index") is None


def _analyse(endpoint: str, index: str, analyzer: str, text: str) -> list[str]:
    answer = opensearch_request(endpoint, "POST", f"/{index}/_analyze", {"analyzer": analyzer, "text": text})
    return [token["token"] for token in answer["tokens"]]


@pytest.mark.parametrize(
    ("analysis", "indexed", "searched"),
    [
        ("cjk", ["東", "東京", "京", "京都", "都", "都庁", "庁", "meeting"], ["東京", "京都", "都庁", "meeting"]),
        ("standard", ["東", "京", "都", "庁", "the", "meeting"], ["東", "京", "都", "庁", "the", "meeting"]),
    ],
)
def test_real_node_accepts_the_template_and_analyses_japanese(analysis, indexed, searched):
    endpoint = require_services().opensearch_endpoint
    index = f"test-template-{analysis}-{uuid.uuid4().hex[:8]}"
    templates = build_templates(index, f"{index}-failures", analysis, 1_000_000)
    try:
        for name, body in templates.items():
            opensearch_request(endpoint, "PUT", f"/_index_template/{name}", body)
        opensearch_request(endpoint, "PUT", f"/{index}")
        assert _analyse(endpoint, index, TEXT_ANALYZER, "東京都庁 the Meeting") == indexed
        assert _analyse(endpoint, index, SEARCH_ANALYZER, "東京都庁 the Meeting") == searched
        assert _analyse(endpoint, index, SEARCH_ANALYZER, "猫") == ["猫"]
        if analysis == "cjk":
            assert _analyse(endpoint, index, TEXT_ANALYZER, "ＡＢＣ") == ["abc"]
    finally:
        opensearch_request(endpoint, "DELETE", f"/{index},{index}-failures?ignore_unavailable=true")
        for name in templates:
            opensearch_request(endpoint, "DELETE", f"/_index_template/{name}")
