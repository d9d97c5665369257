"""SQS source: S3 object events from a queue, each message deleted only once its documents are stored.

Options: ``queue_url`` (required; ``SQS_QUEUE_URL``), ``dlq_url`` (checked by
``check()``), ``bucket`` (``S3_BUCKET``) and ``allowed_buckets`` (the only buckets
that are ever fetched), ``visibility_timeout`` (seconds; default
``SQS_VISIBILITY_TIMEOUT`` or 600), ``wait_seconds`` (long-poll wait, 0–20,
default 20), ``region``, ``max_file_size_mb`` (default ``MAX_FILE_SIZE_MB`` or 100).

How a message travels:

* **Receive** asks for ``min(10, free_slots())`` messages, so no message waits
  unleased behind a busy worker. Every received message is handed to the
  :class:`~.visibility_heartbeat.VisibilityHeartbeat` at once, before parsing.
* **Parse** (:mod:`.sqs_messages`): a message names zero or more objects. Zero
  (``s3:TestEvent``) is deleted at once. A body that cannot be parsed becomes one
  item whose ``fetch`` raises ``InvalidMessage``; an object in a bucket that is
  not allowed becomes an item whose ``fetch`` raises ``Forbidden`` without any
  S3 call. Both end as failure records, and the message is deleted: no crash loop.
* **Finish**: a message whose N items are all acknowledged is deleted (batched,
  every entry checked, :mod:`.message_deleter`). If any of them was released,
  the message gets ChangeMessageVisibility(the longest delay asked for) and comes
  back whole once its items are all done; it is never re-sent, so the receive
  count grows and the redrive policy moves repeat offenders to the DLQ.

Stopping: the long poll runs on a helper thread and :meth:`SqsSource.items`
waits for it in short slices, so ``stop()`` takes effect within about
:data:`STOP_CHECK_SECONDS` even though a poll waits up to ``wait_seconds``. A poll
that answers after ``stop()`` has its messages released at once (visibility 0).
``close()`` waits for such a poll at most :data:`CLOSE_POLL_WAIT` seconds, not its
full wait: on a busy queue a poll answers at once, and on an idle one it almost
always answers empty. Only a message that arrives in the last seconds of a poll
outliving the process is left leased; it reappears after its visibility timeout,
one receive older. Then ``close()`` stops the heartbeat, releases every message
still in flight and flushes the deletes.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from pathlib import Path
from typing import Any, Iterator, Mapping

from extractkit import Document, Source, SourceItem, hookimpl
from extractkit.errors import ConfigError, Forbidden, InvalidMessage, ServiceUnreachable
from extractkit.hookspecs import RegisterClass

from ..options import reject_unknown, required_str
from .clients import READ_TIMEOUT, make_client, region_for
from .error_mapping import describe, is_aws_error
from .message_deleter import MessageDeleter
from .option_values import int_option, max_file_size_bytes, optional_str, str_list_option
from .s3_objects import fetch_object, s3_uri
from .sqs_items import InFlightMessage, MessageReceipt, event_item, invalid_message_item
from .sqs_messages import parse_body
from .visibility_heartbeat import VisibilityHeartbeat

log = logging.getLogger("extractkit.aws.sqs")

SECTION = "source"
OPTIONS = (
    "queue_url",
    "dlq_url",
    "bucket",
    "allowed_buckets",
    "visibility_timeout",
    "wait_seconds",
    "region",
    "max_file_size_mb",
)
#: How often items() looks up from a pending long poll to notice stop().
STOP_CHECK_SECONDS = 0.2
#: Longest pause between failed receives.
MAX_RECEIVE_BACKOFF = 30.0
#: Seconds close() waits for a long poll still under way (an idle queue's poll would hold it for wait_seconds).
CLOSE_POLL_WAIT = 2.0
#: SQS's ceiling for a visibility timeout (12 hours).
MAX_VISIBILITY = 43_200


class SqsSource(Source):
    """Receives S3 object events from SQS, with heartbeats, per-message acknowledgement and backoff."""

    name = "sqs"
    redelivers = True

    def __init__(self, options: Mapping[str, Any] | None = None) -> None:
        super().__init__(options)
        reject_unknown(SECTION, self.options, OPTIONS)
        self.queue_url = required_str(SECTION, self.options, "queue_url")
        self.dlq_url = optional_str(SECTION, self.options, "dlq_url")
        self.bucket = optional_str(SECTION, self.options, "bucket")
        self.allowed_buckets = frozenset(
            name for name in [self.bucket, *str_list_option(SECTION, self.options, "allowed_buckets")] if name
        )
        if not self.allowed_buckets:
            raise ConfigError(
                f"{SECTION}.bucket", "is required (S3_BUCKET): only the configured bucket and allowed_buckets are read"
            )
        self.visibility_timeout = int_option(
            SECTION,
            self.options,
            "visibility_timeout",
            600,
            minimum=1,
            maximum=MAX_VISIBILITY,
            variable="SQS_VISIBILITY_TIMEOUT",
        )
        self.wait_seconds = int_option(SECTION, self.options, "wait_seconds", 20, minimum=0, maximum=20)
        self.max_bytes = max_file_size_bytes(SECTION, self.options)
        region = region_for(self.options, self.queue_url)
        self.sqs = make_client("sqs", region, read_timeout=READ_TIMEOUT + self.wait_seconds)
        self.s3 = make_client("s3", region)
        self.heartbeat = VisibilityHeartbeat(self.sqs, self.queue_url, self.visibility_timeout)
        self._deleter: MessageDeleter | None = None
        self._poll: Future | None = None
        self._in_flight: dict[str, InFlightMessage] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._closed = False

    # -- receiving -----------------------------------------------------------

    def _start(self) -> None:
        if self._deleter is None:
            self._deleter = MessageDeleter(self.sqs, self.queue_url)
            self.heartbeat.start()

    def items(self) -> Iterator[SourceItem]:
        """Receive messages while not stopped and yield one item per object they name."""
        self._start()
        failures = 0
        while not self._stopping.is_set():
            try:
                batch = self._wait_for_poll(min(10, self.free_slots()))
            except Exception as error:
                failures += 1
                pause = min(MAX_RECEIVE_BACKOFF, 2.0 ** min(failures, 5))
                log.warning("SQS receive failed (%s); trying again in %.0f s", describe(error), pause)
                self._stopping.wait(pause)
                continue
            failures = 0
            for item in batch:
                if self._stopping.is_set():
                    return  # close() releases the messages of items never handed out
                yield item

    def _wait_for_poll(self, count: int) -> list[SourceItem]:
        """Run one receive on the helper thread; return early (with nothing) when stopped."""
        self._poll = self._start_poll(count)
        while True:
            try:
                return self._poll.result(timeout=STOP_CHECK_SECONDS)
            except FutureTimeout:
                if self._stopping.is_set():
                    return []

    def _start_poll(self, count: int) -> Future:
        """Receive on a daemon thread, so a poll outliving stop() never holds up the process's exit."""
        future: Future = Future()

        def poll() -> None:
            try:
                future.set_result(self._receive(count))
            except BaseException as error:
                future.set_exception(error)

        threading.Thread(target=poll, name="extractkit-sqs-receive", daemon=True).start()
        return future

    def _receive(self, count: int) -> list[SourceItem]:
        started = time.monotonic()
        response = self.sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=max(1, min(10, count)),
            WaitTimeSeconds=self.wait_seconds,
            VisibilityTimeout=self.visibility_timeout,
            MessageSystemAttributeNames=["ApproximateReceiveCount", "SentTimestamp"],
        )
        messages = response.get("Messages", [])
        for message in messages:  # every message of the batch is leased from now on
            self.heartbeat.track(message["ReceiptHandle"], message["MessageId"], started)
        items: list[SourceItem] = []
        for message in messages:
            items.extend(self._accept(message, started))
        if self._stopping.is_set() and items:
            handles = {item.receipt.receipt_handle for item in items}
            with self._lock:
                records = [self._in_flight.pop(handle) for handle in handles if handle in self._in_flight]
            log.info("released %d message(s) received while stopping", len(records))
            self._release(records)
            return []
        return items

    def _accept(self, message: Mapping[str, Any], received_at: float) -> list[SourceItem]:
        """Register one message and turn it into items (none for a test event)."""
        handle, message_id = message["ReceiptHandle"], message["MessageId"]
        receive_count = int((message.get("Attributes") or {}).get("ApproximateReceiveCount") or 1)
        record = InFlightMessage(message_id, handle, received_at, receive_count)
        try:
            events = parse_body(message.get("Body", ""))
        except InvalidMessage as error:
            log.warning("message %s is not understood: %s", message_id, error.message)
            items = [invalid_message_item(record, self.queue_url, error)]
        else:
            items = [event_item(record, index, event, self.allowed_buckets) for index, event in enumerate(events)]
        if not items:
            log.info("message %s names no object (s3:TestEvent); deleted", message_id)
            self.heartbeat.untrack(handle)
            assert self._deleter is not None
            self._deleter.delete(message_id, handle)
            return []
        record.outstanding = set(range(len(items)))
        with self._lock:
            self._in_flight[handle] = record
        return items

    # -- reading -------------------------------------------------------------

    def fetch(self, item: SourceItem, workdir: Path) -> Document:
        """Download the object an event names, after the message and bucket checks."""
        attributes = item.attributes
        if "invalid_message" in attributes:
            raise InvalidMessage(f"message {attributes['message_id']}: {attributes['invalid_message']}")
        bucket, key = attributes["bucket"], attributes["key"]
        if bucket not in self.allowed_buckets:
            raise Forbidden(
                f"{s3_uri(bucket, key)} is outside the allowed buckets (S3_BUCKET, allowed_buckets); it was not fetched"
            )
        document = fetch_object(self.s3, bucket, key, workdir, max_bytes=self.max_bytes, uri=item.uri)
        extra = {name: attributes.get(name) for name in ("sequencer", "event_time", "message_id")}
        return dataclasses.replace(document, source_metadata={**document.source_metadata, **extra})

    # -- settling ------------------------------------------------------------

    def ack(self, item: SourceItem) -> None:
        """The item's outcome is stored; the message is deleted once all its items are."""
        self._settle(item, None)

    def release(self, item: SourceItem, delay_seconds: int) -> None:
        """Hand the item back: its message becomes visible ``delay_seconds`` after all its items are done."""
        self._settle(item, max(0, min(MAX_VISIBILITY, int(delay_seconds))))

    def _settle(self, item: SourceItem, delay: int | None) -> None:
        receipt = item.receipt
        if not isinstance(receipt, MessageReceipt):
            raise ValueError(f"{item.uri} was not received by this SQS source")
        with self._lock:
            record = self._in_flight.get(receipt.receipt_handle)
            if record is None or receipt.index not in record.outstanding:
                log.warning("message %s was already settled; ignoring a second ack/release", receipt.message_id)
                return
            record.outstanding.discard(receipt.index)
            if delay is not None:
                record.release_delay = max(record.release_delay or 0, delay)
            if record.outstanding:
                return
            del self._in_flight[receipt.receipt_handle]
        self._finish(record)

    def _finish(self, record: InFlightMessage) -> None:
        self.heartbeat.untrack(record.receipt_handle)
        if record.release_delay is None:
            assert self._deleter is not None
            self._deleter.delete(record.message_id, record.receipt_handle)
            return
        try:
            self.sqs.change_message_visibility(
                QueueUrl=self.queue_url, ReceiptHandle=record.receipt_handle, VisibilityTimeout=record.release_delay
            )
        except Exception as error:
            if not is_aws_error(error):
                raise
            log.warning(
                "could not hand message %s back (%s); it reappears when its lease runs out",
                record.message_id,
                describe(error),
            )

    def _release_all(self) -> None:
        """Make every message still in flight visible again at once."""
        with self._lock:
            records, self._in_flight = list(self._in_flight.values()), {}
        self._release(records)

    def _release(self, records: list[InFlightMessage]) -> None:
        """Set visibility 0 on these messages, ten per call, checking every entry."""
        for record in records:
            self.heartbeat.untrack(record.receipt_handle)
        for start in range(0, len(records), 10):
            batch = records[start : start + 10]
            entries = [
                {"Id": str(index), "ReceiptHandle": record.receipt_handle, "VisibilityTimeout": 0}
                for index, record in enumerate(batch)
            ]
            try:
                response = self.sqs.change_message_visibility_batch(QueueUrl=self.queue_url, Entries=entries)
            except Exception as error:
                log.warning("could not release %d message(s): %s", len(batch), describe(error))
                continue
            for failed in response.get("Failed", []):
                message_id = batch[int(failed["Id"])].message_id
                log.warning("could not release message %s: %s", message_id, failed.get("Code"))

    # -- state -----------------------------------------------------------------

    def in_flight(self) -> int:
        """How many received messages are not settled yet."""
        with self._lock:
            return len(self._in_flight)

    def oldest_in_flight_seconds(self) -> float | None:
        """Age of the oldest unsettled message, ``None`` when there is none (for the metrics)."""
        with self._lock:
            if not self._in_flight:
                return None
            oldest = min(record.received_at for record in self._in_flight.values())
        return time.monotonic() - oldest

    def check(self) -> None:
        """Queue, DLQ and buckets must be reachable (GetQueueAttributes, HeadBucket); nothing is changed."""
        problems = []
        for role, url in (("queue", self.queue_url), ("DLQ", self.dlq_url)):
            if not url:
                continue
            try:
                self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
            except Exception as error:
                if not is_aws_error(error):
                    raise
                problems.append(f"SQS {role} {url} is not reachable: {describe(error)}")
        for bucket in sorted(self.allowed_buckets):
            try:
                self.s3.head_bucket(Bucket=bucket)
            except Exception as error:
                if not is_aws_error(error):
                    raise
                problems.append(f"S3 bucket '{bucket}' is not reachable: {describe(error)}")
        if problems:
            raise ServiceUnreachable("; ".join(problems))

    # -- shutting down -----------------------------------------------------------

    def stop(self) -> None:
        """Stop receiving; items() returns within about STOP_CHECK_SECONDS."""
        self._stopping.set()

    def close(self) -> None:
        """Stop the heartbeat, release every message still in flight (visibility 0), flush the deletes."""
        if self._closed:
            return
        self._closed = True
        self._stopping.set()
        poll_pending = False
        if self._poll is not None:
            try:
                self._poll.result(timeout=CLOSE_POLL_WAIT)
            except FutureTimeout:
                poll_pending = True
                log.info(
                    "a receive is still waiting on SQS; a message it brings is released at once while this process "
                    "lives, else it reappears after its visibility timeout"
                )
            except Exception:
                pass  # a failed receive holds no message
        self.heartbeat.stop()
        self._release_all()
        if self._deleter is not None:
            self._deleter.close()
        if not poll_pending:  # the pending receive still needs the client to release what it gets
            self.sqs.close()
        self.s3.close()


@hookimpl
def register_sources(register: RegisterClass) -> None:
    """Register the SQS source."""
    register(SqsSource)
