"""The ``extractkit`` command line: extract, run, plugins, search.

Every error is one line on standard error with a meaningful exit code; a
traceback is shown only with ``EXTRACTKIT_DEBUG=1``.
"""

from __future__ import annotations

import json
import os
import sys
import traceback
from pathlib import Path
from typing import Any

import click

from extractkit.errors import ConfigError, ExitCode, ExtractkitError
from extractkit.interfaces import Sink

DEFAULT_INDEX = ".extractkit/index.db"


def _fail(message: str) -> None:
    click.echo(f"extractkit: {message}", err=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="extractkit")
def cli() -> None:
    """Turn files into searchable text."""


@cli.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=True, path_type=Path))
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json", "markdown"]),
    default="text",
    show_default=True,
    help="text, one JSON object per file, or Markdown (headings, lists, tables).",
)
@click.option(
    "-o",
    "--output-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Write one file per input into this folder instead of printing.",
)
@click.option("--ocr-languages", default=None, help="Tesseract languages, e.g. jpn+eng, or auto.")
@click.option("--no-ocr", is_flag=True, help="Never run OCR; take text layers only.")
@click.option("--prefer", multiple=True, help="Prefer this extractor by name (repeatable).")
@click.option("--pdf-password", default=None, help="Password of encrypted PDFs (visible in the process list).")
@click.option("--pdf-password-file", type=click.Path(dir_okay=False, path_type=Path), help="Read it from a file.")
@click.option("--office-password", default=None, help="Password of encrypted Office files.")
@click.option("--office-password-file", type=click.Path(dir_okay=False, path_type=Path), help="Read it from a file.")
@click.option("--plugin", "extra_plugins", multiple=True, help="Load a plugin module or .py file.")
def extract(
    files: tuple[Path, ...],
    output_format: str,
    output_dir: Path | None,
    ocr_languages: str | None,
    no_ocr: bool,
    prefer: tuple[str, ...],
    pdf_password: str | None,
    pdf_password_file: Path | None,
    office_password: str | None,
    office_password_file: Path | None,
    extra_plugins: tuple[str, ...],
) -> None:
    """Extract FILES (folders recursively, - for standard input) and print their text, JSON or Markdown."""
    from .extract_command import read_secret, run_extract

    if pdf_password_file is not None:
        pdf_password = read_secret(pdf_password_file, "--pdf-password-file")
    if office_password_file is not None:
        office_password = read_secret(office_password_file, "--office-password-file")
    sys.exit(
        run_extract(
            files,
            output_format=output_format,
            ocr_languages=ocr_languages,
            no_ocr=no_ocr,
            prefer=prefer,
            extra_plugins=extra_plugins,
            passwords={"pdf_password": pdf_password, "office_password": office_password},
            output_dir=output_dir,
        )
    )


@cli.command()
@click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path),
    default=None,
    help="TOML config file; environment variables override it.",
)
@click.option("--validate-only", is_flag=True, help="Check the config and every service, then exit.")
@click.option("--plugin", "extra_plugins", multiple=True, help="Load a plugin module or .py file.")
@click.option("--progress/--no-progress", default=None, help="Progress bar (default: on a terminal).")
@click.option(
    "--metrics/--no-metrics",
    default=None,
    help="Print the CloudWatch EMF record (default: only when standard output is not a terminal).",
)
@click.option("--force", is_flag=True, help="Extract every file again, even those the sink holds unchanged.")
def run(
    config_path: Path | None,
    validate_only: bool,
    extra_plugins: tuple[str, ...],
    progress: bool | None,
    metrics: bool | None,
    force: bool,
) -> None:
    """Run the worker described by --config.

    The summary and every diagnostic go to standard error, so standard output
    carries only data (a JSONL sink with path "-") and the EMF metrics record.
    """
    from .run_command import run_worker

    sys.exit(run_worker(config_path, validate_only, extra_plugins, progress=progress, metrics=metrics, force=force))


@cli.command()
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--plugin", "extra_plugins", multiple=True, help="Load a plugin module or .py file.")
def plugins(output_format: str, extra_plugins: tuple[str, ...]) -> None:
    """List every loaded plugin with its origin, version and hooks; a broken one is listed as such (exit 3)."""
    from extractkit.plugins import Plugins, PluginSpec

    loaded = Plugins(PluginSpec(extra=extra_plugins, tolerate_broken=True))
    infos = loaded.info()
    if output_format == "json":
        registered = {
            kind: {name: reg.plugin for name, reg in table.items()}
            for kind, table in (("extractors", loaded.extractors), ("sources", loaded.sources), ("sinks", loaded.sinks))
        }
        broken = [{"name": name, "error": error} for name, error in loaded.broken.items()]
        click.echo(json.dumps({"plugins": [info.__dict__ for info in infos], **registered, "broken": broken}, indent=2))
    else:
        _print_plugins(loaded, infos)
    for error in loaded.broken.values():
        _fail(f"error: {error}")
    if loaded.broken:
        sys.exit(ExitCode.PLUGIN)


def _print_plugins(loaded: Any, infos: list[Any]) -> None:
    for info in infos:
        click.echo(f"{info.name} {info.version} ({info.origin}): {', '.join(info.hooks)}")
    for name in loaded.broken:
        click.echo(f"{name} BROKEN: not loaded (the error is on standard error)")
    for kind, table in (("extractor", loaded.extractors), ("source", loaded.sources), ("sink", loaded.sinks)):
        for name, reg in sorted(table.items()):
            types = ", ".join(getattr(reg.cls, "mime_types", ())) if kind == "extractor" else ""
            click.echo(f"  {kind} {name} from {reg.plugin}" + (f" [{types}]" if types else ""))


@cli.command()
@click.argument("query")
@click.option(
    "--index",
    "index_path",
    type=click.Path(path_type=Path),
    default=None,
    help=f"Local index file (default: the config's sink, else {DEFAULT_INDEX}).",
)
@click.option("--config", "config_path", type=click.Path(path_type=Path), default=None)
@click.option("--limit", default=10, show_default=True, type=click.IntRange(1, 1000))
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True)
def search(query: str, index_path: Path | None, config_path: Path | None, limit: int, output_format: str) -> None:
    """Search the index for QUERY: the config's sink (local index or OpenSearch), or --index FILE."""
    from extractkit_plugins.local.search_query import QuerySyntaxError, parse_query

    if not query.strip():
        raise click.UsageError("QUERY is empty; give the words to search for")
    try:
        parse_query(query)
    except QuerySyntaxError as exc:
        raise click.UsageError(f"{exc}; give the words to search for") from exc
    sink = _search_sink(index_path, config_path)
    try:
        hits = sink.search(query, limit=limit)
    finally:
        sink.close()
    if output_format == "json":
        for hit in hits:
            click.echo(json.dumps(hit.__dict__, ensure_ascii=False))
    else:
        for hit in hits:
            location = hit.uri[7:] if hit.uri.startswith("file://") else hit.uri
            where = f", page {hit.page}" if hit.page is not None else ""
            click.echo(f"{location}  (score {hit.score:.2f}{where})\n    {hit.snippet}")
    if not hits:
        _fail(f"no document matches '{query}'")
        sys.exit(ExitCode.FAILED)


def _search_sink(index_path: Path | None, config_path: Path | None) -> Sink:
    """The sink ``search`` reads: --index FILE (a local index), else the config's sink, else the default index."""
    from extractkit_plugins.local.local_index_sink import LocalIndexSink

    if index_path is None and config_path is not None:
        from extractkit.plugins import load_plugins

        from .config import load_config

        config = load_config(config_path)
        sink = load_plugins(extra=tuple(config.plugins["load"])).make_sink(config.sink_type, config.sink_options())
        if not sink.searchable:
            raise ConfigError(
                "sink.type",
                f"the config's sink is '{sink.name}', which cannot be searched; "
                "search reads a 'local_index' or 'opensearch' sink (or pass --index FILE)",
            )
        return sink
    path = index_path or Path(DEFAULT_INDEX)
    return LocalIndexSink({"path": str(path), "create": False})


def _add_queue_commands() -> None:
    from .queue_commands import dlq_group, enqueue_command

    cli.add_command(dlq_group)
    cli.add_command(enqueue_command)


_add_queue_commands()


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the CLI and turn every error into one line and an exit code."""
    try:
        cli.main(args=argv, prog_name="extractkit", standalone_mode=False)
    except click.exceptions.Abort:
        _fail("aborted")
        sys.exit(ExitCode.INTERRUPTED)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except ExtractkitError as exc:
        _fail(f"error: {exc}")
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        _fail("interrupted")
        sys.exit(ExitCode.INTERRUPTED)
    except Exception as exc:
        if os.environ.get("EXTRACTKIT_DEBUG"):
            traceback.print_exc()
        _fail(f"internal error: {type(exc).__name__}: {exc} (set EXTRACTKIT_DEBUG=1 for the traceback and report it)")
        sys.exit(ExitCode.INTERNAL)
    sys.exit(0)


if __name__ == "__main__":
    main()
