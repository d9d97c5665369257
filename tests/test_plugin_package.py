"""A real third-party plugin package, installed with pip, is found through its entry point."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from extractkit.testing import ConformanceError, check_extractor, check_plugin_module

from support.cli import run_cli
from support.paths import REPO

PACKAGE = REPO / "tests" / "plugin_package"
RTF = r"{\rtf1\ansi{\fonttbl{\f0 Arial;}}\f0 Dear customer,\par your order \u26085?\u26412? has shipped.}"


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """pip-install the sample plugin into its own target folder; return the environment that sees it."""
    target = tmp_path_factory.mktemp("site")
    build = tmp_path_factory.mktemp("build")
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--target",
            str(target),
            str(PACKAGE),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=build,
    )
    assert completed.returncode == 0, completed.stderr
    assert list(target.glob("extractkit_rtf_sample-1.2.3.dist-info"))
    return {"PYTHONPATH": os.pathsep.join([str(target), os.environ.get("PYTHONPATH", "")])}


def test_pip_installed_plugin_is_listed(installed):
    completed = run_cli("plugins", "--format", "json", env=installed)
    assert completed.returncode == 0, completed.stderr
    data = json.loads(completed.stdout)
    rtf = next(p for p in data["plugins"] if p["name"] == "rtf")
    assert rtf == {"name": "rtf", "origin": "entrypoint", "version": "1.2.3", "hooks": ["register_extractors"]}
    assert data["extractors"]["rtf_sample"] == "rtf"


def test_pip_installed_plugin_extracts_with_no_other_change(installed, tmp_path):
    sample = tmp_path / "letter.rtf"
    sample.write_text(RTF, encoding="latin-1")
    completed = run_cli("extract", str(sample), "--format", "json", env=installed)
    assert completed.returncode == 0, completed.stderr
    record = json.loads(completed.stdout)
    assert record["extractor"] == "rtf_sample"  # it beats the builtin at equal priority
    assert record["mime_type"] in ("text/rtf", "application/rtf")
    assert "Dear customer" in record["text"] and "日本" in record["text"]


def test_plugin_can_be_blocked_or_not_allowed(installed, tmp_path):
    sample = tmp_path / "letter.rtf"
    sample.write_text(RTF, encoding="latin-1")
    blocked = run_cli(
        "extract", str(sample), "--format", "json", env={**installed, "EXTRACTKIT_DISABLE_PLUGINS": "rtf"}
    )
    record = json.loads(blocked.stdout)
    assert record["extractor"] == "rtf"  # the builtin RTF extractor
    not_allowed = run_cli("plugins", "--format", "json", env={**installed, "EXTRACTKIT_LOAD_PLUGINS": "other"})
    assert "rtf_sample" not in json.loads(not_allowed.stdout)["extractors"]
    allowed = run_cli("plugins", "--format", "json", env={**installed, "EXTRACTKIT_LOAD_PLUGINS": "rtf"})
    assert "rtf_sample" in json.loads(allowed.stdout)["extractors"]


def test_trace_env_prints_hook_calls(installed):
    completed = run_cli("plugins", env={**installed, "EXTRACTKIT_TRACE_PLUGINS": "1"})
    assert completed.returncode == 0
    assert "register_extractors" in completed.stderr


def test_conformance_kit_passes_the_sample_plugin(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(PACKAGE))
    import extractkit_rtf_sample

    sample = tmp_path / "letter.rtf"
    sample.write_text(RTF, encoding="latin-1")
    loaded = check_plugin_module(extractkit_rtf_sample)
    assert set(loaded.extractors) == {"rtf_sample"}
    check_extractor(extractkit_rtf_sample.RtfExtractor, [sample], expected_text={"letter.rtf": "Dear customer"})


def test_conformance_kit_catches_a_broken_extractor(tmp_path):
    from extractkit import ExtractionResult, Extractor

    class Sloppy(Extractor):
        name = "sloppy"
        mime_types = ("text/plain",)

        def extract(self, document):
            data = document.path.read_bytes()
            if not data.isascii():
                raise ValueError("boom")  # should be a DocumentError
            return ExtractionResult(text=data.decode(), pages=())

    sample = tmp_path / "a.txt"
    sample.write_text("hello")
    with pytest.raises(ConformanceError, match="instead of an extractkit DocumentError"):
        check_extractor(Sloppy, [sample])
    with pytest.raises(ConformanceError, match="does not contain"):
        check_extractor(Sloppy, [sample], expected_text={"a.txt": "goodbye"}, check_bad_input=False)


def test_loading_an_installed_plugin_again_by_name_is_a_no_op_with_a_note(installed):
    completed = run_cli("plugins", "--format", "json", "--plugin", "extractkit_rtf_sample", env=installed)
    assert completed.returncode == 0, completed.stderr
    assert "already loaded as 'rtf'; loading it again does nothing" in completed.stderr
    data = json.loads(completed.stdout)
    assert [p["name"] for p in data["plugins"]].count("rtf") == 1 and data["extractors"]["rtf_sample"] == "rtf"
