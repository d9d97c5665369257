"""``extractkit extract``: extract files given on the command line and print (or write) the results.

Settings come from the options, then from ``EXTRACTKIT__EXTRACT__<KEY>``
variables (the same ``[extract]`` keys a config file has), so a password can
stay out of the process list: ``--pdf-password-file`` or the variable.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import click

from extractkit.errors import ConfigError, ExitCode, UnreadableDocument, exit_code_for_reason
from extractkit.models import ExtractionResult, ExtractOptions, Failure
from extractkit.plugins import Plugins, load_plugins
from extractkit.processing import describe_failure, failure_from_error, local_document, process_document
from extractkit_plugins.local.json_records import failure_record, result_record

from .markdown_output import to_markdown

ENV_PREFIX = "EXTRACTKIT__EXTRACT__"
STDIN = "-"
SUFFIXES = {"text": ".txt", "json": ".json", "markdown": ".md"}


@dataclass(frozen=True)
class Input:
    """One file to extract: where it is, how to name it, and where its output goes under ``-o DIR``."""

    path: Path
    shown: str
    relative: Path


def expand(paths: tuple[Path, ...]) -> list[Input]:
    """Files as given, folders recursively (in sorted order, keeping their layout for ``-o``)."""
    inputs: list[Input] = []
    for path in paths:
        if str(path) == STDIN:
            inputs.append(Input(path, STDIN, Path("stdin")))
        elif path.is_dir():
            for file in sorted(p for p in path.rglob("*") if p.is_file()):
                inputs.append(Input(file, str(file), Path(path.name or "input") / file.relative_to(path)))
        else:
            inputs.append(Input(path, str(path), Path(path.name)))
    return inputs


def options_from_environment(environ: Mapping[str, str]) -> dict[str, Any]:
    """``[extract]`` settings from ``EXTRACTKIT__EXTRACT__<KEY>`` variables, validated like the config's."""
    from .config import EXTRACT_ALIASES, EXTRACT_KEYS

    fields = {alias: name for name, alias in EXTRACT_ALIASES.items()}
    values: dict[str, Any] = {}
    for variable, raw in environ.items():
        if not variable.startswith(ENV_PREFIX):
            continue
        key = variable[len(ENV_PREFIX) :].lower()
        if key not in EXTRACT_KEYS:
            raise ConfigError(f"extract.{key}", f"unknown key (from {variable}); known keys: {', '.join(EXTRACT_KEYS)}")
        try:
            value = EXTRACT_KEYS[key][0](raw)
        except ValueError as exc:
            raise ConfigError(f"extract.{key}", f"{exc} (from {variable})") from exc
        values[fields.get(key, key)] = tuple(value) if isinstance(value, list) else value
    return values


def read_secret(path: Path, option: str) -> str:
    """A password from a file: its first line, without the line break."""
    try:
        return path.read_text(encoding="utf-8").splitlines()[0] if path.stat().st_size else ""
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(option, f"cannot read '{path}': {getattr(exc, 'strerror', None) or exc}") from exc


def build_options(
    plugins: Plugins,
    *,
    ocr_languages: str | None,
    no_ocr: bool,
    prefer: tuple[str, ...],
    passwords: Mapping[str, str | None],
) -> ExtractOptions:
    """The extract options: the environment's, then the command line's, checked up front (exit 78)."""
    values = options_from_environment(os.environ)
    if prefer:
        values["preferred_extractors"] = prefer
    if no_ocr:
        values["ocr_enabled"] = False
    if ocr_languages:
        values["ocr_languages"] = ocr_languages
    values.update({key: value for key, value in passwords.items() if value is not None})
    options = dataclasses.replace(ExtractOptions(), **values)
    for name, key in [(n, "--prefer") for n in options.preferred_extractors] + [
        (n, "extract.disable") for n in options.disabled_extractors
    ]:
        if name not in plugins.extractors:
            known = ", ".join(sorted(plugins.extractors))
            raise ConfigError(key, f"no extractor named '{name}' (installed: {known})")
    if options.ocr_enabled:
        from .ocr_languages import check_ocr_languages

        check_ocr_languages(options.ocr_languages, "--ocr-languages" if ocr_languages else "extract.ocr_languages")
    return options


def _outcome(item: Input, plugins: Plugins, options: ExtractOptions) -> tuple[str, Failure | None, Any, Path | None]:
    """(uri, failure, result, local path) for one input; stdin is copied to a private temp file first."""
    if item.shown == STDIN:
        with tempfile.TemporaryDirectory(prefix="extractkit-stdin-") as workdir:
            copy = Path(workdir) / "stdin"
            with copy.open("wb") as handle:
                for block in iter(lambda: sys.stdin.buffer.read(1024 * 1024), b""):
                    handle.write(block)
            document = local_document(copy, uri="stdin:", name="stdin")
            outcome = process_document(document, plugins, options)
            return "stdin:", outcome.failure, outcome.result, None
    try:
        document = local_document(item.path)
    except UnreadableDocument as error:
        uri = item.path.absolute().as_uri()
        return uri, failure_from_error(error, uri=uri, stage="fetch"), None, None
    outcome = process_document(document, plugins, options)
    return document.uri, outcome.failure, outcome.result, document.path


def render(
    output_format: str,
    item: Input,
    uri: str,
    failure: Failure | None,
    result: ExtractionResult | None,
    path: Path | None,
) -> str | None:
    """The text written for one input (None when there is nothing to write)."""
    if output_format == "json":
        if result is not None:
            record = result_record(uri, Path(item.shown).name if item.shown != STDIN else "stdin", result)
        else:
            assert failure is not None
            record = failure_record(failure)
        record["path"] = item.shown
        return json.dumps(record, ensure_ascii=False, default=str)
    if result is None:
        return None
    return to_markdown(result, path).rstrip("\n") if output_format == "markdown" else result.text


def _output_file(output_dir: Path, item: Input, output_format: str, taken: set[Path]) -> Path:
    target = output_dir / item.relative.with_name(item.relative.name + SUFFIXES[output_format])
    candidate, number = target, 2
    while candidate in taken:
        candidate = target.with_name(f"{target.stem}-{number}{target.suffix}")
        number += 1
    taken.add(candidate)
    return candidate


def run_extract(
    files: tuple[Path, ...],
    *,
    output_format: str,
    ocr_languages: str | None,
    no_ocr: bool,
    prefer: tuple[str, ...],
    extra_plugins: tuple[str, ...],
    passwords: Mapping[str, str | None] | None = None,
    output_dir: Path | None = None,
) -> int:
    """Extract every file; print results (or write one file each under ``output_dir``); return the exit code."""
    plugins = load_plugins(extra=extra_plugins)
    options = build_options(
        plugins, ocr_languages=ocr_languages, no_ocr=no_ocr, prefer=prefer, passwords=passwords or {}
    )
    inputs = expand(files)
    if not inputs:
        given = ", ".join(f"'{path}'" for path in files)
        click.echo(f"extractkit: no files to extract in {given}", err=True)
        return ExitCode.FAILED
    exit_code = 0
    taken: set[Path] = set()
    for item in inputs:
        uri, failure, result, path = _outcome(item, plugins, options)
        if failure is not None:
            click.echo(f"extractkit: {describe_failure(failure, item.shown)}", err=True)
            exit_code = exit_code or exit_code_for_reason(failure.reason)
        text = render(output_format, item, uri, failure, result, path)
        if output_dir is not None:
            if text is not None:
                target = _output_file(output_dir, item, output_format, taken)
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(text + "\n", encoding="utf-8")
                click.echo(f"extractkit: {item.shown} -> {target}", err=True)
        elif text is not None:
            if output_format != "json" and len(inputs) > 1:
                click.echo(f"==> {item.shown} <==")
            click.echo(text)
        sys.stdout.flush()
    return exit_code


__all__ = ["run_extract"]
