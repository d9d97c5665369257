"""The S3 and SQS sources against real S3 and SQS servers (moto for S3, ElasticMQ for SQS, over the network).

Every test makes its own bucket and queues. Queue state is read back from the
server itself (ApproximateNumberOfMessages…, a plain ReceiveMessage), and calls
the sources make are counted through botocore's event hooks on their own clients.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import quote_plus

import pytest

from extractkit.errors import (
    ConfigError,
    DocumentGone,
    Forbidden,
    InvalidMessage,
    ServiceUnreachable,
    TooLarge,
)
from extractkit_plugins.aws.message_deleter import MessageDeleter
from extractkit_plugins.aws.s3_source import S3Source
from extractkit_plugins.aws.sqs_source import SqsSource
from extractkit_plugins.aws.visibility_heartbeat import VisibilityHeartbeat

from support.services import boto3_client, require_services

AWKWARD_KEYS = [
    "docs/plain.txt",
    "docs/with space.txt",
    "docs/c++ notes+draft.txt",
    "docs/R&D=1;2.txt",
    "docs/日本語/資料（最終）.txt",
    "docs/" + "deep/" * 10 + "leaf.txt",
    "docs/../escape.txt",
    "docs/%2B literal.txt",
]


@pytest.fixture(scope="module")
def s3():
    require_services()
    return boto3_client("s3")


@pytest.fixture(scope="module")
def sqs():
    require_services()
    return boto3_client("sqs")


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def bucket(s3):
    name = unique("ek-bucket")
    s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": "ap-northeast-1"})
    return name


def make_queue(sqs, *, visibility: int = 30, max_receives: int | None = None) -> tuple[str, str | None]:
    """A fresh queue (and its DLQ when ``max_receives`` is given)."""
    name = unique("ek-queue")
    attributes = {"VisibilityTimeout": str(visibility)}
    dlq_url = None
    if max_receives is not None:
        dlq_url = sqs.create_queue(QueueName=name + "-dlq")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        attributes["RedrivePolicy"] = json.dumps({"deadLetterTargetArn": arn, "maxReceiveCount": str(max_receives)})
    return sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"], dlq_url


def counts(sqs, url: str) -> tuple[int, int]:
    """(visible, in flight) as the server reports them."""
    names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"]
    return int(attributes[names[0]]), int(attributes[names[1]])


def wait_for(condition, timeout: float = 10.0, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    return condition()


def take(source, count: int, timeout: float = 15.0) -> list:
    """Pull ``count`` items from ``source.items()`` on a thread, giving up (and stopping it) after ``timeout``."""
    got: list = []
    iterator = source.items()

    def pump() -> None:
        for item in iterator:
            got.append(item)
            if len(got) >= count:
                return

    thread = threading.Thread(target=pump, daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        source.stop()
        thread.join(5)
    return got


def api_calls(client) -> list[str]:
    """Record the name of every API call ``client`` makes from now on."""
    calls: list[str] = []
    client.meta.events.register("before-call.*.*", lambda model, **_: calls.append(model.name))
    return calls


def sqs_source(queue_url: str, bucket: str, **options) -> SqsSource:
    return SqsSource({"queue_url": queue_url, "bucket": bucket, "wait_seconds": 1, **options})


@pytest.fixture
def sources():
    """Closes every source a test makes, even when it fails."""
    made: list = []
    yield made
    for source in made:
        source.close()


def s3_event(bucket: str, key: str, event_name: str = "ObjectCreated:Put", size: int = 5) -> str:
    obj = {"key": quote_plus(key, safe="/"), "size": size, "eTag": "x", "sequencer": "0055AED6DCD90281E5"}
    record = {
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "awsRegion": "ap-northeast-1",
        "eventTime": "2026-11-30T09:15:42.123Z",
        "eventName": event_name,
        "s3": {"s3SchemaVersion": "1.0", "bucket": {"name": bucket}, "object": obj},
    }
    return json.dumps({"Records": [record]})


# -- S3 source ---------------------------------------------------------------------------


def test_s3_prefix_lists_streams_and_records_metadata(s3, bucket, tmp_path):
    for number, key in enumerate(AWKWARD_KEYS):
        s3.put_object(Bucket=bucket, Key=key, Body=f"body {number} 本文".encode(), ContentType="text/plain")
    s3.put_object(Bucket=bucket, Key="docs/folder/", Body=b"")
    s3.put_object(Bucket=bucket, Key="elsewhere.txt", Body=b"not under the prefix")
    source = S3Source({"bucket": bucket, "prefix": "docs/"})
    items = list(source.items())
    assert sorted(item.attributes["key"] for item in items) == sorted(AWKWARD_KEYS)
    assert source.count_items() == len(AWKWARD_KEYS)
    workdir = tmp_path / "job"
    workdir.mkdir()
    for item in items:
        key = item.attributes["key"]
        number = AWKWARD_KEYS.index(key)
        assert item.uri == f"s3://{bucket}/{key}"
        assert item.size == len(f"body {number} 本文".encode())
        document = source.fetch(item, workdir)
        assert document.path.parent == workdir, "a key must never become a local path"
        assert document.path.read_bytes() == f"body {number} 本文".encode()
        assert document.path.stat().st_mode & 0o077 == 0
        meta = document.source_metadata
        assert (meta["bucket"], meta["key"], meta["size"], meta["content_type"]) == (
            bucket,
            key,
            item.size,
            "text/plain",
        )
        assert len(meta["etag"]) == 32 and '"' not in meta["etag"]
        assert meta["last_modified"].endswith("Z")
        assert isinstance(meta["last_modified_ms"], int) and meta["last_modified_ms"] > 1_600_000_000_000
    assert sorted(p.name for p in tmp_path.iterdir()) == ["job"], "nothing is written outside the workdir"
    source.close()


def test_s3_single_key(s3, bucket, tmp_path):
    s3.put_object(Bucket=bucket, Key="one/報告 書.txt", Body=b"hello")
    source = S3Source({"bucket": bucket, "key": "one/報告 書.txt"})
    [item] = list(source.items())
    assert (item.name, item.size) == ("報告 書.txt", 5)
    assert source.fetch(item, tmp_path).path.read_bytes() == b"hello"
    source.close()


def test_s3_object_over_the_limit_is_never_downloaded(s3, bucket, tmp_path, monkeypatch):
    from botocore.response import StreamingBody

    s3.put_object(Bucket=bucket, Key="big.bin", Body=b"x" * 5000)
    source = S3Source({"bucket": bucket, "key": "big.bin", "max_file_size_mb": 0.001})  # about 1 KB
    [item] = list(source.items())
    assert item.size == 5000, "the pipeline refuses it from the announced size"
    reads: list[str] = []
    monkeypatch.setattr(StreamingBody, "iter_chunks", lambda *_, **__: reads.append("iter_chunks") or iter(()))
    monkeypatch.setattr(StreamingBody, "read", lambda *_, **__: reads.append("read") or b"")
    calls = api_calls(source.client)
    with pytest.raises(TooLarge, match="not downloaded"):
        source.fetch(item, tmp_path)
    assert calls == ["GetObject"], "one request, no HEAD"
    assert reads == [], "the body is closed unread"
    assert list(tmp_path.iterdir()) == []
    source.close()


def test_s3_fetch_is_one_get_whose_metadata_describes_the_bytes_read(s3, bucket, tmp_path):
    import hashlib

    s3.put_object(Bucket=bucket, Key="moving.txt", Body=b"first")
    s3.put_object(Bucket=bucket, Key="moving.txt", Body=b"second version", ContentType="text/plain")
    source = S3Source({"bucket": bucket, "key": "moving.txt"})
    [item] = list(source.items())
    calls = api_calls(source.client)
    document = source.fetch(item, tmp_path)
    assert calls == ["GetObject"]
    body = document.path.read_bytes()
    assert body == b"second version"
    metadata = document.source_metadata
    assert metadata["etag"] == hashlib.md5(body).hexdigest(), "a single-part ETag is the MD5 of these bytes"
    assert (metadata["size"], metadata["content_type"]) == (len(body), "text/plain")
    assert metadata["last_modified"].endswith("Z") and metadata["last_modified_ms"] > 0
    source.close()


def test_s3_download_stops_at_the_limit_even_when_the_headers_said_less(s3, bucket, tmp_path):
    from extractkit.errors import NetworkError
    from extractkit_plugins.aws.s3_objects import copy_body

    s3.put_object(Bucket=bucket, Key="grown.bin", Body=b"g" * 3000)
    target = tmp_path / "doc"
    body = s3.get_object(Bucket=bucket, Key="grown.bin")["Body"]
    with pytest.raises(TooLarge):
        copy_body(body, target, expected=10, name="grown.bin", max_bytes=1000, what="GET grown.bin")
    assert not target.exists(), "a partial download is removed"
    body = s3.get_object(Bucket=bucket, Key="grown.bin")["Body"]
    with pytest.raises(NetworkError, match="stopped after 3000 of 5000 bytes"):
        copy_body(body, target, expected=5000, name="grown.bin", max_bytes=10_000, what="GET grown.bin")
    assert not target.exists(), "a short download is removed"


def test_s3_missing_object_is_gone(bucket, tmp_path):
    source = S3Source({"bucket": bucket, "key": "never/was.txt"})
    [item] = list(source.items())
    with pytest.raises(DocumentGone):
        source.fetch(item, tmp_path)
    source.close()


def test_s3_check_and_options(bucket):
    S3Source({"bucket": bucket}).check()
    with pytest.raises(ServiceUnreachable, match="no-such-bucket") as raised:
        S3Source({"bucket": unique("no-such-bucket")}).check()
    assert "\n" not in str(raised.value)
    with pytest.raises(ConfigError, match=r"source\.prefx"):
        S3Source({"bucket": bucket, "prefx": "a/"})
    with pytest.raises(ConfigError, match=r"source\.bucket"):
        S3Source({"prefix": "a/"})


# -- SQS source: bodies, fetch and acknowledgement -------------------------------------------


def test_every_body_format_is_fetched_and_acked(s3, sqs, bucket, tmp_path, sources):
    key = "in/年次 報告+c++&co.txt"
    s3.put_object(Bucket=bucket, Key=key, Body=b"content")
    queue, _ = make_queue(sqs)
    eventbridge = {
        "version": "0",
        "detail-type": "Object Created",
        "source": "aws.s3",
        "time": "2026-11-12T00:00:00Z",
        "detail": {"bucket": {"name": bucket}, "object": {"key": key, "size": 7, "sequencer": "00617F"}},
    }
    bodies = [
        json.dumps({"bucket": bucket, "key": key}, ensure_ascii=False),
        s3_event(bucket, key, size=7),
        json.dumps({"Type": "Notification", "Message": s3_event(bucket, key, size=7)}),
        json.dumps(eventbridge, ensure_ascii=False),
    ]
    for body in bodies:
        sqs.send_message(QueueUrl=queue, MessageBody=body)
    source = sqs_source(queue, bucket)
    sources.append(source)
    source.bind_capacity(lambda: 10)
    items = take(source, 4)
    assert len(items) == 4
    assert counts(sqs, queue) == (0, 4)
    for item in items:
        assert item.uri == f"s3://{bucket}/{key}" and item.event == "upsert"
        assert item.attributes["bucket"] == bucket and item.attributes["key"] == key
        assert item.attributes["receive_count"] == 1 and item.attributes["message_id"]
        document = source.fetch(item, tmp_path)
        assert document.path.read_bytes() == b"content"
        assert document.source_metadata["message_id"] == item.attributes["message_id"]
        source.ack(item)
    assert wait_for(lambda: counts(sqs, queue) == (0, 0)), counts(sqs, queue)
    assert source.in_flight() == 0


def test_test_event_is_deleted_and_never_yielded(sqs, bucket, sources):
    queue, _ = make_queue(sqs)
    sqs.send_message(QueueUrl=queue, MessageBody=json.dumps({"Service": "Amazon S3", "Event": "s3:TestEvent"}))
    sqs.send_message(QueueUrl=queue, MessageBody=json.dumps({"bucket": bucket, "key": "real.txt"}))
    source = sqs_source(queue, bucket)
    sources.append(source)
    source.bind_capacity(lambda: 10)
    [item] = take(source, 1)
    assert item.attributes["key"] == "real.txt"
    assert wait_for(lambda: counts(sqs, queue) == (0, 1)), "the test event is deleted, the real one in flight"


def test_foreign_bucket_is_forbidden_without_any_s3_call(s3, sqs, bucket, tmp_path, sources, caplog):
    other = unique("ek-other")
    s3.create_bucket(Bucket=other, CreateBucketConfiguration={"LocationConstraint": "ap-northeast-1"})
    s3.put_object(Bucket=other, Key="secret.txt", Body=b"secret")
    queue, _ = make_queue(sqs)
    sqs.send_message(QueueUrl=queue, MessageBody=json.dumps({"bucket": other, "key": "secret.txt"}))
    sqs.send_message(QueueUrl=queue, MessageBody=s3_event(other, "secret.txt", "ObjectRemoved:Delete"))
    source = sqs_source(queue, bucket)
    sources.append(source)
    source.bind_capacity(lambda: 10)
    s3_calls = api_calls(source.s3)
    with caplog.at_level(logging.WARNING, logger="extractkit.aws.sqs"):
        items = take(source, 2)
    assert len(items) == 2
    for item in items:
        assert item.event == "upsert", "a foreign delete must not reach the sink as a deletion"
        assert item.size is None
        with pytest.raises(Forbidden, match="outside the allowed buckets"):
            source.fetch(item, tmp_path)
        source.ack(item)
    assert s3_calls == []
    assert "outside the allowed buckets" in caplog.text
    assert list(tmp_path.iterdir()) == []
    assert wait_for(lambda: counts(sqs, queue) == (0, 0))


def test_allowed_buckets_option_admits_a_second_bucket(s3, sqs, bucket, tmp_path, sources):
    second = unique("ek-second")
    s3.create_bucket(Bucket=second, CreateBucketConfiguration={"LocationConstraint": "ap-northeast-1"})
    s3.put_object(Bucket=second, Key="ok.txt", Body=b"ok")
    queue, _ = make_queue(sqs)
    sqs.send_message(QueueUrl=queue, MessageBody=json.dumps({"bucket": second, "key": "ok.txt"}))
    source = sqs_source(queue, bucket, allowed_buckets=f"{second}, unused")
    sources.append(source)
    [item] = take(source, 1)
    assert source.fetch(item, tmp_path).path.read_bytes() == b"ok"


def test_unparseable_body_is_an_invalid_message_item_that_is_acked(sqs, bucket, tmp_path, sources):
    queue, _ = make_queue(sqs)
    sqs.send_message(QueueUrl=queue, MessageBody="this is not json")
    source = sqs_source(queue, bucket)
    sources.append(source)
    [item] = take(source, 1)
    assert item.uri.startswith("sqs://") and item.event == "upsert"
    with pytest.raises(InvalidMessage, match="not JSON"):
        source.fetch(item, tmp_path)
    source.ack(item)
    assert wait_for(lambda: counts(sqs, queue) == (0, 0))


def test_object_removed_event_is_a_delete_item_and_a_missing_object_is_gone(sqs, bucket, tmp_path, sources):
    queue, _ = make_queue(sqs)
    sqs.send_message(QueueUrl=queue, MessageBody=s3_event(bucket, "old/file one.txt", "ObjectRemoved:Delete"))
    sqs.send_message(QueueUrl=queue, MessageBody=json.dumps({"bucket": bucket, "key": "deleted-since.txt"}))
    source = sqs_source(queue, bucket)
    sources.append(source)
    source.bind_capacity(lambda: 10)
    items = {item.attributes["key"]: item for item in take(source, 2)}
    removed = items["old/file one.txt"]
    assert removed.event == "delete" and removed.attributes["sequencer"] == "0055AED6DCD90281E5"
    with pytest.raises(DocumentGone):
        source.fetch(items["deleted-since.txt"], tmp_path)


def test_event_size_over_the_limit_is_announced_and_fetch_never_downloads(s3, sqs, bucket, tmp_path, sources):
    s3.put_object(Bucket=bucket, Key="big.bin", Body=b"y" * 4096)
    queue, _ = make_queue(sqs)
    sqs.send_message(QueueUrl=queue, MessageBody=s3_event(bucket, "big.bin", size=4096))
    source = sqs_source(queue, bucket, max_file_size_mb="0.001")
    sources.append(source)
    calls = api_calls(source.s3)
    [item] = take(source, 1)
    assert item.size == 4096
    with pytest.raises(TooLarge, match="not downloaded"):
        source.fetch(item, tmp_path)
    assert calls == ["GetObject"], "one GET, whose body is closed unread"
    assert list(tmp_path.iterdir()) == []


def test_one_message_with_many_records_is_deleted_after_its_last_item(s3, sqs, bucket, sources):
    queue, _ = make_queue(sqs)
    records = [json.loads(s3_event(bucket, f"multi/{n}.txt"))["Records"][0] for n in range(3)]
    sqs.send_message(QueueUrl=queue, MessageBody=json.dumps({"Records": records}))
    source = sqs_source(queue, bucket)
    sources.append(source)
    items = take(source, 3)
    assert [item.attributes["key"] for item in items] == [f"multi/{n}.txt" for n in range(3)]
    source.ack(items[0])
    source.ack(items[2])
    time.sleep(0.3)
    assert counts(sqs, queue) == (0, 1) and source.in_flight() == 1
    source.ack(items[1])
    assert wait_for(lambda: counts(sqs, queue) == (0, 0))
    source.ack(items[1])  # a second ack is harmless


def test_release_changes_visibility_and_never_resends(sqs, bucket, sources):
    queue, _ = make_queue(sqs, visibility=60)
    sqs.send_message(QueueUrl=queue, MessageBody=json.dumps({"bucket": bucket, "key": "retry.txt"}))
    source = sqs_source(queue, bucket)
    sources.append(source)
    [item] = take(source, 1)
    first_id = item.attributes["message_id"]
    source.release(item, 2)
    time.sleep(0.5)
    assert counts(sqs, queue) == (0, 1), "still invisible during the delay"
    assert wait_for(lambda: counts(sqs, queue) == (1, 0), timeout=6), "visible again after the delay"
    [again] = take(source, 1)
    assert again.attributes["message_id"] == first_id, "the same message, not a new one"
    assert again.attributes["receive_count"] == 2


def test_repeated_releases_reach_the_dlq_through_the_redrive_policy(sqs, bucket, sources):
    queue, dlq = make_queue(sqs, max_receives=2)
    sqs.send_message(QueueUrl=queue, MessageBody=json.dumps({"bucket": bucket, "key": "poison.txt"}))
    source = sqs_source(queue, bucket, dlq_url=dlq)
    sources.append(source)
    for attempt in (1, 2):
        [item] = take(source, 1)
        assert item.attributes["receive_count"] == attempt
        source.release(item, 0)
    assert take(source, 1, timeout=3) == []
    assert wait_for(lambda: counts(sqs, dlq) == (1, 0)), "moved to the DLQ after maxReceiveCount receives"
    assert counts(sqs, queue) == (0, 0)


@pytest.mark.slow
def test_heartbeat_keeps_a_whole_batch_invisible(sqs, bucket, sources):
    queue, _ = make_queue(sqs, visibility=2)
    for n in range(10):
        sqs.send_message(QueueUrl=queue, MessageBody=json.dumps({"bucket": bucket, "key": f"held/{n}.txt"}))
    source = sqs_source(queue, bucket, visibility_timeout=2)
    sources.append(source)
    source.bind_capacity(lambda: 10)
    items = take(source, 10)
    assert len(items) == 10
    assert source.in_flight() == 10
    time.sleep(5)  # more than twice the visibility timeout
    assert sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", []) == []
    assert counts(sqs, queue) == (0, 10)
    assert source.heartbeat.extended >= 20, source.heartbeat.extended
    assert source.oldest_in_flight_seconds() >= 5
    for item in items:
        source.ack(item)
    assert wait_for(lambda: counts(sqs, queue) == (0, 0))
    assert source.oldest_in_flight_seconds() is None


def test_receives_only_as_many_as_there_are_free_slots(sqs, bucket, sources):
    queue, _ = make_queue(sqs)
    for n in range(10):
        sqs.send_message(QueueUrl=queue, MessageBody=json.dumps({"bucket": bucket, "key": f"slot/{n}.txt"}))
    source = sqs_source(queue, bucket)
    sources.append(source)
    source.bind_capacity(lambda: 3)
    items = take(source, 3)
    assert len(items) == 3
    assert counts(sqs, queue) == (7, 3)


def test_close_makes_unfinished_messages_visible_at_once(sqs, bucket, sources):
    queue, _ = make_queue(sqs, visibility=600)
    for n in range(4):
        sqs.send_message(QueueUrl=queue, MessageBody=json.dumps({"bucket": bucket, "key": f"unfinished/{n}.txt"}))
    source = sqs_source(queue, bucket)
    source.bind_capacity(lambda: 10)
    items = take(source, 4)
    source.ack(items[0])
    started = time.monotonic()
    source.close()
    assert time.monotonic() - started < 5
    assert counts(sqs, queue) == (3, 0), "three released at once, the acked one deleted"


def test_stop_is_noticed_during_a_long_poll_and_a_late_poll_is_released(sqs, bucket, sources):
    queue, _ = make_queue(sqs, visibility=600)
    source = SqsSource({"queue_url": queue, "bucket": bucket, "wait_seconds": 20})
    sources.append(source)
    got: list = []
    thread = threading.Thread(target=lambda: got.extend(source.items()), daemon=True)
    thread.start()
    time.sleep(1.0)  # the long poll is waiting on the server now
    stopped_at = time.monotonic()
    source.stop()
    thread.join(5)
    assert not thread.is_alive() and time.monotonic() - stopped_at < 1.5
    closing_at = time.monotonic()
    source.close()
    assert time.monotonic() - closing_at < 3, "close() does not sit out the whole long poll"
    sqs.send_message(QueueUrl=queue, MessageBody=json.dumps({"bucket": bucket, "key": "late.txt"}))
    assert wait_for(lambda: counts(sqs, queue) == (1, 0), timeout=25), "the orphaned poll's message is released"
    assert got == []


def test_check_reports_unreachable_queue_dlq_and_bucket_and_changes_nothing(sqs, bucket):
    queue, dlq = make_queue(sqs, max_receives=3)
    before = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["All"])["Attributes"]
    sqs_source(queue, bucket, dlq_url=dlq).check()
    after = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["All"])["Attributes"]
    assert {k: v for k, v in before.items() if "Timestamp" not in k} == {
        k: v for k, v in after.items() if "Timestamp" not in k
    }
    missing_queue = queue.rsplit("/", 1)[0] + "/" + unique("absent")
    with pytest.raises(ServiceUnreachable) as raised:
        sqs_source(missing_queue, unique("absent-bucket"), dlq_url=dlq).check()
    message = str(raised.value)
    assert "SQS queue" in message and "S3 bucket 'absent-bucket" in message and "\n" not in message


def test_sqs_options_are_validated(sqs, bucket, monkeypatch):
    queue, _ = make_queue(sqs)
    with pytest.raises(ConfigError, match=r"source\.queue_ur"):
        SqsSource({"queue_ur": queue, "bucket": bucket})
    with pytest.raises(ConfigError, match=r"source\.bucket"):
        SqsSource({"queue_url": queue})
    with pytest.raises(ConfigError, match=r"source\.wait_seconds"):
        SqsSource({"queue_url": queue, "bucket": bucket, "wait_seconds": 30})
    monkeypatch.setenv("SQS_VISIBILITY_TIMEOUT", "45")
    assert SqsSource({"queue_url": queue, "bucket": bucket}).visibility_timeout == 45
    monkeypatch.setenv("SQS_VISIBILITY_TIMEOUT", "soon")
    with pytest.raises(ConfigError, match="SQS_VISIBILITY_TIMEOUT"):
        SqsSource({"queue_url": queue, "bucket": bucket})


# -- the helpers, on their own against the real server -----------------------------------------


def test_batch_delete_checks_every_entry(sqs, caplog):
    queue, _ = make_queue(sqs)
    sqs.send_message(QueueUrl=queue, MessageBody="one")
    [message] = sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=1)["Messages"]
    deleter = MessageDeleter(sqs, queue)
    with caplog.at_level(logging.WARNING, logger="extractkit.aws.sqs"):
        deleter.delete(message["MessageId"], message["ReceiptHandle"])
        deleter.delete("made-up", "not-a-receipt-handle")
        deleter.close()
    assert (deleter.deleted, deleter.abandoned) == (1, 1)
    assert "made-up" in caplog.text and "ReceiptHandleIsInvalid" in caplog.text
    assert counts(sqs, queue) == (0, 0)


def test_heartbeat_drops_an_invalid_receipt_and_extends_the_rest(sqs):
    queue, _ = make_queue(sqs, visibility=2)
    sqs.send_message(QueueUrl=queue, MessageBody="kept")
    [message] = sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=1, VisibilityTimeout=2)["Messages"]
    heartbeat = VisibilityHeartbeat(sqs, queue, 2, interval=0.0)
    heartbeat.track(message["ReceiptHandle"], message["MessageId"])
    heartbeat.track("not-a-receipt-handle", "made-up")
    heartbeat.beat()
    assert heartbeat.is_tracked(message["ReceiptHandle"]) and not heartbeat.is_tracked("not-a-receipt-handle")
    assert heartbeat.extended == 1


def test_workdir_is_the_only_place_written(s3, sqs, bucket, tmp_path, sources):
    s3.put_object(Bucket=bucket, Key="../../outside.txt", Body=b"x")
    s3.put_object(Bucket=bucket, Key="/abs/olute.txt", Body=b"y")
    queue, _ = make_queue(sqs)
    for key in ("../../outside.txt", "/abs/olute.txt"):
        sqs.send_message(QueueUrl=queue, MessageBody=json.dumps({"bucket": bucket, "key": key}))
    source = sqs_source(queue, bucket)
    sources.append(source)
    source.bind_capacity(lambda: 10)
    workdir = tmp_path / "a" / "job"
    workdir.mkdir(parents=True)
    for item in take(source, 2):
        document = source.fetch(item, workdir)
        assert Path(document.path).parent == workdir
    assert sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file()) == sorted(
        str(p.relative_to(tmp_path)) for p in workdir.iterdir()
    )


# -- through the real pipeline ----------------------------------------------------------------


def test_pipeline_with_the_sqs_source_stores_every_outcome_and_empties_the_queue(s3, sqs, bucket, tmp_path, plugins):
    from extractkit import ExtractOptions, Pipeline
    from extractkit_plugins.local.jsonl_sink import JsonlSink

    good = {"in/年次 報告+c&d.txt": "日本語の本文 and English text", "in/plain.txt": "hello world"}
    for key, text in good.items():
        s3.put_object(Bucket=bucket, Key=key, Body=text.encode())
    s3.put_object(Bucket=bucket, Key="in/big.txt", Body=b"z" * 4096)
    queue, dlq = make_queue(sqs, max_receives=3)
    bodies = [
        s3_event(bucket, "in/年次 報告+c&d.txt", size=len(good["in/年次 報告+c&d.txt"].encode())),
        json.dumps({"bucket": bucket, "key": "in/plain.txt"}),
        json.dumps({"Service": "Amazon S3", "Event": "s3:TestEvent"}),
        json.dumps({"bucket": "someone-elses", "key": "in/plain.txt"}),
        "garbage",
        json.dumps({"bucket": bucket, "key": "in/big.txt"}),
        s3_event(bucket, "in/removed.txt", "ObjectRemoved:Delete"),
        json.dumps({"bucket": bucket, "key": "in/never-existed.txt"}),
    ]
    for body in bodies:
        sqs.send_message(QueueUrl=queue, MessageBody=body)
    source = sqs_source(queue, bucket, dlq_url=dlq, visibility_timeout=30)
    output = tmp_path / "out.jsonl"
    sink = JsonlSink({"path": str(output)})
    pipeline = Pipeline(
        source,
        sink,
        plugins=plugins,
        options=ExtractOptions(max_file_size=1024),
        concurrency=2,
        temp_dir=tmp_path / "work",
    )
    runner = threading.Thread(target=pipeline.run, daemon=True)
    runner.start()
    try:
        assert wait_for(lambda: counts(sqs, queue) == (0, 0) and source.in_flight() == 0, timeout=30), counts(
            sqs, queue
        )
    finally:
        pipeline.stop()
        runner.join(10)
        source.close()
        sink.close()
    assert not runner.is_alive()
    lines = [json.loads(line) for line in output.read_text().splitlines()]
    results = {line["uri"]: line for line in lines if line["type"] == "result"}
    failures = {line["uri"]: line["reason"] for line in lines if line["type"] == "failure"}
    deletes = {line["uri"] for line in lines if line["type"] == "delete"}
    assert {uri: r["text"].strip() for uri, r in results.items()} == {
        f"s3://{bucket}/{key}": text for key, text in good.items()
    }
    assert failures["s3://someone-elses/in/plain.txt"] == "forbidden"
    assert failures[f"s3://{bucket}/in/big.txt"] == "too_large"
    assert [reason for uri, reason in failures.items() if uri.startswith("sqs://")] == ["invalid_message"]
    assert deletes == {f"s3://{bucket}/in/removed.txt", f"s3://{bucket}/in/never-existed.txt"}
    assert counts(sqs, dlq) == (0, 0)
