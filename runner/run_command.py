"""``extractkit run``: logging for a terminal or for systemd, the worker, and what is said at the end.

Standard output carries only data (a JSONL sink with ``path = "-"``) and the
EMF metrics record; the summary and every diagnostic go to standard error, the
summary last. On a terminal, log lines scroll above the progress bar and the
failed documents are listed after the run.
"""

from __future__ import annotations

import logging
import signal
import sys
from pathlib import Path

import click

from extractkit.errors import ExitCode

from .progress import TerminalLogHandler


def _say(line: str) -> None:
    click.echo(f"extractkit: {line}", err=True)


def _configure_logging(level: str, interactive: bool) -> TerminalLogHandler | None:
    from .logs import configure_logging

    if not interactive:
        configure_logging(level, json_lines=True)
        return None
    handler = TerminalLogHandler(sys.stderr)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    # On a terminal the bar tells the story; per-document successes are not worth a line each.
    root.setLevel("WARNING" if level == "INFO" else level)
    return handler


def _metrics_mode(flag: bool | None, configured: str) -> str:
    if flag is None:
        return configured
    return "on" if flag else "off"


def run_worker(
    config_path: Path | None,
    validate_only: bool,
    extra_plugins: tuple[str, ...],
    *,
    progress: bool | None,
    metrics: bool | None,
    force: bool,
) -> int:
    """Run (or validate) the configured worker; return the exit code."""
    from .config import load_config
    from .worker import Worker

    config = load_config(config_path)
    interactive = sys.stderr.isatty()
    terminal = _configure_logging(config.worker["log_level"], interactive)
    worker = Worker(
        config,
        extra_plugins=extra_plugins,
        metrics_mode=_metrics_mode(metrics, str(config.worker["metrics"])),
        force=force,
    )
    if validate_only:
        for line in worker.validate():
            click.echo(line)
        click.echo("config ok")
        return ExitCode.OK
    wanted = config.worker["progress"]
    show_bar = progress if progress is not None else (wanted == "on" or (wanted == "auto" and interactive))
    stats = worker.run(progress=show_bar)
    left = None
    if worker.stop_reason is not None:
        total = worker.source.count_items()
        left = None if total is None else max(0, total - stats.documents)
    if terminal is not None:
        for line in terminal.failures.lines():
            _say(line)
    _say(stats.latency_line())
    if stats.documents == 0 and worker.stop_reason is None:
        _say(f"the source '{worker.source.name}' yielded no documents (check [source] path, include and exclude)")
    _say(stats.summary_line(stopped=worker.stop_reason, left=left))
    if worker.stop_reason == f"by signal {signal.SIGINT.name}":
        return ExitCode.INTERRUPTED
    return ExitCode.OK
