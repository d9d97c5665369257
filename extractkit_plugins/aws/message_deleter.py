"""Deleting acknowledged SQS messages in batches of ten, checking every entry.

DeleteMessageBatch answers 200 even when some entries failed, so each entry of
``Failed`` is looked at: ``ReceiptHandleIsInvalid`` means the lease was lost (the
message will come back and be processed again, which the sink absorbs), and is
logged; any other failure is retried on the next rounds, then logged as an
error. An entry missing from both lists counts as failed.

Deletes wait at most :attr:`MessageDeleter.linger` seconds for company; a full
batch goes at once. :meth:`MessageDeleter.close` flushes whatever is pending.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Any

from .error_mapping import describe

log = logging.getLogger("extractkit.aws.sqs")

BATCH_SIZE = 10
#: Rounds a delete is tried before it is given up (and logged).
MAX_ROUNDS = 4
GONE_CODES = frozenset({"ReceiptHandleIsInvalid"})
#: Seconds between rounds when some deletes failed.
RETRY_PAUSE = 0.5


@dataclass
class _PendingDelete:
    message_id: str
    receipt_handle: str
    rounds: int = 0


class MessageDeleter:
    """A background batcher for DeleteMessageBatch."""

    def __init__(self, client: Any, queue_url: str, *, linger: float = 0.05) -> None:
        self.client = client
        self.queue_url = queue_url
        self.linger = linger
        self._pending: list[_PendingDelete] = []
        self._condition = threading.Condition()
        self._closing = False
        self._thread = threading.Thread(target=self._run, name="extractkit-sqs-deleter", daemon=True)
        self._thread.start()
        #: Messages deleted, and deletes given up, for tests and metrics.
        self.deleted = 0
        self.abandoned = 0

    def delete(self, message_id: str, receipt_handle: str) -> None:
        """Queue a message for deletion (sent at once, in the caller's thread, after :meth:`close`)."""
        entry = _PendingDelete(message_id, receipt_handle)
        with self._condition:
            if not self._closing:
                self._pending.append(entry)
                self._condition.notify()
                return
        for _ in range(MAX_ROUNDS):
            if not self._send([entry]):
                return

    def pending(self) -> int:
        """How many deletes are waiting to be sent."""
        with self._condition:
            return len(self._pending)

    def _run(self) -> None:
        while True:
            with self._condition:
                while not self._pending and not self._closing:
                    self._condition.wait()
                if not self._pending and self._closing:
                    return
                if len(self._pending) < BATCH_SIZE and not self._closing:
                    self._condition.wait(self.linger)
                batch, self._pending = self._pending[:BATCH_SIZE], self._pending[BATCH_SIZE:]
            if batch:
                retry = self._send(batch)
                if retry:
                    with self._condition:
                        self._pending[:0] = retry
                        if not self._closing:
                            self._condition.wait(RETRY_PAUSE)  # let a struggling service breathe

    def _send(self, batch: list[_PendingDelete]) -> list[_PendingDelete]:
        """Send one batch; return the entries worth another round."""
        entries = [{"Id": str(index), "ReceiptHandle": entry.receipt_handle} for index, entry in enumerate(batch)]
        try:
            response = self.client.delete_message_batch(QueueUrl=self.queue_url, Entries=entries)
        except Exception as error:
            log.warning("DeleteMessageBatch of %d message(s) failed: %s", len(batch), describe(error))
            return self._again(batch, describe(error))
        succeeded = {entry["Id"] for entry in response.get("Successful", [])}
        failed = {entry["Id"]: entry for entry in response.get("Failed", [])}
        retry: list[_PendingDelete] = []
        for index, entry in enumerate(batch):
            entry_id = str(index)
            if entry_id in succeeded:
                self.deleted += 1
                continue
            problem = failed.get(entry_id)
            code = (problem or {}).get("Code", "no answer for this entry")
            if code in GONE_CODES:
                self.abandoned += 1
                log.warning("message %s could not be deleted (%s): it will be delivered again", entry.message_id, code)
                continue
            retry.extend(self._again([entry], code))
        return retry

    def _again(self, entries: list[_PendingDelete], reason: str) -> list[_PendingDelete]:
        again = []
        for entry in entries:
            entry.rounds += 1
            if entry.rounds >= MAX_ROUNDS:
                self.abandoned += 1
                log.error(
                    "message %s could not be deleted after %d tries (%s): it will be delivered again",
                    entry.message_id,
                    entry.rounds,
                    reason,
                )
            else:
                again.append(entry)
        return again

    def close(self, timeout: float = 30.0) -> None:
        """Send every pending delete (bounded by ``timeout``), then stop the thread."""
        with self._condition:
            self._closing = True
            self._condition.notify_all()
        self._thread.join(timeout)
        if self._thread.is_alive():
            log.error("%d SQS delete(s) were still pending at close; they will be delivered again", self.pending())
