"""Source → fetch → extract → sink batch → acknowledge, with every document stored or recorded.

Up to ``concurrency`` items are extracted at once, and ``prefetch`` more are
fetched meanwhile, so network time overlaps extraction (the extraction
step is pluggable: ``executor``, which is how the runner moves it into isolated
child processes). Results and failure records go to the sink through a
:class:`~extractkit.batching.SinkBatcher`; each source item is acknowledged only
after its own record is confirmed. On :meth:`Pipeline.stop` no new item is
taken; items in flight finish until the drain deadline, and whatever has not
finished by then is released back to its source.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import shutil
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping

from .batching import SinkBatcher, SinkOutcome
from .embedded import extract_children
from .errors import DocumentError, DocumentGone, ExtractorCrashed, TooLarge, TransientError
from .executors import InProcessExecutor
from .failure_log import FailureLog
from .interfaces import Sink, Source
from .models import DELETE, Document, ExtractOptions, Failure, Outcome, SinkRecord, SourceItem
from .plugins import Plugins
from .processing import default_plugins, failure_from_error
from .retry import RetryPolicy, call_with_retries
from .stats import RunStats
from .tempfiles import DEFAULT_TEMP_DIR

log = logging.getLogger("extractkit.pipeline")

Executor = Callable[[Document], Outcome]
OutcomeCallback = Callable[[Outcome], None]


class _NotStarted(Exception):
    """A prefetched document was not extracted because the pipeline is stopping."""


class _InFlight:
    """The items taken from the source and not yet acknowledged or released."""

    def __init__(self) -> None:
        self._items: dict[int, SourceItem] = {}
        self._abandoned: set[int] = set()
        self._condition = threading.Condition()

    def add(self, item: SourceItem) -> None:
        with self._condition:
            self._items[id(item)] = item

    def finish(self, item: SourceItem) -> bool:
        """Forget the item; False when it was abandoned at the drain deadline (do not ack it)."""
        with self._condition:
            self._items.pop(id(item), None)
            abandoned = id(item) in self._abandoned
            self._abandoned.discard(id(item))
            self._condition.notify_all()
            return not abandoned

    def wait_empty(self, deadline: float | None) -> bool:
        with self._condition:
            while self._items:
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return False
                self._condition.wait(0.5 if remaining is None else min(0.5, remaining))
            return True

    def abandon_all(self) -> list[SourceItem]:
        with self._condition:
            items = list(self._items.values())
            self._abandoned.update(self._items)
            self._items.clear()
            return items

    def __len__(self) -> int:
        with self._condition:
            return len(self._items)


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
        prefetch: int | None = None,
        temp_dir: str | Path | None = None,
        failure_log: str | Path | None = None,
        retry: RetryPolicy | None = None,
        stats: RunStats | None = None,
        drain_timeout: float | None = None,
        skip_unchanged: bool = True,
    ) -> None:
        self.source = source
        self.sink = sink
        self.plugins = plugins or default_plugins()
        self.options = options or ExtractOptions()
        self.executor: Executor = executor or InProcessExecutor(self.plugins, self.options)
        self.concurrency = max(1, concurrency)
        #: Items fetched ahead while others are extracted (network time overlaps extraction);
        #: at most ``concurrency`` are ever extracted at once.
        self.prefetch = max(8, 2 * self.concurrency) if prefetch is None else max(0, prefetch)
        self._extract_slots = threading.BoundedSemaphore(self.concurrency)
        self.temp_dir = Path(temp_dir) if temp_dir else DEFAULT_TEMP_DIR
        self.failure_log = FailureLog(failure_log)
        self.retry = retry or RetryPolicy()
        self.stats = stats or RunStats()
        self.drain_timeout = drain_timeout
        #: Skip an item whose fingerprint matches the one the sink stored with it (``--force`` turns it off).
        self.skip_unchanged = skip_unchanged
        self._options_digest = hashlib.sha256(repr(self.options).encode("utf-8")).hexdigest()[:16]
        self._stopping = threading.Event()
        self._stop_deadline: float | None = None
        self._extracting = 0
        self._extracting_lock = threading.Lock()
        self._in_flight = _InFlight()
        self._batcher: SinkBatcher | None = None
        #: Items left unfinished at the drain deadline and handed back to the source.
        self.abandoned = 0

    # -- driving -----------------------------------------------------------

    def run(self, on_outcome: OutcomeCallback | None = None) -> RunStats:
        """Process items until the source is drained or :meth:`stop` is called and the drain ends."""
        self.temp_dir.mkdir(parents=True, exist_ok=True)
        slots = threading.BoundedSemaphore(self.capacity)
        self.source.bind_capacity(self.free_slots)
        self._batcher = SinkBatcher(self.sink, self.retry, self.failure_log)
        pool = ThreadPoolExecutor(max_workers=self.capacity, thread_name_prefix="extractkit-item")
        try:
            for item in self._take_items(slots):
                self._in_flight.add(item)
                with self._extracting_lock:
                    self._extracting += 1
                future = pool.submit(self._handle_item_guarded, item, on_outcome)
                future.add_done_callback(lambda _: self._slot_free(slots))
            drained = self._in_flight.wait_empty(self._stop_deadline)
            if not drained:
                self._abandon_unfinished()
        finally:
            pool.shutdown(wait=self._stop_deadline is None, cancel_futures=True)
            remaining = None if self._stop_deadline is None else max(1.0, self._stop_deadline - time.monotonic())
            if not self._batcher.close(remaining):
                self._abandon_unfinished()
        return self.stats

    def _take_items(self, slots: threading.BoundedSemaphore) -> Iterator[SourceItem]:
        """Yield source items, each only once a slot is free for it."""
        iterator = iter(self.source.items())
        while not self._stopping.is_set():
            while not slots.acquire(timeout=0.5):
                if self._stopping.is_set():
                    return
            try:
                item = next(iterator)
            except StopIteration:
                slots.release()
                return
            if self._stopping.is_set():
                slots.release()
                self._safe_release(item, 0)
                return
            yield item

    def _slot_free(self, slots: threading.BoundedSemaphore) -> None:
        with self._extracting_lock:
            self._extracting -= 1
        slots.release()

    def free_slots(self) -> int:
        """How many more items the pipeline can take right now."""
        with self._extracting_lock:
            return max(0, self.capacity - self._extracting)

    @property
    def capacity(self) -> int:
        """Items taken from the source at once: the extraction slots plus the prefetch."""
        return self.concurrency + self.prefetch

    def _extract(self, document: Document) -> Outcome:
        """Run the executor in one of the ``concurrency`` extraction slots.

        A prefetched document still waiting for a slot when the pipeline stops is not
        started: :class:`_NotStarted` hands its item straight back to the source.
        """
        while not self._extract_slots.acquire(timeout=0.2):
            if self._stopping.is_set() and document.depth == 0:
                raise _NotStarted
        try:
            return self.executor(document)
        finally:
            self._extract_slots.release()

    def in_flight(self) -> int:
        """Items taken from the source and not yet acknowledged or released."""
        return len(self._in_flight)

    def stop(self, drain_timeout: float | None = None) -> None:
        """Stop taking new items; items in flight finish within the drain deadline."""
        timeout = self.drain_timeout if drain_timeout is None else drain_timeout
        if not self._stopping.is_set() and timeout is not None:
            self._stop_deadline = time.monotonic() + timeout
        self._stopping.set()
        self.source.stop()

    def _abandon_unfinished(self) -> None:
        for item in self._in_flight.abandon_all():
            self.abandoned += 1
            log.warning("drain deadline reached; %s handed back to its source", item.uri)
            self._safe_release(item, 0)

    # -- one item ----------------------------------------------------------

    def _handle_item_guarded(self, item: SourceItem, on_outcome: OutcomeCallback | None) -> None:
        try:
            self.handle_item(item, on_outcome)
        except Exception as error:  # never let one item kill the loop; the item is not acked
            log.exception("unexpected error handling %s; released for redelivery", item.uri)
            crash = ExtractorCrashed(f"{item.uri}: the pipeline failed: {type(error).__name__}: {error}")
            self.failure_log.write(Failure.from_error(crash, uri=item.uri, stage="pipeline"))
            self._release_unstored(item)

    def handle_item(self, item: SourceItem, on_outcome: OutcomeCallback | None = None) -> None:
        """Fetch and extract one item, then hand its record to the sink batcher."""
        if item.event == DELETE:
            self._submit(item, Outcome(None, item.uri), SinkRecord.for_delete(item.uri, item.attributes), on_outcome)
            return
        fingerprint = self._fingerprint(item)
        if fingerprint is not None and self._unchanged(item, fingerprint):
            if self._in_flight.finish(item):
                self.source.ack(item)
            self.stats.record_unchanged()
            return
        started = time.perf_counter()
        children: list[Outcome] = []
        workdir = Path(tempfile.mkdtemp(prefix="job-", dir=self.temp_dir))
        try:
            try:
                self._check_announced_size(item)
                document = call_with_retries(lambda: self.source.fetch(item, workdir), self.retry)
            except DocumentGone:
                record = SinkRecord.for_delete(item.uri, item.attributes)
                self._submit(item, Outcome(None, item.uri), record, on_outcome)
                return
            except DocumentError as error:
                outcome = Outcome(None, item.uri, failure=failure_from_error(error, uri=item.uri, stage="fetch"))
            else:
                try:
                    outcome = self._extract(dataclasses.replace(document, workdir=workdir))
                except _NotStarted:
                    if self._in_flight.finish(item):
                        self._safe_release(item, 0)
                    return
                children = extract_children(outcome, self._extract, self.options)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
        outcome = dataclasses.replace(outcome, seconds=time.perf_counter() - started)
        failure = outcome.failure
        if failure is not None and failure.is_transient and self.source.redelivers:
            # The queue delivers it again later; its redrive policy bounds the attempts.
            self._release_unstored(item)
            self._report(outcome, on_outcome)
            return
        attributes = item.attributes if fingerprint is None else {**item.attributes, "fingerprint": fingerprint}
        parts = [(outcome, self._record_for(outcome, attributes))]
        parts.extend((child, self._record_for(child, {})) for child in children)
        self._submit_group(item, parts, on_outcome)

    def _fingerprint(self, item: SourceItem) -> str | None:
        """The source's fingerprint of the item together with the extract options (they change the result too)."""
        source_fingerprint = item.attributes.get("fingerprint")
        if not source_fingerprint:
            return None
        return f"{source_fingerprint};options={self._options_digest}"

    def _unchanged(self, item: SourceItem, fingerprint: str) -> bool:
        """True when the sink holds this item's result with the same fingerprint (optional ``Sink.fingerprints``)."""
        if not self.skip_unchanged:
            return False
        try:
            stored = self.sink.fingerprints([item.document_id])
        except Exception:  # not knowing means extracting again, never skipping
            log.warning("could not read the stored fingerprint of %s; it is extracted again", item.uri, exc_info=True)
            return False
        return stored.get(item.document_id) == fingerprint

    @staticmethod
    def _record_for(outcome: Outcome, attributes: Mapping[str, Any]) -> SinkRecord:
        if outcome.result is not None and outcome.document is not None:
            return SinkRecord.for_result(outcome.document, outcome.result, attributes)
        assert outcome.failure is not None
        return SinkRecord.for_failure(outcome.failure, attributes)

    def _submit(
        self, item: SourceItem, outcome: Outcome, record: SinkRecord, on_outcome: OutcomeCallback | None
    ) -> None:
        self._submit_group(item, [(outcome, record)], on_outcome)

    def _submit_group(
        self, item: SourceItem, parts: list[tuple[Outcome, SinkRecord]], on_outcome: OutcomeCallback | None
    ) -> None:
        """Hand one item's records (its own, plus its embedded documents') to the batcher; ack after all are stored."""
        assert self._batcher is not None, "handle_item runs inside Pipeline.run"
        remaining = [len(parts)]
        unstored: list[tuple[Outcome, DocumentError | None]] = []
        lock = threading.Lock()

        def settle(outcome: Outcome, record: SinkRecord, sink_outcome: SinkOutcome) -> None:
            final = outcome
            if sink_outcome.record is not record and sink_outcome.record.failure is not None:
                final = dataclasses.replace(outcome, result=None, failure=sink_outcome.record.failure)
            with lock:
                if not sink_outcome.stored:
                    unstored.append((final, sink_outcome.error))
                remaining[0] -= 1
                last = remaining[0] == 0
            if last:
                if unstored:
                    self._unstored(item, *unstored[0])
                elif self._in_flight.finish(item):
                    self.source.ack(item)
            if not sink_outcome.stored:
                return
            if record.kind == DELETE:
                self.stats.record_delete()
                if on_outcome is not None:
                    on_outcome(final)
                return
            self._report(final, on_outcome)

        for outcome, record in parts:
            self._batcher.submit(record, lambda answer, o=outcome, r=record: settle(o, r, answer))

    def _unstored(self, item: SourceItem, outcome: Outcome, error: DocumentError | None) -> None:
        """The sink could not take the record: keep it locally and hand the item back."""
        failure = outcome.failure
        if failure is None or not failure.is_transient:
            failure = Failure.from_error(
                error if isinstance(error, TransientError) else TransientError(str(error)),
                uri=item.uri,
                stage="sink",
                plugin=getattr(self.sink, "name", ""),
            )
        self.failure_log.write(failure)
        log.warning("the sink could not store %s (%s); released for retry", item.uri, error)
        self._release_unstored(item)

    def _report(self, outcome: Outcome, on_outcome: OutcomeCallback | None) -> None:
        if outcome.document is None and outcome.result is None and outcome.failure is None:
            return
        self.stats.record(outcome)
        if on_outcome is not None:
            on_outcome(outcome)

    def _check_announced_size(self, item: SourceItem) -> None:
        """Refuse an item whose announced size is over the limit before downloading it."""
        limit = self.options.max_file_size
        if item.size is not None and item.size > limit:
            raise TooLarge(
                f"{item.uri} is {item.size / 1e6:.1f} MB, over the {limit / 1e6:.0f} MB limit "
                "(MAX_FILE_SIZE_MB); it was not downloaded"
            )

    def _release_unstored(self, item: SourceItem) -> None:
        if self._in_flight.finish(item):
            deliveries = int(item.attributes.get("receive_count", 1) or 1)
            self._safe_release(item, self.retry.redelivery_delay(deliveries))

    def _safe_release(self, item: SourceItem, delay: int) -> None:
        try:
            self.source.release(item, delay)
        except Exception:
            log.exception("could not release %s; it will reappear when its lease expires", item.uri)
