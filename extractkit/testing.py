"""Conformance checks for plugin authors.

Run :func:`check_extractor` from your own tests against your own sample files::

    from extractkit.testing import check_extractor
    def test_conforms(tmp_path):
        check_extractor(RtfExtractor, ["tests/samples/letter.rtf"], expected_text={"letter.rtf": "Dear"})

Sinks and sources have :func:`~extractkit.testing_components.check_sink` and
:func:`~extractkit.testing_components.check_source`, importable from here too.
Every broken rule is listed in one :class:`ConformanceError`.
"""

from __future__ import annotations

import dataclasses
import os
import pickle
import tempfile
from pathlib import Path
from types import ModuleType
from typing import Iterable, Mapping

from .errors import DocumentError
from .interfaces import Extractor
from .models import Document, ExtractionResult, ExtractOptions, Page
from .plugins import Plugins, PluginSpec


class ConformanceError(AssertionError):
    """An extractor or plugin breaks the contract; the message lists every problem."""


def _document(path: Path, mime_type: str) -> Document:
    return Document(
        uri=path.absolute().as_uri(), path=path, name=path.name, size=path.stat().st_size, mime_type=mime_type
    )


def _check_class(cls: type) -> list[str]:
    problems = []
    if not (isinstance(cls, type) and issubclass(cls, Extractor)):
        return [f"{cls!r} is not an extractkit.Extractor subclass"]
    if not isinstance(getattr(cls, "name", None), str) or not cls.name:
        problems.append("'name' must be a non-empty string")
    mime_types = getattr(cls, "mime_types", None)
    if not isinstance(mime_types, tuple) or not mime_types:
        problems.append("'mime_types' must be a non-empty tuple")
    elif not all(isinstance(m, str) and "/" in m for m in mime_types):
        problems.append(f"'mime_types' entries must look like 'type/subtype' or 'type/*': {mime_types!r}")
    if not isinstance(getattr(cls, "priority", None), int):
        problems.append("'priority' must be an int")
    return problems


def _json_problems(value: object, where: str) -> list[str]:
    """Where a metadata value is not plain JSON (str, int, float, bool, None, lists, string-keyed dicts)."""
    if value is None or isinstance(value, (str, int, float, bool)):
        return []
    if isinstance(value, (list, tuple)):
        return [problem for i, item in enumerate(value) for problem in _json_problems(item, f"{where}[{i}]")]
    if isinstance(value, Mapping):
        problems = [f"{where} has a non-string key {key!r}" for key in value if not isinstance(key, str)]
        return problems + [p for key, item in value.items() for p in _json_problems(item, f"{where}[{key!r}]")]
    return [f"{where} is {type(value).__name__}, not a JSON value (give dates as ISO 8601 strings)"]


def _squeezed(text: str) -> str:
    return "".join(text.split())


def _check_result(result: object, label: str) -> list[str]:
    if not isinstance(result, ExtractionResult):
        return [f"{label}: extract() returned {type(result).__name__}, not ExtractionResult"]
    problems = []
    if not isinstance(result.text, str):
        problems.append(f"{label}: text is {type(result.text).__name__}, not str")
    if not isinstance(result.pages, tuple) or not all(isinstance(p, Page) for p in result.pages):
        problems.append(f"{label}: pages must be a tuple of Page")
    else:
        numbers = [p.number for p in result.pages]
        if numbers != list(range(1, len(numbers) + 1)):
            problems.append(f"{label}: page numbers must run 1..n in order, got {numbers}")
    if not isinstance(result.metadata, Mapping):
        problems.append(f"{label}: metadata must be a mapping")
    else:
        problems += [f"{label}: {problem}" for problem in _json_problems(dict(result.metadata), "metadata")]
    if (
        isinstance(result.text, str)
        and isinstance(result.pages, tuple)
        and result.pages
        and all(isinstance(p, Page) and isinstance(p.text, str) for p in result.pages)
        and _squeezed(result.text) != _squeezed("".join(p.text for p in result.pages))
    ):
        problems.append(f"{label}: the page texts, joined, are not the document's text (pages must add up to text)")
    try:
        pickle.dumps(result)
    except Exception as exc:
        problems.append(f"{label}: result does not pickle ({exc}); it cannot come back from a child process")
    return problems


def _check_bad_input(cls: type[Extractor], mime_type: str) -> list[str]:
    problems = []
    with tempfile.TemporaryDirectory(prefix="extractkit-conformance-") as workdir:
        for label, payload in (("random bytes", os.urandom(4096)), ("truncated header", b"\x00\x01garbage")):
            path = Path(workdir) / f"bad-{label.replace(' ', '-')}"
            path.write_bytes(payload)
            try:
                cls(ExtractOptions()).extract(_document(path, mime_type))
            except DocumentError:
                continue
            except Exception as exc:
                problems.append(f"{label}: raised {type(exc).__name__} instead of an extractkit DocumentError")
            else:
                problems.append(
                    f"{label}: extract() returned a result; bytes that are not {mime_type} must raise a "
                    "DocumentError such as CorruptDocument (pass check_bad_input=False if any bytes are valid)"
                )
    return problems


def _builtin_collision(cls: type[Extractor]) -> list[str]:
    builtins = Plugins(PluginSpec(entry_points=False)).extractors
    other = builtins.get(cls.name)
    if other is not None and other.cls is not cls:
        return [f"'name' {cls.name!r} is the name of the builtin extractor from {other.plugin}; choose another"]
    return []


def check_extractor(
    cls: type[Extractor],
    samples: Iterable[str | Path],
    *,
    mime_type: str | None = None,
    expected_text: Mapping[str, str] | None = None,
    check_bad_input: bool = True,
) -> None:
    """Check an extractor class against the contract, using the author's sample files.

    ``expected_text`` maps a sample's file name to a string its text must contain.
    Raises :class:`ConformanceError` listing every problem found.
    """
    problems = _check_class(cls)
    if problems:
        raise ConformanceError("; ".join(problems))
    problems += _builtin_collision(cls)
    mime_type = mime_type or next((m for m in cls.mime_types if "*" not in m), cls.mime_types[0])
    expected_text = dict(expected_text or {})
    for sample in map(Path, samples):
        if not sample.is_file():
            problems.append(f"sample '{sample}' does not exist")
            expected_text.pop(sample.name, None)
            continue
        document = _document(sample, mime_type)
        extractor = cls(ExtractOptions())
        if not extractor.accepts(document):
            problems.append(f"{sample.name}: accepts() declined the author's own sample")
            continue
        try:
            first = extractor.extract(document)
            second = cls(None).extract(dataclasses.replace(document))
        except Exception as exc:
            problems.append(f"{sample.name}: extract() raised {type(exc).__name__}: {exc}")
            expected_text.pop(sample.name, None)  # it was sampled; its text is what is missing
            continue
        problems += _check_result(first, sample.name)
        if isinstance(first, ExtractionResult) and isinstance(second, ExtractionResult) and first.text != second.text:
            problems.append(f"{sample.name}: two extractions gave different text (hidden state?)")
        wanted = expected_text.pop(sample.name, None)
        if wanted is not None and isinstance(first, ExtractionResult) and wanted not in first.text:
            problems.append(f"{sample.name}: text does not contain {wanted!r}")
    if expected_text:
        problems.append(f"expected_text names files that were not sampled: {sorted(expected_text)}")
    if check_bad_input:
        problems += _check_bad_input(cls, mime_type)
    if problems:
        raise ConformanceError(f"{cls.__name__}: " + "; ".join(problems))


def check_plugin_module(module: ModuleType | str) -> Plugins:
    """Load a plugin module alone (no builtins, no entry points) and check its hooks.

    Returns the loaded :class:`Plugins` so the caller can inspect what it registered.
    """
    target = module if isinstance(module, str) else module.__name__
    try:
        plugins = Plugins(PluginSpec(builtins=False, entry_points=False, extra=(target,)))
    except Exception as exc:
        raise ConformanceError(f"plugin '{target}' does not load cleanly: {exc}") from exc
    if not (plugins.extractors or plugins.sources or plugins.sinks):
        raise ConformanceError(f"plugin '{target}' registers no extractor, source or sink")
    for registration in plugins.extractors.values():
        problems = _check_class(registration.cls)
        if problems:
            raise ConformanceError(f"plugin '{target}': {registration.name}: " + "; ".join(problems))
    return plugins


def __getattr__(name: str) -> object:
    # check_sink and check_source live in their own module; import them from here as well.
    if name in ("check_sink", "check_source"):
        from . import testing_components

        return getattr(testing_components, name)
    raise AttributeError(name)
