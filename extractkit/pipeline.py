"""Source → extractor → sink, with every document ending stored or recorded as a failure.

The pipeline acknowledges a source item only after its outcome (result or
failure record) is stored. Up to ``concurrency`` items are in flight at once;
the extraction step itself is pluggable (``executor``), which is how the runner
moves it into isolated child processes.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import shutil
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable

from .errors import DocumentError, ExtractorCrashed, TooLarge, TransientError
from .interfaces import Sink, Source
from .models import Document, ExtractOptions, Failure, Outcome, SourceItem
from .plugins import Plugins
from .processing import default_plugins, failure_from_error, process_document
from .retry import RetryPolicy, call_with_retries
from .stats import RunStats

log = logging.getLogger("extractkit.pipeline")

Executor = Callable[[Document], Outcome]
OutcomeCallback = Callable[[Outcome], None]


class Pipeline:
    """Drive documents from a source through extraction into a sink."""

    def __init__(
        self,
        source: Source,
        sink: Sink,
        *,
        plugins: Plugins | None = None,
        options: ExtractOptions | None = None,
        executor: Executor | None = None,
        concurrency: int = 1,
        temp_dir: str | Path | None = None,
        failure_log: str | Path | None = None,
        retry: RetryPolicy | None = None,
        stats: RunStats | None = None,
    ) -> None:
        self.source = source
        self.sink = sink
        self.plugins = plugins or default_plugins()
        self.options = options or ExtractOptions()
        self.executor: Executor = executor or (lambda document: process_document(document, self.plugins, self.options))
        self.concurrency = max(1, concurrency)
        self.temp_dir = Path(temp_dir) if temp_dir else Path(tempfile.gettempdir()) / "extractkit"
        self.failure_log = Path(failure_log) if failure_log else None
        self.retry = retry or RetryPolicy()
        self.stats = stats or RunStats()
        self._sink_lock = threading.Lock()
        self._failure_log_lock = threading.Lock()
        self._stopping = threading.Event()

    # -- driving -----------------------------------------------------------

    def run(self, on_outcome: OutcomeCallback | None = None) -> RunStats:
        """Process items until the source is drained or :meth:`stop` is called."""
        self.temp_dir.mkdir(parents=True, exist_ok=True)
        slots = threading.BoundedSemaphore(self.concurrency)
        with ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix="extractkit-item") as pool:
            for item in self.source.items():
                slots.acquire()
                if self._stopping.is_set():
                    slots.release()
                    self.source.release(item, 0)
                    break
                future = pool.submit(self._handle_item_guarded, item, on_outcome)
                future.add_done_callback(lambda _: slots.release())
        return self.stats

    def stop(self) -> None:
        """Stop taking new items; items in flight finish."""
        self._stopping.set()
        self.source.stop()

    # -- one item ----------------------------------------------------------

    def _handle_item_guarded(self, item: SourceItem, on_outcome: OutcomeCallback | None) -> None:
        try:
            self.handle_item(item, on_outcome)
        except Exception as error:  # never let one item kill the loop; the item is not acked
            log.exception("unexpected error handling %s; released for redelivery", item.uri)
            crash = ExtractorCrashed(f"{item.name}: the pipeline failed: {type(error).__name__}: {error}")
            self._write_failure_log(Failure.from_error(crash, uri=item.uri, stage="pipeline"))
            self._safe_release(item, 0)

    def handle_item(self, item: SourceItem, on_outcome: OutcomeCallback | None = None) -> Outcome:
        """Fetch, extract, store and acknowledge one item."""
        if item.event == "delete":
            return self._handle_delete(item, on_outcome)
        started = time.perf_counter()
        workdir = Path(tempfile.mkdtemp(prefix="job-", dir=self.temp_dir))
        try:
            try:
                self._check_announced_size(item)
                document = call_with_retries(lambda: self.source.fetch(item, workdir), self.retry)
            except DocumentError as error:
                outcome = Outcome(None, item.uri, failure=failure_from_error(error, uri=item.uri, stage="fetch"))
            else:
                outcome = self.executor(document)
            outcome = dataclasses.replace(outcome, seconds=time.perf_counter() - started)
            self._store_and_ack(item, outcome)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
        self.stats.record(outcome)
        if on_outcome is not None:
            on_outcome(outcome)
        return outcome

    def _check_announced_size(self, item: SourceItem) -> None:
        """Refuse an item whose announced size is over the limit before downloading it."""
        limit = self.options.max_file_size
        if item.size is not None and item.size > limit:
            raise TooLarge(
                f"{item.name} is {item.size / 1e6:.1f} MB, over the {limit / 1e6:.0f} MB limit "
                "(MAX_FILE_SIZE_MB); it was not downloaded"
            )

    def _handle_delete(self, item: SourceItem, on_outcome: OutcomeCallback | None) -> Outcome:
        try:
            call_with_retries(lambda: self._locked(self.sink.delete, item.uri), self.retry)
        except TransientError as error:
            log.warning("could not delete %s from the sink (%s); released for retry", item.uri, error)
            self._safe_release(item, self._backoff_seconds(error))
            return Outcome(None, item.uri, failure=failure_from_error(error, uri=item.uri, stage="sink"))
        self.source.ack(item)
        self.stats.record_delete()
        outcome = Outcome(None, item.uri)
        if on_outcome is not None:
            on_outcome(outcome)
        return outcome

    def _store_and_ack(self, item: SourceItem, outcome: Outcome) -> None:
        failure = outcome.failure
        if failure is not None and failure.is_transient and getattr(self.source, "redelivers", False):
            # A queue source will deliver it again; its redrive policy bounds the attempts.
            self._safe_release(item, 30)
            return
        try:
            if outcome.result is not None and outcome.document is not None:
                call_with_retries(lambda: self._locked(self.sink.write, outcome.document, outcome.result), self.retry)
            elif failure is not None:
                self._store_failure(failure)
        except TransientError as error:
            # The sink cannot take it: keep the record locally and hand the item back.
            self._write_failure_log(
                failure or Failure.from_error(error, uri=item.uri, stage="sink", plugin=getattr(self.sink, "name", ""))
            )
            self._safe_release(item, self._backoff_seconds(error))
            return
        self.source.ack(item)

    def _store_failure(self, failure: Failure) -> None:
        try:
            call_with_retries(lambda: self._locked(self.sink.write_failure, failure), self.retry)
        except TransientError:
            self._write_failure_log(failure)
            raise

    def _locked(self, method: Callable, *args: object) -> None:
        with self._sink_lock:
            method(*args)

    def _write_failure_log(self, failure: Failure) -> None:
        if self.failure_log is None:
            log.error("failure record could not be stored: %s", json.dumps(failure.to_dict(), ensure_ascii=False))
            return
        self.failure_log.parent.mkdir(parents=True, exist_ok=True)
        with self._failure_log_lock, self.failure_log.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(failure.to_dict(), ensure_ascii=False) + "\n")

    def _safe_release(self, item: SourceItem, delay: int) -> None:
        try:
            self.source.release(item, delay)
        except Exception:
            log.exception("could not release %s; it will reappear when its lease expires", item.uri)

    def _backoff_seconds(self, error: TransientError) -> int:
        attempts = getattr(error, "attempts_made", 1)
        return int(min(900, self.retry.base_delay * 2 ** (attempts + 2)))
