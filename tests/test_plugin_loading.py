"""Loading plugins the way authors do: by module name from their own tree, by relative path, twice, broken."""

from __future__ import annotations

import json
import logging
import os
import shutil
import sys

import pytest

from extractkit.errors import PluginError
from extractkit.plugins import Plugins, PluginSpec
from extractkit.testing import check_plugin_module

from support.cli import run_cli
from support.paths import REPO, TEST_PLUGINS

NOTE_PLUGIN = '''
"""A note extractor shipped as a package, the way authors lay out their source tree."""
from extractkit import ExtractionResult, Extractor, Page, hookimpl

__version__ = "0.1"


class NoteExtractor(Extractor):
    name = "note"
    mime_types = ("text/x-note",)

    def extract(self, document):
        text = document.path.read_text(encoding="utf-8")
        return ExtractionResult(text=text, pages=(Page(1, text),))


@hookimpl
def detect_mime_type(path, name):
    return "text/x-note" if name.endswith(".note") else None


@hookimpl
def register_extractors(register):
    register(NoteExtractor)
'''


@pytest.fixture
def source_tree(tmp_path, monkeypatch):
    """extractkit-note/ with the package extractkit_note/ inside: the author's checkout."""
    monkeypatch.delitem(sys.modules, "extractkit_note", raising=False)
    tree = tmp_path / "extractkit-note"
    (tree / "extractkit_note").mkdir(parents=True)
    (tree / "extractkit_note" / "__init__.py").write_text(NOTE_PLUGIN, encoding="utf-8")
    (tree / "letter.note").write_text("Dear reader", encoding="utf-8")
    return tree


def test_a_module_name_is_imported_even_beside_a_folder_of_that_name(source_tree, monkeypatch):
    monkeypatch.chdir(source_tree)
    monkeypatch.syspath_prepend(str(source_tree))
    loaded = check_plugin_module("extractkit_note")
    assert set(loaded.extractors) == {"note"}
    completed = run_cli(
        "extract", "letter.note", "--plugin", "extractkit_note", cwd=source_tree, env={"PYTHONPATH": str(REPO)}
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == "Dear reader"


def test_a_package_folder_path_loads_too(source_tree):
    loaded = Plugins(PluginSpec(entry_points=False, extra=(str(source_tree / "extractkit_note"),)))
    assert "note" in loaded.extractors


def test_relative_plugin_paths_work_in_isolated_workers(tmp_path):
    work = tmp_path / "here"
    work.mkdir()
    shutil.copy(TEST_PLUGINS / "dict_result.py", work / "localplug.py")
    (work / "docs").mkdir()
    (work / "docs" / "a.txt").write_text("plain text", encoding="utf-8")
    config = work / "worker.toml"
    config.write_text(
        '[source]\npath = "docs"\n[sink]\ntype = "jsonl"\npath = "out.jsonl"\n[plugins]\nload = ["localplug.py"]\n'
        '[worker]\ntemp_dir = "tmp"\nisolation = true\nmax_workers = 1\n',
        encoding="utf-8",
    )
    env = {"PYTHONPATH": str(REPO)}
    by_config = run_cli("run", "--config", str(config), cwd=work, env=env)
    assert by_config.returncode == 0, by_config.stderr
    assert "1 documents (1 indexed, 0 failed)" in by_config.stderr
    by_option = run_cli("run", "--config", str(config), "--plugin", "./localplug.py", "--force", cwd=work, env=env)
    assert by_option.returncode == 0, by_option.stderr
    spec = PluginSpec(extra=("localplug.py", "some.module"))
    assert spec.extra[0] == os.path.join(os.getcwd(), "localplug.py") and spec.extra[1] == "some.module"


def test_loading_the_same_plugin_twice_is_a_no_op_with_a_note(source_tree, monkeypatch, caplog):
    monkeypatch.syspath_prepend(str(source_tree))
    with caplog.at_level(logging.WARNING, logger="extractkit.plugins"):
        loaded = Plugins(PluginSpec(entry_points=False, extra=("extractkit_note", "extractkit_note")))
        again = Plugins(
            PluginSpec(entry_points=False, extra=("extractkit_note", str(source_tree / "extractkit_note/__init__.py")))
        )
    assert set(loaded.extractors) >= {"note"} and set(again.extractors) >= {"note"}
    assert sum("loading it again does nothing" in message for message in caplog.messages) == 2


def test_a_hook_with_a_misnamed_argument_is_a_one_line_plugin_error():
    with pytest.raises(PluginError, match=r"wrong_argname\.py' has an invalid hook") as raised:
        Plugins(PluginSpec(entry_points=False, extra=(str(TEST_PLUGINS / "wrong_argname.py"),)))
    assert "\n" not in str(raised.value)
    completed = run_cli("extract", "x.txt", "--plugin", str(TEST_PLUGINS / "wrong_argname.py"))
    assert completed.returncode == 3, completed.stderr
    assert completed.stderr.count("\n") == 1 and "wrong_argname.py" in completed.stderr
    assert "internal error" not in completed.stderr


def test_an_extractor_returning_a_dict_fails_that_file_only(tmp_path):
    (tmp_path / "a.note").write_text("a note", encoding="utf-8")
    (tmp_path / "b.txt").write_text("plain text", encoding="utf-8")
    plugin = str(TEST_PLUGINS / "dict_result.py")
    completed = run_cli("extract", str(tmp_path), "--format", "json", "--plugin", plugin)
    records = {json.loads(line)["name"]: json.loads(line) for line in completed.stdout.splitlines()}
    assert completed.returncode == 18, completed.stderr
    assert records["b.txt"]["type"] == "result"
    assert records["a.note"]["reason"] == "crashed" and records["a.note"]["plugin"] == "dict-note"
    assert "returned dict, not an ExtractionResult" in records["a.note"]["message"]
    config = tmp_path / "worker.toml"
    config.write_text(
        f'[source]\npath = "{tmp_path}"\ninclude = ["*.note", "*.txt"]\n[sink]\ntype = "jsonl"\n'
        f'path = "{tmp_path / "out.jsonl"}"\n[worker]\ntemp_dir = "{tmp_path / "w"}"\nisolation = true\n',
        encoding="utf-8",
    )
    isolated = run_cli("run", "--config", str(config), "--plugin", plugin)
    assert isolated.returncode == 0, isolated.stderr
    lines = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    failure = next(line for line in lines if line["type"] == "failure")
    assert (failure["reason"], failure["plugin"]) == ("crashed", "dict-note")


def test_an_empty_mime_types_is_refused_when_the_plugin_loads():
    completed = run_cli("extract", "x.txt", "--plugin", str(TEST_PLUGINS / "empty_mime_types.py"))
    assert completed.returncode == 3 and "has no mime_types" in completed.stderr


def test_disabling_type_detection_leaves_a_third_party_detector_in_charge(tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("EXTRACTKIT_DISABLE_PLUGINS", "type_detection,no_such_plugin")
    with caplog.at_level(logging.WARNING, logger="extractkit.plugins"):
        loaded = Plugins(PluginSpec(entry_points=False, extra=(str(TEST_PLUGINS / "detect_only.py"),)))
    assert any("'no_such_plugin', which is no installed plugin" in message for message in caplog.messages)
    assert not any("type_detection" in message for message in caplog.messages)
    (tmp_path / "a.note").write_text("x")
    (tmp_path / "a.bin").write_bytes(b"\x00")
    assert loaded.detect_mime_type(tmp_path / "a.note", "a.note") == "text/plain"
    assert loaded.detect_mime_type(tmp_path / "a.bin", "a.bin") == "application/octet-stream"
    alone = Plugins(PluginSpec(entry_points=False))
    with pytest.raises(PluginError, match="disabled by EXTRACTKIT_DISABLE_PLUGINS"):
        alone.detect_mime_type(tmp_path / "a.bin", "a.bin")


def test_plugins_lists_the_others_when_one_installed_plugin_is_broken(tmp_path):
    site = tmp_path / "site"
    dist = site / "extractkit_broken-1.0.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: extractkit-broken\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[extractkit]\nbroken = extractkit_broken\n")
    (site / "extractkit_broken.py").write_text("raise ImportError('needs libfoo 2')\n")
    env = {"PYTHONPATH": os.pathsep.join([str(site), str(REPO)])}
    completed = run_cli("plugins", env=env)
    assert completed.returncode == 3
    assert "extractkit_plugins.text.text_extractor" in completed.stdout and "extractor text from" in completed.stdout
    assert "broken BROKEN" in completed.stdout
    assert "plugin 'broken' (extractkit_broken) failed to import: needs libfoo 2" in completed.stderr
    as_json = json.loads(run_cli("plugins", "--format", "json", env=env).stdout)
    assert as_json["broken"][0]["name"] == "broken" and "text" in as_json["extractors"]
    assert run_cli("extract", str(REPO / "README.md"), env=env).returncode == 3  # other commands still refuse


def test_pickled_spec_keeps_absolute_paths_in_another_directory(tmp_path, monkeypatch):
    import pickle

    spec = PluginSpec(extra=("tests/plugins/shadow_text.py",))
    monkeypatch.chdir(tmp_path)
    rebuilt = pickle.loads(pickle.dumps(spec))
    assert rebuilt.extra == spec.extra and os.path.isabs(rebuilt.extra[0])
