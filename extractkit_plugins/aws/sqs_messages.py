"""Parsing SQS message bodies into object events.

Understood bodies:

* the seed's own ``{"bucket": "...", "key": "..."}`` (other keys ignored; the key as it is);
* S3 event notifications (``Records``), whose keys are form-URL-encoded: ``+`` is a
  space and ``%2B`` a plus, so they are decoded with ``unquote_plus``;
* the same wrapped in an SNS notification (``Type: Notification``, the event as a
  JSON string in ``Message``);
* EventBridge ``Object Created`` / ``Object Deleted`` events from ``aws.s3``
  (their keys are plain, not URL-encoded);
* ``s3:TestEvent``, which names no object: zero events, so the message is
  acknowledged and skipped (otherwise it loops forever).

``ObjectCreated:*`` and ``ObjectRestore:Completed`` are upserts; ``ObjectRemoved:*``
and ``LifecycleExpiration:*`` are deletes. Anything else raises
:class:`~extractkit.errors.InvalidMessage` saying what was wrong, so the message
ends as a failure record instead of coming back forever.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Mapping
from urllib.parse import unquote_plus

from extractkit.errors import InvalidMessage

UPSERT = "upsert"
DELETE = "delete"

SEED = "seed"
S3_NOTIFICATION = "s3"
SNS = "sns"
EVENTBRIDGE = "eventbridge"

_UPSERT_PREFIXES = ("ObjectCreated:", "ObjectRestore:Completed")
_DELETE_PREFIXES = ("ObjectRemoved:", "LifecycleExpiration:")
_EVENTBRIDGE_KINDS = {"Object Created": UPSERT, "Object Deleted": DELETE}
_SNIPPET = 80


@dataclass(frozen=True)
class ObjectEvent:
    """One object named by a message: what happened to which key, with ordering hints."""

    event: str
    bucket: str
    key: str
    size: int | None = None
    event_time: str | None = None
    sequencer: str | None = None
    version_id: str | None = None
    event_name: str = ""
    body_format: str = SEED


def _snippet(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _SNIPPET else text[:_SNIPPET] + "…"


def _keys_of(data: Mapping[str, Any]) -> str:
    names = sorted(str(name) for name in data)
    shown = ", ".join(names[:8])
    return shown + (", …" if len(names) > 8 else "") if names else "none"


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _size(value: Any, where: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool):
        raise InvalidMessage(f"{where}: size {value!r} is not a number")
    try:
        size = int(value)
    except (TypeError, ValueError):
        raise InvalidMessage(f"{where}: size {value!r} is not a number") from None
    if size < 0:
        raise InvalidMessage(f"{where}: size {size} is negative")
    return size


def _decoded_key(raw: str, where: str) -> str:
    try:
        key = unquote_plus(raw, errors="strict")
    except UnicodeDecodeError:
        raise InvalidMessage(f"{where}: object key {_snippet(raw)!r} is not valid URL-encoded UTF-8") from None
    if not key:
        raise InvalidMessage(f"{where}: the object key is empty")
    return key


def _load_json(text: str, what: str) -> Any:
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as error:
        raise InvalidMessage(f"{what} is not JSON ({error.__class__.__name__}): {_snippet(text)!r}") from error


def _is_test_event(data: Mapping[str, Any]) -> bool:
    return data.get("Event") == "s3:TestEvent"


def _s3_record(record: Any, index: int, body_format: str) -> ObjectEvent:
    where = f"S3 event record {index}"
    if not isinstance(record, Mapping):
        raise InvalidMessage(f"{where} is not an object")
    event_name = _text(record.get("eventName"))
    if event_name is None:
        raise InvalidMessage(f"{where} has no eventName")
    if event_name.startswith(_UPSERT_PREFIXES):
        kind = UPSERT
    elif event_name.startswith(_DELETE_PREFIXES):
        kind = DELETE
    else:
        raise InvalidMessage(f"{where}: event {event_name!r} is neither an object creation nor a removal")
    s3 = record.get("s3")
    if not isinstance(s3, Mapping):
        raise InvalidMessage(f"{where} ({event_name}) has no 's3' section")
    bucket = _text((s3.get("bucket") or {}).get("name") if isinstance(s3.get("bucket"), Mapping) else None)
    obj = s3.get("object") if isinstance(s3.get("object"), Mapping) else {}
    raw_key = _text(obj.get("key"))
    if bucket is None:
        raise InvalidMessage(f"{where} ({event_name}) has no s3.bucket.name")
    if raw_key is None:
        raise InvalidMessage(f"{where} ({event_name}) has no s3.object.key")
    return ObjectEvent(
        event=kind,
        bucket=bucket,
        key=_decoded_key(raw_key, where),
        size=_size(obj.get("size"), where) if kind == UPSERT else None,
        event_time=_text(record.get("eventTime")),
        sequencer=_text(obj.get("sequencer")),
        version_id=_text(obj.get("versionId")),
        event_name=event_name,
        body_format=body_format,
    )


def _s3_notification(data: Mapping[str, Any], body_format: str) -> list[ObjectEvent]:
    records = data.get("Records")
    if not isinstance(records, list):
        raise InvalidMessage("S3 event notification: 'Records' is not a list")
    if not records:
        raise InvalidMessage("S3 event notification has an empty 'Records' list")
    return [_s3_record(record, index, body_format) for index, record in enumerate(records)]


def _eventbridge(data: Mapping[str, Any]) -> list[ObjectEvent]:
    detail_type = data.get("detail-type")
    where = f"EventBridge event {detail_type!r}"
    if data.get("source") != "aws.s3":
        raise InvalidMessage(f"{where} comes from {data.get('source')!r}, not aws.s3")
    kind = _EVENTBRIDGE_KINDS.get(str(detail_type))
    if kind is None:
        raise InvalidMessage(f"{where} is neither 'Object Created' nor 'Object Deleted'")
    detail = data.get("detail")
    if not isinstance(detail, Mapping):
        raise InvalidMessage(f"{where} has no 'detail' object")
    bucket_section = detail.get("bucket") if isinstance(detail.get("bucket"), Mapping) else {}
    obj = detail.get("object") if isinstance(detail.get("object"), Mapping) else {}
    bucket = _text(bucket_section.get("name"))
    key = _text(obj.get("key"))
    if bucket is None:
        raise InvalidMessage(f"{where} has no detail.bucket.name")
    if key is None:
        raise InvalidMessage(f"{where} has no detail.object.key")
    return [
        ObjectEvent(
            event=kind,
            bucket=bucket,
            key=key,
            size=_size(obj.get("size"), where) if kind == UPSERT else None,
            event_time=_text(data.get("time")),
            sequencer=_text(obj.get("sequencer")),
            version_id=_text(obj.get("version-id")),
            event_name=str(detail_type),
            body_format=EVENTBRIDGE,
        )
    ]


def _sns(data: Mapping[str, Any]) -> list[ObjectEvent]:
    message = data.get("Message")
    if not isinstance(message, str):
        raise InvalidMessage("SNS notification has no 'Message' string")
    inner = _load_json(message, "SNS notification's Message")
    if not isinstance(inner, Mapping):
        raise InvalidMessage(f"SNS notification's Message is a JSON {type(inner).__name__}, not an object")
    if _is_test_event(inner):
        return []
    if "Records" in inner:
        return _s3_notification(inner, SNS)
    if "detail-type" in inner:
        return _eventbridge(inner)
    raise InvalidMessage(f"SNS notification's Message is not an S3 event (keys: {_keys_of(inner)})")


def _seed(data: Mapping[str, Any]) -> list[ObjectEvent]:
    bucket, key = data.get("bucket"), data.get("key")
    if not isinstance(bucket, str) or not bucket.strip():
        raise InvalidMessage("message 'bucket' must be a non-empty string")
    if not isinstance(key, str) or not key:
        raise InvalidMessage("message 'key' must be a non-empty string")
    return [ObjectEvent(event=UPSERT, bucket=bucket.strip(), key=key, body_format=SEED)]


def parse_body(body: str) -> list[ObjectEvent]:
    """The object events a message body names: none for ``s3:TestEvent``; :class:`InvalidMessage` if unknown."""
    if not isinstance(body, str) or not body.strip():
        raise InvalidMessage("the message body is empty")
    data = _load_json(body, "the message body")
    if not isinstance(data, Mapping):
        raise InvalidMessage(f"the message body is a JSON {type(data).__name__}, not an object")
    if _is_test_event(data):
        return []
    if data.get("Type") == "Notification" and "Message" in data:
        return _sns(data)
    if data.get("Type") in ("SubscriptionConfirmation", "UnsubscribeConfirmation"):
        raise InvalidMessage(f"SNS {data['Type']} names no object; confirm the subscription in SNS instead")
    if "Records" in data:
        return _s3_notification(data, S3_NOTIFICATION)
    if "detail-type" in data:
        return _eventbridge(data)
    if "bucket" in data or "key" in data:
        return _seed(data)
    raise InvalidMessage(
        "the message body is none of: {bucket, key}, an S3 event notification, SNS or EventBridge "
        f"(keys: {_keys_of(data)})"
    )
