"""The hooks isolation asks the plugins: ``estimate_pages`` for the time budget, ``warm_up`` in the template process.

Also: a pool that cannot start its processes is a start failure with its own
exit code, not a plugin error.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from extractkit.errors import ExitCode, PluginError
from extractkit.models import ExtractOptions
from extractkit.plugins import Plugins, PluginSpec
from extractkit.processing import local_document
from runner.isolation import ChildStartError, IsolatedExecutor, IsolationLimits

from hostile.generate import many_pages_pdf
from support.paths import TEST_PLUGINS


def plugin_files(*names: str) -> tuple[str, ...]:
    """Paths of test plugins under ``tests/plugins``."""
    return tuple(str(TEST_PLUGINS / name) for name in names)


def isolated(tmp_path: Path, limits: IsolationLimits, *plugins: str) -> IsolatedExecutor:
    """An executor with the builtins plus the named test plugins."""
    spec = PluginSpec(entry_points=False, extra=plugin_files(*plugins))
    return IsolatedExecutor(spec, ExtractOptions(), limits, 1, temp_dir=tmp_path / "work")


def test_the_pdf_plugin_estimates_the_pages_of_a_pdf_only(tmp_path: Path, plugins: Plugins) -> None:
    pdf = tmp_path / "three.pdf"
    pdf.write_bytes(many_pages_pdf(3))
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.4\nnot really a PDF\n")
    text = tmp_path / "notes.txt"
    text.write_text("one page of notes\n", encoding="utf-8")
    options = ExtractOptions()
    estimate = plugins.pm.hook.estimate_pages
    assert estimate(path=pdf, mime_type="application/pdf", options=options) == 3
    assert estimate(path=broken, mime_type="application/pdf", options=options) is None
    assert estimate(path=text, mime_type="text/plain", options=options) is None


@pytest.mark.parametrize(("seconds_per_page", "expected"), [(2.0, "ok"), (0.5, "timeout")])
def test_the_time_budget_uses_a_third_party_estimate_pages(
    tmp_path: Path, seconds_per_page: float, expected: str
) -> None:
    document = tmp_path / "in" / "fault-slow-pages.txt"
    document.parent.mkdir()
    document.write_text("3\n", encoding="utf-8")  # three pages, says page_estimate.py; fault_slow sleeps 3 s
    limits = IsolationLimits(timeout_seconds=1, seconds_per_page=seconds_per_page)
    with isolated(tmp_path, limits, "fault_hang.py", "page_estimate.py") as executor:
        outcome = executor(local_document(document))
    if expected == "ok":
        assert outcome.ok, outcome.failure
        assert outcome.result.text == "slept 3 s"
    else:
        assert outcome.failure is not None and outcome.failure.reason == "timeout"
        assert "the 1 s limit (PROCESSING_TIMEOUT) plus 1.5 s for 3 pages" in outcome.failure.message


def test_warm_up_runs_in_the_template_and_its_samples_are_extracted_there(tmp_path: Path) -> None:
    probe = tmp_path / "in" / "warm-probe-report.txt"
    probe.parent.mkdir()
    probe.write_text("report\n", encoding="utf-8")
    with isolated(tmp_path, IsolationLimits(timeout_seconds=30), "warm_probe.py") as executor:
        outcome = executor(local_document(probe))
    assert outcome.ok, outcome.failure
    facts = json.loads(outcome.result.text)
    assert facts["warmed_in"] == [facts["ppid"]], "warm_up must run once, in the process the child is forked from"
    assert facts["samples_seen"] == ["warm-probe-sample.txt"]


def test_a_failing_warm_up_is_logged_with_its_plugin_and_the_pool_still_starts(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    good = tmp_path / "in" / "good.txt"
    good.parent.mkdir()
    good.write_text("still extracted\n", encoding="utf-8")
    with isolated(tmp_path, IsolationLimits(timeout_seconds=30), "warm_broken.py") as executor:
        outcome = executor(local_document(good))
    assert outcome.ok, outcome.failure
    logged = capfd.readouterr().err
    assert "warm_broken.py could not warm up" in logged, logged
    assert "the warm-broken library is broken" in logged


def test_a_pool_that_cannot_start_is_a_start_failure_not_a_plugin_error(tmp_path: Path) -> None:
    with pytest.raises(ChildStartError, match="did not start within") as caught:
        isolated(tmp_path, IsolationLimits(startup_timeout=0.001))
    assert not isinstance(caught.value, PluginError)
    assert caught.value.exit_code == ExitCode.START_FAILED
