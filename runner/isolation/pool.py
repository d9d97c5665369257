"""The pool: extraction in child processes with a wall-clock limit, a memory cap and recycling.

:class:`IsolatedExecutor` keeps ``slots`` child slots (the worker's ``max_workers``),
each holding a child (see :mod:`runner.isolation.child`) forked from the warm
template process (:mod:`runner.isolation.template`), so that starting or recycling
one is cheap. Each call checks out an idle slot, sends its child the document and
waits for the outcome under the deadline while sampling the memory of the child's
process tree. A child that runs past the deadline or the memory cap is killed
together with its whole process group (so tesseract or pdftoppm started by a
parser die with it); a child that dies on its own (a segfault, an abort,
``SIGXCPU`` from its CPU limit) is reaped the same way. Either way the document
becomes a permanent failure (``timeout``, ``memory`` or ``crashed``, see
:mod:`runner.isolation.deaths`) and a fresh child takes the slot. Children are
also replaced after ``recycle_after`` documents and after any out-of-memory failure.

Every document gets its own temporary directory under ``temp_dir``; the child
points ``TMPDIR``, :data:`tempfile.tempdir` and its working directory there, and
the directory is removed after the document, killed child or not.

Outcomes come back through the restricted unpickler of
:mod:`runner.isolation.protocol`, so a child subverted by a hostile file cannot
make the worker run code. A child or template that cannot be started raises
:class:`~runner.isolation.handles.ChildStartError`; plugins that fail to load in
the template raise :class:`~extractkit.errors.PluginError`.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import queue
import shutil
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from extractkit.errors import ExtractorCrashed, PluginError, TransientError
from extractkit.models import Document, ExtractionResult, ExtractOptions, Failure, Outcome
from extractkit.plugins import PluginSpec

from ..logs import JsonFormatter
from .child import ChildSettings, Job
from .deaths import Watch, death_error, failed, memory_error, timeout_error
from .handles import ChildGone, ChildHandle, ChildMisbehaved, ChildStartError, TemplateHandle
from .limits import sample_tree_memory
from .protocol import FromChild

#: How often a busy child's memory is sampled and its exit checked.
POLL_SECONDS = 0.1


@dataclass(frozen=True)
class IsolationLimits:
    """Limits for each extraction child.

    ``timeout_seconds`` is the wall-clock budget per document (``PROCESSING_TIMEOUT``).
    ``memory_mb`` caps the resident memory of a child's whole process tree (sampled
    about ten times a second) and, plus a headroom, its address space (``RLIMIT_AS``).
    ``cpu_seconds`` is the CPU budget per document (``RLIMIT_CPU``, default: the
    timeout). ``recycle_after`` is how many documents a child handles before it is
    replaced. ``seconds_per_page``, when set, adds that many seconds of wall-clock
    and CPU budget per PDF page (counted with pypdfium2 in the child, at most
    ``ExtractOptions.max_pages``), so long scanned PDFs get the time their OCR needs
    while small files keep a tight limit. ``startup_timeout`` bounds a child's start.
    """

    timeout_seconds: float = 300.0
    memory_mb: int = 2048
    cpu_seconds: float | None = None
    recycle_after: int = 50
    seconds_per_page: float | None = None
    startup_timeout: float = 60.0

    def __post_init__(self) -> None:
        for name in ("timeout_seconds", "memory_mb", "recycle_after", "startup_timeout"):
            if getattr(self, name) <= 0:
                raise ValueError(f"IsolationLimits.{name} must be greater than 0")
        for name in ("cpu_seconds", "seconds_per_page"):
            value = getattr(self, name)
            if value is not None and value <= 0:
                raise ValueError(f"IsolationLimits.{name} must be greater than 0 when set")

    @property
    def cpu_budget(self) -> float:
        """CPU seconds granted per document."""
        return self.cpu_seconds if self.cpu_seconds is not None else self.timeout_seconds


class _Slot:
    """A place in the pool; holds a child, or ``None`` until one is started."""

    def __init__(self, child: ChildHandle | None) -> None:
        self.child = child


def _absolute_sys_path() -> tuple[str, ...]:
    return tuple(os.path.abspath(entry or os.curdir) for entry in sys.path)


def _logs_as_json() -> bool:
    """Whether the worker writes JSON log lines, so the template process writes them the same way."""
    return any(isinstance(handler.formatter, JsonFormatter) for handler in logging.getLogger().handlers)


class IsolatedExecutor:
    """Runs ``process_document`` in a pool of child processes; thread-safe, one document per call.

    ``slots`` is how many children extract at once (the config's ``max_workers``).
    """

    def __init__(
        self,
        plugin_spec: PluginSpec,
        options: ExtractOptions,
        limits: IsolationLimits,
        slots: int,
        *,
        temp_dir: str | Path | None = None,
    ) -> None:
        self.limits = limits
        self.slots = max(1, slots)
        self.temp_dir = Path(temp_dir) if temp_dir else Path(tempfile.gettempdir()) / "extractkit"
        self.temp_dir.mkdir(parents=True, exist_ok=True)
        self.settings = ChildSettings(
            plugin_spec=plugin_spec,
            options=options,
            memory_mb=limits.memory_mb,
            sys_path=_absolute_sys_path(),
            parent_pid=os.getpid(),
            log_level=logging.getLogger().getEffectiveLevel(),
            json_logs=_logs_as_json(),
        )
        self._closed = threading.Event()
        self._live: set[ChildHandle] = set()
        self._live_lock = threading.Lock()
        self._template_lock = threading.Lock()
        self._template_handle: TemplateHandle | None = None
        self._idle: queue.Queue[_Slot | None] = queue.Queue()
        slots = [_Slot(None) for _ in range(self.slots)]
        try:
            for slot in slots:
                self._ensure_ready(slot)
        except BaseException:
            self.close()
            raise
        for slot in slots:
            self._idle.put(slot)

    # -- pool ----------------------------------------------------------------

    def _template(self) -> TemplateHandle:
        """The template process, started (again) when there is none or it died."""
        with self._template_lock:
            if self._template_handle is not None and not self._template_handle.alive:
                self._template_handle.close()
                self._template_handle = None
            if self._template_handle is None:
                self._template_handle = TemplateHandle(self.settings, self.limits.startup_timeout)
            return self._template_handle

    def _spawn(self) -> ChildHandle:
        child = ChildHandle(self._template(), self.limits.startup_timeout)
        with self._live_lock:
            self._live.add(child)
        if self._closed.is_set():
            child.kill()
        return child

    def _discard(self, child: ChildHandle) -> None:
        if child.is_ready and not child.has_exited():
            child.stop()
        else:
            child.kill()
        with self._live_lock:
            self._live.discard(child)

    def _ensure_ready(self, slot: _Slot) -> ChildHandle:
        if slot.child is not None and slot.child.is_ready and slot.child.has_exited():
            self._discard(slot.child)
            slot.child = None
        for attempt in (1, 2):  # a child that fails to start gets one more try
            if slot.child is None:
                slot.child = self._spawn()
            if slot.child.is_ready:
                break
            try:
                slot.child.wait_ready(self.limits.startup_timeout)
            except ChildStartError:
                self._discard(slot.child)
                slot.child = None
                if attempt == 2:
                    raise
        return slot.child

    def _checkout(self) -> _Slot:
        slot = self._idle.get()
        if slot is None or self._closed.is_set():
            self._idle.put(None)
            raise RuntimeError("the isolated executor is closed")
        try:
            self._ensure_ready(slot)
        except BaseException:
            self._idle.put(slot)
            raise
        return slot

    def _checkin(self, slot: _Slot, retire: bool) -> None:
        child = slot.child
        if child is not None and (retire or child.has_exited()):
            self._discard(child)
            slot.child = None
            if not self._closed.is_set():
                try:
                    slot.child = self._spawn()
                except (ChildStartError, PluginError, OSError):
                    slot.child = None  # the next checkout tries again and reports the error
        self._idle.put(slot)

    # -- one document ----------------------------------------------------------

    def __call__(self, document: Document) -> Outcome:
        """Extract ``document`` in a child; never raises for a bad document."""
        started = time.perf_counter()
        slot = self._checkout()
        retire = True
        try:
            outcome = self._extract_in(slot, document)
            child = slot.child
            retire = child is None or child.jobs_done >= self.limits.recycle_after or _is_memory(outcome)
        finally:
            self._checkin(slot, retire)
        return dataclasses.replace(outcome, seconds=time.perf_counter() - started)

    def _extract_in(self, slot: _Slot, document: Document) -> Outcome:
        job_dir = Path(tempfile.mkdtemp(prefix="extract-", dir=self.temp_dir))
        try:
            job = Job(document, str(job_dir), self.limits.cpu_budget, self.limits.seconds_per_page)
            child = self._send(slot, job)
            outcome = self._await_outcome(child, document)
            child.jobs_done += 1
            return outcome
        finally:
            shutil.rmtree(job_dir, ignore_errors=True)

    def _send(self, slot: _Slot, job: Job) -> ChildHandle:
        """Hand the job to the slot's child; a child that died while idle is replaced once."""
        child = self._ensure_ready(slot)
        try:
            child.send_job(job)
            return child
        except OSError:
            self._discard(child)
            slot.child = None
        child = self._ensure_ready(slot)
        child.send_job(job)
        return child

    def _await_outcome(self, child: ChildHandle, document: Document) -> Outcome:
        watch = Watch(document, time.monotonic() + self.limits.timeout_seconds)
        while True:
            remaining = watch.deadline - time.monotonic()
            if remaining <= 0:
                child.kill()
                return failed(watch, timeout_error(watch, self.limits.timeout_seconds, self.limits.seconds_per_page))
            try:
                message = child.receive(min(POLL_SECONDS, remaining))
                if message is not None and message[0] == FromChild.OUTCOME:
                    return self._outcome_from(document, message[1])
            except ChildGone:
                return self._after_death(child, watch)
            except ChildMisbehaved as error:
                child.kill()
                refused = f"{document.name}: the extraction process sent a result the worker refuses ({error})"
                return failed(watch, ExtractorCrashed(refused))
            if message is None:
                if child.has_exited():
                    return self._after_death(child, watch)
                overflow = self._check_memory(child, watch)
                if overflow is not None:
                    return overflow
                continue
            kind, payload = message
            if kind == FromChild.EXTRACTOR:
                watch.extractor = str(payload)
            elif kind == FromChild.BUDGET and self.limits.seconds_per_page and isinstance(payload, int):
                watch.pages = payload
                watch.deadline += watch.pages * self.limits.seconds_per_page

    def _check_memory(self, child: ChildHandle, watch: Watch) -> Outcome | None:
        sample = sample_tree_memory(child.process)
        if sample is None:
            return None
        watch.last_sample = sample
        if sample.resident <= self.limits.memory_mb * 1024 * 1024:
            return None
        child.kill()
        return failed(watch, memory_error(watch, self.limits.memory_mb))

    def _after_death(self, child: ChildHandle, watch: Watch) -> Outcome:
        """Classify a child that died on its own, after killing what is left of its group."""
        returncode = child.kill()
        if self._closed.is_set():
            return failed(watch, TransientError(f"{watch.document.name}: extraction stopped by shutdown"))
        error = death_error(
            returncode,
            watch,
            cpu_seconds=self.limits.cpu_budget,
            memory_mb=self.limits.memory_mb,
            address_space_limit=child.address_space_limit,
        )
        return failed(watch, error)

    @staticmethod
    def _outcome_from(document: Document, payload: object) -> Outcome:
        """Rebuild the outcome from the child's ``(mime_type, result, failure)``, checking its shape."""
        if not (isinstance(payload, tuple) and len(payload) == 3):
            raise ChildMisbehaved("an outcome that is not (mime_type, result, failure)")
        mime_type, result, failure = payload
        well_formed = (
            (mime_type is None or isinstance(mime_type, str))
            and (result is None or isinstance(result, ExtractionResult))
            and (failure is None or isinstance(failure, Failure))
            and (result is None) != (failure is None)
        )
        if not well_formed:
            raise ChildMisbehaved("an outcome with unexpected types")
        if mime_type and mime_type != document.mime_type:
            document = dataclasses.replace(document, mime_type=mime_type)
        return Outcome(document, document.uri, result=result, failure=failure)

    # -- shutdown --------------------------------------------------------------

    def close(self) -> None:
        """Stop every child and its process group; safe to call more than once."""
        if self._closed.is_set():
            return
        self._closed.set()
        with self._live_lock:
            children = list(self._live)
            self._live.clear()
        for child in children:
            child.request_stop()
        for child in children:
            child.stop()
        with self._template_lock:
            if self._template_handle is not None:
                self._template_handle.close()
        self._idle.put(None)

    def __enter__(self) -> IsolatedExecutor:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _is_memory(outcome: Outcome) -> bool:
    return outcome.failure is not None and outcome.failure.reason == "memory"
