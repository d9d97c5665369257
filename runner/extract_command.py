"""``extractkit extract``: extract files given on the command line and print the results."""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path
from typing import Any

import click

from extractkit.errors import UnreadableDocument, exit_code_for_reason
from extractkit.models import ExtractOptions, Failure
from extractkit.plugins import load_plugins
from extractkit.processing import failure_from_error, local_document, process_document


def _expand(paths: tuple[Path, ...]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*") if p.is_file()))
        else:
            files.append(path)
    return files


def _record(path: Path, failure: Failure | None = None, result: Any = None) -> dict[str, Any]:
    record: dict[str, Any] = {"path": str(path), "status": "ok" if failure is None else "failed"}
    if result is not None:
        record.update(result.to_dict())
    if failure is not None:
        record.update(mime_type=failure.mime_type, extractor=failure.plugin or None, text="", pages=[], metadata={})
        record["failure"] = {
            "class": failure.failure_class,
            "reason": failure.reason,
            "message": failure.message,
            "stage": failure.stage,
            "attempts": [a.__dict__ for a in failure.attempts],
        }
    return record


def run_extract(
    files: tuple[Path, ...],
    *,
    output_format: str,
    ocr_languages: str | None,
    no_ocr: bool,
    prefer: tuple[str, ...],
    extra_plugins: tuple[str, ...],
) -> int:
    """Extract every file; print results; return the exit code (0 when all succeeded)."""
    plugins = load_plugins(extra=extra_plugins)
    options = ExtractOptions(preferred_extractors=prefer, ocr_enabled=not no_ocr)
    if ocr_languages:
        options = dataclasses.replace(options, ocr_languages=ocr_languages)
    exit_code = 0
    paths = _expand(files)
    for path in paths:
        try:
            document = local_document(path)
        except UnreadableDocument as error:
            outcome_failure: Failure | None = failure_from_error(error, uri=str(path), stage="fetch")
            result = None
        else:
            outcome = process_document(document, plugins, options)
            outcome_failure, result = outcome.failure, outcome.result
        if outcome_failure is not None:
            click.echo(f"extractkit: {path}: {outcome_failure.reason}: {outcome_failure.message}", err=True)
            exit_code = exit_code or exit_code_for_reason(outcome_failure.reason)
        if output_format == "json":
            click.echo(json.dumps(_record(path, outcome_failure, result), ensure_ascii=False, default=str))
        elif result is not None:
            if len(paths) > 1:
                click.echo(f"==> {path} <==")
            click.echo(result.text)
        sys.stdout.flush()
    return exit_code


__all__ = ["run_extract"]
