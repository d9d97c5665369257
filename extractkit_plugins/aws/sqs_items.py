"""The bookkeeping of received SQS messages, and the source items made from them."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Collection

from extractkit.errors import InvalidMessage
from extractkit.models import SourceItem

from .s3_objects import object_name, s3_uri
from .sqs_messages import UPSERT, ObjectEvent

log = logging.getLogger("extractkit.aws.sqs")


@dataclass(frozen=True)
class MessageReceipt:
    """What an item needs to settle its message: the receipt handle, the message id, its index in the message."""

    receipt_handle: str
    message_id: str
    index: int


@dataclass
class InFlightMessage:
    """A received message not yet deleted or handed back, with the indexes of its unsettled items."""

    message_id: str
    receipt_handle: str
    received_at: float
    receive_count: int
    outstanding: set[int] = field(default_factory=set)
    #: The longest delay asked for by a released item; ``None`` while every settled item was acknowledged.
    release_delay: int | None = None


def _base_attributes(record: InFlightMessage) -> dict[str, Any]:
    return {"message_id": record.message_id, "receive_count": record.receive_count}


def invalid_message_item(record: InFlightMessage, queue_url: str, error: InvalidMessage) -> SourceItem:
    """The one item of a message that names no object we understand: its fetch raises the error."""
    queue_name = queue_url.rstrip("/").rsplit("/", 1)[-1]
    return SourceItem(
        uri=f"sqs://{queue_name}/{record.message_id}",
        name=f"message {record.message_id}",
        receipt=MessageReceipt(record.receipt_handle, record.message_id, 0),
        attributes={**_base_attributes(record), "invalid_message": error.message},
    )


def event_item(record: InFlightMessage, index: int, event: ObjectEvent, allowed_buckets: Collection[str]) -> SourceItem:
    """The item for one object event; an event for a bucket that is not allowed is logged here."""
    allowed = event.bucket in allowed_buckets
    if not allowed:
        log.warning(
            "message %s names %s, outside the allowed buckets; it is recorded as forbidden and not fetched",
            record.message_id,
            s3_uri(event.bucket, event.key),
        )
    return SourceItem(
        uri=s3_uri(event.bucket, event.key),
        name=object_name(event.key),
        # A foreign bucket's item must fail as forbidden, never as too large or as a deletion.
        size=event.size if allowed else None,
        event=event.event if allowed else UPSERT,
        receipt=MessageReceipt(record.receipt_handle, record.message_id, index),
        attributes={
            **_base_attributes(record),
            "bucket": event.bucket,
            "key": event.key,
            "sequencer": event.sequencer,
            "event_time": event.event_time,
            "version_id": event.version_id,
            "event_name": event.event_name,
        },
    )
