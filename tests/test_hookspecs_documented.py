"""Every hook spec is documented in its docstring and in docs/plugins.md, and exercised by a test."""

from __future__ import annotations

import inspect

from extractkit import hookspecs

from support.paths import REPO


def _specs():
    return [name for name, value in vars(hookspecs).items() if callable(value) and hasattr(value, "extractkit_spec")]


def test_there_are_specs():
    assert set(_specs()) >= {"register_extractors", "register_sources", "register_sinks", "detect_mime_type"}


def test_every_spec_has_a_docstring_with_its_arguments():
    for name in _specs():
        spec = getattr(hookspecs, name)
        doc = inspect.getdoc(spec) or ""
        assert len(doc) > 60, f"{name} needs a real docstring"
        for argument in inspect.signature(spec).parameters:
            assert argument in doc, f"{name}'s docstring does not explain '{argument}'"


def test_every_spec_is_in_the_plugin_guide():
    guide = (REPO / "docs" / "plugins.md").read_text(encoding="utf-8")
    for name in _specs():
        assert f"### `{name}(" in guide, f"docs/plugins.md has no section for {name}"


def test_every_spec_is_exercised_by_a_test():
    sources = "\n".join(
        p.read_text(encoding="utf-8")
        for p in (REPO / "tests").rglob("test_*.py")
        if p.name != "test_hookspecs_documented.py"
    )
    for name in _specs():
        assert name in sources, f"no test mentions the hook {name}"
