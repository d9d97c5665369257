"""The plugin manager: load order, blocking and allowing, loud failures, selection by origin."""

from __future__ import annotations

import pytest

from extractkit.errors import PluginError
from extractkit.plugins import BUILTIN, BUILTIN_PLUGINS, EXPLICIT, Plugins, PluginSpec
from extractkit.processing import extract
from extractkit.selection import rank_extractors

from support.paths import TEST_PLUGINS


def test_builtins_load_in_declared_order(plugins):
    names = [info.name for info in plugins.info()]
    assert names == list(BUILTIN_PLUGINS)
    assert all(info.origin == BUILTIN and info.version for info in plugins.info())


def test_builtin_extractors_sources_and_sinks_are_registered(plugins):
    assert {"text"} <= set(plugins.extractors)
    assert {"folder"} <= set(plugins.sources)
    assert {"jsonl", "local_index"} <= set(plugins.sinks)
    assert plugins.extractors["text"].plugin == "extractkit_plugins.text.text_extractor"


def test_misspelt_hook_fails_loudly():
    with pytest.raises(PluginError, match="matches no spec"):
        Plugins(PluginSpec(entry_points=False, extra=(str(TEST_PLUGINS / "misspelt_hook.py"),)))


def test_duplicate_extractor_name_is_refused():
    with pytest.raises(PluginError, match="registered by both"):
        Plugins(PluginSpec(entry_points=False, extra=(str(TEST_PLUGINS / "duplicate_name.py"),)))


def test_missing_plugin_file_is_a_plugin_error():
    with pytest.raises(PluginError, match="does not exist"):
        Plugins(PluginSpec(entry_points=False, extra=("/nonexistent/plugin.py",)))


def test_unimportable_module_is_a_plugin_error():
    with pytest.raises(PluginError, match="failed to import"):
        Plugins(PluginSpec(entry_points=False, extra=("no_such_module_anywhere",)))


def test_explicit_plugin_beats_builtin_at_equal_priority(tmp_path):
    loaded = Plugins(PluginSpec(entry_points=False, extra=(str(TEST_PLUGINS / "shadow_text.py"),)))
    assert loaded.extractors["shouting-text"].origin == EXPLICIT
    ranked = rank_extractors(loaded.extractors, "text/plain")
    assert [r.name for r in ranked[:2]] == ["shouting-text", "text"]
    sample = tmp_path / "hello.txt"
    sample.write_text("quiet words\n", encoding="utf-8")
    result = extract(sample, plugins=loaded)
    assert result.text == "QUIET WORDS"
    assert result.extractor == "shouting-text"


def test_disable_env_blocks_a_builtin(monkeypatch):
    monkeypatch.setenv("EXTRACTKIT_DISABLE_PLUGINS", "text_extractor")
    loaded = Plugins(PluginSpec(entry_points=False))
    assert "text" not in loaded.extractors
    assert "extractkit_plugins.text.text_extractor" not in [info.name for info in loaded.info()]


def test_detect_mime_type_without_detector_is_a_named_error(tmp_path):
    loaded = Plugins(PluginSpec(builtins=False, entry_points=False, extra=(str(TEST_PLUGINS / "shadow_text.py"),)))
    sample = tmp_path / "a.txt"
    sample.write_text("x")
    with pytest.raises(PluginError, match="no plugin detects MIME types"):
        loaded.detect_mime_type(sample, "a.txt")


def test_plugin_spec_rebuilds_the_same_set_after_pickling():
    import pickle

    spec = PluginSpec(entry_points=False, extra=(str(TEST_PLUGINS / "shadow_text.py"),))
    rebuilt = Plugins(pickle.loads(pickle.dumps(spec)))
    assert set(rebuilt.extractors) == set(Plugins(spec).extractors)


THIRD_PARTY_PLUGIN = """
from extractkit import Sink, Source, hookimpl


class NullSource(Source):
    name = "null"
    def items(self):
        return iter(())
    def fetch(self, item, workdir):
        raise AssertionError


class NullSink(Sink):
    name = "null"
    def write(self, document, result):
        pass
    def write_failure(self, failure):
        pass


@hookimpl
def register_sources(register):
    register(NullSource)


@hookimpl
def register_sinks(register):
    register(NullSink)


@hookimpl
def detect_mime_type(path, name):
    if name.endswith(".note"):
        return "text/x-note"
    return None
"""


def test_register_sources_register_sinks_and_detect_mime_type_hooks(tmp_path):
    module = tmp_path / "third_party.py"
    module.write_text(THIRD_PARTY_PLUGIN, encoding="utf-8")
    loaded = Plugins(PluginSpec(entry_points=False, extra=(str(module),)))
    assert loaded.sources["null"].origin == EXPLICIT
    assert loaded.sinks["null"].plugin == str(module)
    assert loaded.make_source("null", {}).name == "null"
    note = tmp_path / "a.note"
    note.write_text("hello")
    plain = tmp_path / "a.txt"
    plain.write_text("hello")
    assert loaded.detect_mime_type(note, note.name) == "text/x-note"  # firstresult: the plugin answers first
    assert loaded.detect_mime_type(plain, plain.name) == "text/plain"  # None: the builtin detector decides
    hooks = {info.name: info.hooks for info in loaded.info()}
    assert hooks[str(module)] == ("detect_mime_type", "register_sinks", "register_sources")


def test_a_register_hook_implemented_as_a_wrapper_is_a_plugin_error():
    from extractkit.errors import PluginError

    with pytest.raises(PluginError, match="wrapper"):
        Plugins(PluginSpec(entry_points=False, extra=(str(TEST_PLUGINS / "wrapper_register.py"),)))


def test_disabled_builtins_are_blocked_in_pluggy():
    loaded = Plugins(PluginSpec(entry_points=False, disabled=("text_extractor",)))
    assert loaded.pm.is_blocked("extractkit_plugins.text.text_extractor")
    assert "text" not in loaded.extractors
