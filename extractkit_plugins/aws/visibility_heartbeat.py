"""One thread that keeps every in-flight SQS message invisible while its document is processed.

A message is tracked from the moment it is received (every message of a batch at
once, not when its item is taken up) until it is acknowledged or released. Each
message's visibility is extended to the full timeout again once a third of it
has passed, with ChangeMessageVisibilityBatch (ten at a time), so a lease never
runs short even when one round fails. Errors are logged and the thread carries
on; an entry SQS answers with ``ReceiptHandleIsInvalid`` (the message was
deleted, or delivered to someone else) is dropped from tracking.

:meth:`VisibilityHeartbeat.untrack` waits for an extension call that may carry
the message, so the caller's own ChangeMessageVisibility or delete comes after
it and a release is never undone by a late heartbeat.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable

from .error_mapping import describe

log = logging.getLogger("extractkit.aws.sqs")

#: Entries per ChangeMessageVisibilityBatch call (the SQS maximum).
BATCH_SIZE = 10
#: Failure codes that mean the lease is gone for good: stop extending it.
LOST_LEASE_CODES = frozenset({"ReceiptHandleIsInvalid", "MessageNotInflight", "InvalidParameterValue"})


@dataclass
class _Lease:
    message_id: str
    extended_at: float


class VisibilityHeartbeat:
    """Extends the visibility of every tracked message before it runs out."""

    def __init__(
        self,
        client: Any,
        queue_url: str,
        visibility_timeout: int,
        *,
        interval: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.queue_url = queue_url
        self.visibility_timeout = visibility_timeout
        #: Seconds between extensions of one message: a third of the timeout.
        self.interval = interval if interval is not None else max(0.2, visibility_timeout / 3)
        self._tick = min(1.0, self.interval / 4)
        self._clock = clock
        self._leases: dict[str, _Lease] = {}
        self._lock = threading.Lock()
        self._call_lock = threading.Lock()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        #: Extension calls made and entries extended, for tests and metrics.
        self.calls = 0
        self.extended = 0

    def start(self) -> None:
        """Start the thread (idempotent)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="extractkit-sqs-heartbeat", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Stop the thread; tracked messages are left as they are."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def track(self, receipt_handle: str, message_id: str, received_at: float | None = None) -> None:
        """Start extending a message (by its receipt handle) received at ``received_at`` (now by default)."""
        with self._lock:
            self._leases[receipt_handle] = _Lease(message_id, self._clock() if received_at is None else received_at)

    def untrack(self, receipt_handle: str) -> bool:
        """Stop extending a message; returns whether it was still tracked. Waits for a call carrying it."""
        with self._lock:
            lease = self._leases.pop(receipt_handle, None)
        with self._call_lock:
            pass
        return lease is not None

    def is_tracked(self, receipt_handle: str) -> bool:
        """Whether the message is still being extended (its lease was not lost)."""
        with self._lock:
            return receipt_handle in self._leases

    def tracked(self) -> int:
        """How many messages are being extended."""
        with self._lock:
            return len(self._leases)

    def _run(self) -> None:
        while not self._stopping.wait(self._tick):
            try:
                self.beat()
            except Exception:  # the heartbeat must outlive any one bad round
                log.exception("visibility heartbeat round failed; retrying on the next round")

    def beat(self) -> None:
        """Extend every message whose last extension is older than :attr:`interval`."""
        with self._call_lock:
            now = self._clock()
            with self._lock:
                due = [
                    (lease.message_id, handle)
                    for handle, lease in self._leases.items()
                    if now - lease.extended_at >= self.interval
                ]
            for start in range(0, len(due), BATCH_SIZE):
                self._extend(due[start : start + BATCH_SIZE], now)

    def _extend(self, batch: list[tuple[str, str]], started: float) -> None:
        entries = [
            {"Id": str(index), "ReceiptHandle": handle, "VisibilityTimeout": self.visibility_timeout}
            for index, (_, handle) in enumerate(batch)
        ]
        self.calls += 1
        try:
            response = self.client.change_message_visibility_batch(QueueUrl=self.queue_url, Entries=entries)
        except Exception as error:
            log.warning("visibility heartbeat for %d message(s) failed: %s", len(batch), describe(error))
            return
        succeeded = {entry["Id"] for entry in response.get("Successful", [])}
        failed = {entry["Id"]: entry for entry in response.get("Failed", [])}
        with self._lock:
            for index, (message_id, handle) in enumerate(batch):
                lease = self._leases.get(handle)
                if lease is None:
                    continue
                entry_id = str(index)
                if entry_id in succeeded:
                    lease.extended_at = started
                    self.extended += 1
                elif entry_id in failed and failed[entry_id].get("Code") in LOST_LEASE_CODES:
                    del self._leases[handle]
                    log.warning(
                        "message %s lost its lease (%s); it will be delivered again",
                        message_id,
                        failed[entry_id].get("Code"),
                    )
                else:
                    reason = failed.get(entry_id, {}).get("Code", "no answer for this entry")
                    log.warning("could not extend the visibility of message %s: %s", message_id, reason)
