"""Batched sink writes, confirmed record by record.

Extraction threads :meth:`SinkBatcher.submit` records; one writer thread groups
them into batches bounded by the sink's ``batch_max_records``,
``batch_max_bytes`` and ``batch_linger_seconds`` and calls
:meth:`~extractkit.interfaces.Sink.write_batch`. Each record's own answer
decides its fate, so one bad record touches only its own document:

- stored: the record's callback runs with ``stored=True`` (the pipeline acks);
- transient: the record is retried with the retry policy's backoff, in a later
  batch; when the attempts are spent the callback runs with the error;
- permanent, for a result: a failure record takes its place (stage ``sink``);
- permanent, for a failure record: it goes to the failure log, which counts as stored.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Callable

from .errors import DocumentError, SinkFailed, TransientError
from .failure_log import FailureLog
from .interfaces import Sink
from .models import FAILURE, RESULT, Failure, SinkRecord
from .retry import RetryPolicy

log = logging.getLogger("extractkit.pipeline")


@dataclass(frozen=True)
class SinkOutcome:
    """What became of one submitted record: ``record`` is what was finally stored (or not)."""

    record: SinkRecord
    stored: bool
    error: DocumentError | None = None


SinkCallback = Callable[[SinkOutcome], None]


@dataclass
class _Pending:
    record: SinkRecord
    callback: SinkCallback
    attempt: int = 1
    not_before: float = 0.0
    size: int = field(default=0)


class SinkBatcher:
    """Groups records into sink batches on one writer thread and reports each record's outcome."""

    def __init__(
        self,
        sink: Sink,
        retry: RetryPolicy,
        failure_log: FailureLog,
        *,
        max_pending: int | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.sink = sink
        self.retry = retry
        self.failure_log = failure_log
        self.max_records = max(1, int(getattr(sink, "batch_max_records", 100)))
        self.max_bytes = max(1, int(getattr(sink, "batch_max_bytes", 5 * 1024 * 1024)))
        self.linger = max(0.0, float(getattr(sink, "batch_linger_seconds", 0.05)))
        self.max_pending = max_pending or max(2 * self.max_records, 8)
        self._clock = clock
        self._queue: deque[_Pending] = deque()
        self._retrying: list[_Pending] = []
        self._first_queued_at: float | None = None
        self._condition = threading.Condition()
        self._closing = False
        self._abandon = False
        self._writing = 0
        self._thread = threading.Thread(target=self._run, name="extractkit-sink", daemon=True)
        self._thread.start()

    # -- producers ---------------------------------------------------------

    def submit(self, record: SinkRecord, callback: SinkCallback) -> None:
        """Queue a record; blocks while too many records wait (back-pressure on extraction)."""
        pending = _Pending(record, callback, size=record.estimated_bytes())
        with self._condition:
            while len(self._queue) + len(self._retrying) >= self.max_pending and not self._closing:
                self._condition.wait(0.5)
            if self._first_queued_at is None:
                self._first_queued_at = self._clock()
            self._queue.append(pending)
            self._condition.notify_all()

    def pending(self) -> int:
        """Records submitted and not yet finished."""
        with self._condition:
            return len(self._queue) + len(self._retrying) + self._writing

    def close(self, timeout: float | None = None) -> bool:
        """Write everything still queued, then stop; True when nothing was left unwritten."""
        with self._condition:
            self._closing = True
            self._condition.notify_all()
        self._thread.join(timeout)
        if self._thread.is_alive():
            with self._condition:
                self._abandon = True
                self._condition.notify_all()
            self._thread.join(5)
            return False
        return True

    # -- the writer thread ---------------------------------------------------

    def _run(self) -> None:
        while True:
            batch = self._next_batch()
            if batch is None:
                return
            self._write(batch)
            with self._condition:
                self._writing = 0
                self._condition.notify_all()

    def _next_batch(self) -> list[_Pending] | None:
        with self._condition:
            while True:
                if self._abandon:
                    return None
                now = self._clock()
                due = [p for p in self._retrying if p.not_before <= now]
                ready = self._queue and (
                    self._closing
                    or len(self._queue) >= self.max_records
                    or sum(p.size for p in self._queue) >= self.max_bytes
                    or now - (self._first_queued_at or now) >= self.linger
                )
                if ready or due:
                    return self._take(due)
                if self._closing and not self._queue and not self._retrying:
                    return None
                self._condition.wait(self._wait_seconds(now))

    def _wait_seconds(self, now: float) -> float:
        waits = [0.5]
        if self._queue and self._first_queued_at is not None:
            waits.append(self._first_queued_at + self.linger - now)
        waits.extend(p.not_before - now for p in self._retrying)
        return max(0.001, min(waits))

    def _take(self, due: list[_Pending]) -> list[_Pending]:
        batch: list[_Pending] = []
        size = 0
        for pending in due:
            if len(batch) >= self.max_records:
                break
            self._retrying.remove(pending)
            batch.append(pending)
            size += pending.size
        while (
            self._queue
            and len(batch) < self.max_records
            and (not batch or size + self._queue[0].size <= self.max_bytes)
        ):
            pending = self._queue.popleft()
            batch.append(pending)
            size += pending.size
        self._first_queued_at = self._clock() if self._queue else None
        self._writing = len(batch)
        self._condition.notify_all()
        return batch

    def _write(self, batch: list[_Pending]) -> None:
        records = [pending.record for pending in batch]
        try:
            answers = list(self.sink.write_batch(records))
            if len(answers) != len(records):
                raise SinkFailed(f"sink '{self.sink.name}' answered {len(answers)} times for {len(records)} records")
        except TransientError as error:
            answers = [error] * len(records)
        except DocumentError as error:
            answers = [error] * len(records)
        except Exception as error:  # a sink bug fails its records, never the writer thread
            log.exception("sink '%s' failed on a batch of %d records", self.sink.name, len(records))
            crash = SinkFailed(f"sink '{self.sink.name}' failed: {type(error).__name__}: {error}")
            answers = [crash] * len(records)
        for pending, answer in zip(batch, answers, strict=True):
            self._settle(pending, answer)

    def _settle(self, pending: _Pending, answer: DocumentError | None) -> None:
        if answer is None:
            self._finish(pending, SinkOutcome(pending.record, stored=True))
        elif isinstance(answer, TransientError):
            answer.attempts_made = pending.attempt
            if pending.attempt >= self.retry.attempts:
                self._finish(pending, SinkOutcome(pending.record, stored=False, error=answer))
                return
            pending.not_before = self._clock() + self.retry.delay(pending.attempt)
            pending.attempt += 1
            with self._condition:
                self._retrying.append(pending)
        elif pending.record.kind == RESULT:
            self._replace_with_failure(pending, answer)
        else:
            if pending.record.kind == FAILURE and pending.record.failure is not None:
                self.failure_log.write(pending.record.failure)
            else:
                log.error("sink '%s' refused to delete %s: %s", self.sink.name, pending.record.uri, answer)
            self._finish(pending, SinkOutcome(pending.record, stored=True, error=answer))

    def _replace_with_failure(self, pending: _Pending, error: DocumentError) -> None:
        if not isinstance(error, SinkFailed):
            error = SinkFailed(f"sink '{self.sink.name}' refused the document: {error.message}")
        failure = Failure.from_error(
            error,
            uri=pending.record.uri,
            stage="sink",
            plugin=getattr(self.sink, "name", ""),
            mime_type=pending.record.result.mime_type if pending.record.result else None,
        )
        replacement = SinkRecord.for_failure(failure, pending.record.attributes)
        with self._condition:
            self._queue.append(_Pending(replacement, pending.callback, size=replacement.estimated_bytes()))
            if self._first_queued_at is None:
                self._first_queued_at = self._clock()

    def _finish(self, pending: _Pending, outcome: SinkOutcome) -> None:
        try:
            pending.callback(outcome)
        except Exception:
            log.exception("handling the stored outcome of %s failed", pending.record.uri)
