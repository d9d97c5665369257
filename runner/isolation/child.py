"""Code that runs in the extraction children: the child's job loop, one document after another.

Children are forked from the template process (see :mod:`runner.isolation.template`)
that has already imported and warmed up the plugins, so a fresh child costs a fork
rather than an interpreter start. Each child calls ``os.setsid()`` first, so it
leads its own process group and every tool it runs (tesseract, pdftoppm) belongs
to that group; then it caps its address space and serves jobs on its socket. The
messages it exchanges with the worker are listed in :mod:`runner.isolation.protocol`.

When a per-page time budget is configured, the plugins estimate the document's
pages (the ``estimate_pages`` hook) before the CPU limit is set.
"""

from __future__ import annotations

import dataclasses
import datetime
import logging
import os
import signal
import tempfile
import threading
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any, Callable, Mapping

from extractkit.errors import DocumentError, ExtractorCrashed
from extractkit.models import Document, ExtractOptions, Failure, Outcome
from extractkit.plugins import Plugins, PluginSpec
from extractkit.processing import detect, process_document

from .limits import grant_cpu_budget, limit_address_space
from .protocol import ChildExit, FromChild, ToChild, message

log = logging.getLogger("extractkit.isolation")

PARENT_CHECK_SECONDS = 0.5


@dataclass(frozen=True)
class ChildSettings:
    """What the template process and its children need before the first document.

    ``parent_pid`` is the worker's pid: the template exits when its parent changes.
    ``log_level`` and ``json_logs`` repeat the worker's logging set-up in the template.
    """

    plugin_spec: PluginSpec
    options: ExtractOptions
    memory_mb: int
    sys_path: tuple[str, ...]
    parent_pid: int
    log_level: int = logging.WARNING
    json_logs: bool = False


@dataclass(frozen=True)
class Job:
    """One document to extract, with the budget for it."""

    document: Document
    temp_dir: str
    cpu_seconds: float
    seconds_per_page: float | None = None


def watch_parent(parent_pid: int) -> None:
    """Kill this process's whole group once its parent is gone, so no orphan keeps running."""
    while True:
        if os.getppid() != parent_pid:
            os.killpg(os.getpgrp(), signal.SIGKILL)
        time.sleep(PARENT_CHECK_SECONDS)


def _reporting_class(cls: type, report: Callable[[str], None]) -> type:
    """A subclass of extractor ``cls`` that tells the worker when it starts on a document."""
    name = cls.name

    def extract(self: Any, document: Document) -> Any:
        report(name)
        return cls.extract(self, document)

    return type(cls.__name__, (cls,), {"extract": extract, "__module__": cls.__module__, "__doc__": cls.__doc__})


def report_extractors(plugins: Plugins, conn: Connection) -> None:
    """Make every extractor announce itself, so a timeout can name the one that was running."""

    def report(name: str) -> None:
        conn.send(message(FromChild.EXTRACTOR, name))

    for name, registration in list(plugins.extractors.items()):
        plugins.extractors[name] = dataclasses.replace(registration, cls=_reporting_class(registration.cls, report))


PORTABLE_SCALARS = (str, int, float, bool, bytes, type(None), datetime.datetime, datetime.date, datetime.time)


def portable(value: Any) -> Any:
    """Turn metadata into plain values the worker accepts (unknown objects become strings)."""
    if isinstance(value, PORTABLE_SCALARS):
        return value
    if isinstance(value, Mapping):
        return {str(key): portable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [portable(item) for item in value]
    return str(value)


def _use_temp_dir(path: str) -> None:
    """Send this process's temp files, and those of the tools it runs, to ``path``."""
    os.environ["TMPDIR"] = path
    tempfile.tempdir = path
    os.chdir(path)


def _pages_for_budget(document: Document, plugins: Plugins, options: ExtractOptions) -> tuple[Document, int]:
    """Detect the document's type and ask the plugins for its page count (capped at ``max_pages``); 0 if unknown."""
    try:
        document = detect(document, plugins, options)
    except DocumentError:
        return document, 0
    try:
        pages = plugins.pm.hook.estimate_pages(path=document.path, mime_type=document.mime_type, options=options)
    except Exception as error:
        # The extractor will meet the same file and report what is wrong with it; the budget only loses the extra.
        log.warning("estimate_pages failed for %s: %r; no per-page time is added", document.name, error)
        return document, 0
    if not isinstance(pages, int) or pages <= 0:
        return document, 0
    return document, min(pages, options.max_pages)


def _memory_message(failure: Failure, document: Document, memory_mb: int) -> Failure:
    message = (
        f"{document.name}: extraction ran out of memory under the {memory_mb} MB limit "
        f"(memory_limit_mb) in {failure.plugin or 'an extractor'}; raise the limit or split the file"
    )
    return dataclasses.replace(failure, message=message)


def run_job(conn: Connection, plugins: Plugins, settings: ChildSettings, job: Job) -> None:
    """Extract one document and send its outcome."""
    _use_temp_dir(job.temp_dir)
    document = job.document
    budget = job.cpu_seconds
    if job.seconds_per_page:
        document, pages = _pages_for_budget(document, plugins, settings.options)
        if pages:
            conn.send(message(FromChild.BUDGET, pages))
            budget += pages * job.seconds_per_page
    grant_cpu_budget(budget)
    outcome: Outcome = process_document(document, plugins, settings.options)
    failure = outcome.failure
    if failure is not None and failure.reason == "memory":
        failure = _memory_message(failure, document, settings.memory_mb)
    result = outcome.result
    if result is not None:
        result = dataclasses.replace(result, metadata=portable(result.metadata))
    mime_type = outcome.document.mime_type if outcome.document is not None else None
    conn.send(message(FromChild.OUTCOME, (mime_type, result, failure)))


def _send_unexpected(conn: Connection, job: Job, error: BaseException) -> None:
    error_record = ExtractorCrashed(f"{job.document.name}: extraction failed outside any extractor: {error!r}")
    failure = Failure.from_error(error_record, uri=job.document.uri, stage="extract", plugin="isolation")
    conn.send(message(FromChild.OUTCOME, (job.document.mime_type, None, failure)))


def serve(conn: Connection, plugins: Plugins, settings: ChildSettings) -> int:
    """Answer jobs until told to stop or the worker goes away; return the exit status."""
    while True:
        try:
            kind, payload = conn.recv()
        except (EOFError, OSError):
            return ChildExit.OK
        if kind == ToChild.STOP:
            return ChildExit.OK
        try:
            run_job(conn, plugins, settings, payload)
        except MemoryError:
            return ChildExit.OUT_OF_MEMORY
        except Exception as error:
            _send_unexpected(conn, payload, error)
        finally:
            os.chdir("/")


def run_child(fd: int, plugins: Plugins, settings: ChildSettings) -> int:
    """Body of a freshly forked child: own session, parent watch, memory cap, then serve jobs."""
    os.setsid()
    conn = Connection(fd)
    threading.Thread(target=watch_parent, args=(os.getppid(),), daemon=True, name="parent-watch").start()
    report_extractors(plugins, conn)
    limit = limit_address_space(settings.memory_mb)
    conn.send(message(FromChild.READY, {"pid": os.getpid(), "address_space_limit": limit}))
    return serve(conn, plugins, settings)
