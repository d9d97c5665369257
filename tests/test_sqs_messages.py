"""Parsing SQS message bodies: the seed's format, S3 notifications, SNS, EventBridge, test events and garbage."""

from __future__ import annotations

import json
from urllib.parse import quote_plus

import pytest

from extractkit.errors import InvalidMessage
from extractkit_plugins.aws.sqs_messages import (
    DELETE,
    EVENTBRIDGE,
    S3_NOTIFICATION,
    SEED,
    SNS,
    UPSERT,
    parse_body,
)

AWKWARD_KEYS = [
    "plain/report.pdf",
    "with space/年次 報告.pdf",
    "c++/notes+draft.txt",
    "literal%2Bpercent.txt",
    "a&b=c;d/e?.docx",
    "日本語/フォルダ/資料（最終）.xlsx",
    "deep/" * 12 + "leaf.txt",
    "../escape/../../etc/passwd",
    "/leading/slash.txt",
]


def s3_record(key: str, event_name: str = "ObjectCreated:Put", *, bucket: str = "files", size: int = 1234) -> dict:
    """A record as Amazon S3 sends it (the key form-URL-encoded, as S3 does)."""
    obj = {
        "key": quote_plus(key, safe="/"),
        "eTag": "0123456789abcdef0123456789abcdef",
        "versionId": "3HL4kqtJlcpXroDTDmjVBH40Nrjfkd",
        "sequencer": "0055AED6DCD90281E5",
    }
    if event_name.startswith("ObjectCreated"):
        obj["size"] = size
    return {
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "awsRegion": "ap-northeast-1",
        "eventTime": "2026-11-30T09:15:42.123Z",
        "eventName": event_name,
        "userIdentity": {"principalId": "AWS:AIDAJDPLRKLG7UEXAMPLE"},
        "requestParameters": {"sourceIPAddress": "203.0.113.7"},
        "responseElements": {"x-amz-request-id": "C3D13FE58DE4C810", "x-amz-id-2": "FMyUVURIY8/IgAtTv8xRjskZQpcIZ9"},
        "s3": {
            "s3SchemaVersion": "1.0",
            "configurationId": "extractkit-notify",
            "bucket": {
                "name": bucket,
                "ownerIdentity": {"principalId": "A3NL1KOZZKExample"},
                "arn": f"arn:aws:s3:::{bucket}",
            },
            "object": obj,
        },
    }


def s3_notification(*records: dict) -> str:
    return json.dumps({"Records": list(records)})


def sns_wrapped(inner: str) -> str:
    return json.dumps(
        {
            "Type": "Notification",
            "MessageId": "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324",
            "TopicArn": "arn:aws:sns:ap-northeast-1:123456789012:uploads",
            "Subject": "Amazon S3 Notification",
            "Message": inner,
            "Timestamp": "2026-11-30T09:15:42.456Z",
            "SignatureVersion": "1",
            "Signature": "EXAMPLEpH+DcEwjAPg8O9mY8dReBSwksfg2S7WKQcikcNKWLQjwu6A4VbeS0QHVCkhRS7fUQ==",
            "SigningCertURL": "https://sns.ap-northeast-1.amazonaws.com/SimpleNotificationService-0000000000000000000000.pem",
            "UnsubscribeURL": "https://sns.ap-northeast-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=arn:aws:sns:x",
        }
    )


def eventbridge(key: str, detail_type: str = "Object Created", *, bucket: str = "files") -> str:
    obj = {"key": key, "etag": "b1946ac92492d2347c6235b4d2611184", "sequencer": "00617F08299329D189"}
    if detail_type == "Object Created":
        obj.update(size=5, **{"version-id": "IYV3p45BT0ac8hjHg1houSdS1a.Mro8e"})
    return json.dumps(
        {
            "version": "0",
            "id": "17793124-05d4-b198-2fde-7ededc63b103",
            "detail-type": detail_type,
            "source": "aws.s3",
            "account": "123456789012",
            "time": "2026-11-12T00:00:00Z",
            "region": "ap-northeast-1",
            "resources": [f"arn:aws:s3:::{bucket}"],
            "detail": {
                "version": "0",
                "bucket": {"name": bucket},
                "object": obj,
                "request-id": "N4N7GDK58NMKJ12R",
                "requester": "123456789012",
                "source-ip-address": "1.2.3.4",
                "reason": "PutObject" if detail_type == "Object Created" else "DeleteObject",
            },
        }
    )


TEST_EVENT = json.dumps(
    {
        "Service": "Amazon S3",
        "Event": "s3:TestEvent",
        "Time": "2026-11-30T09:00:00.000Z",
        "Bucket": "files",
        "RequestId": "5582815E1AEA5ADF",
        "HostId": "8cLeGAmw098X5cv4Zkwcmo8vvZa3eH3eKxsPzbB9wrR+YstdA6Knx4Ip8EXAMPLE",
    }
)


@pytest.mark.parametrize("key", AWKWARD_KEYS)
def test_seed_body_keeps_the_key_as_it_is(key):
    [event] = parse_body(json.dumps({"bucket": "files", "key": key}, ensure_ascii=False))
    assert (event.event, event.bucket, event.key, event.body_format) == (UPSERT, "files", key, SEED)
    assert event.size is None and event.sequencer is None


def test_seed_body_with_the_extra_fields_of_the_seed_smoke_test():
    [event] = parse_body('{"test": true, "bucket": "test-bucket", "key": "test.pdf"}')
    assert (event.bucket, event.key) == ("test-bucket", "test.pdf")


@pytest.mark.parametrize("key", AWKWARD_KEYS)
def test_s3_notification_keys_are_url_decoded(key):
    [event] = parse_body(s3_notification(s3_record(key)))
    assert event.key == key
    assert event.event == UPSERT and event.body_format == S3_NOTIFICATION
    assert event.size == 1234
    assert event.sequencer == "0055AED6DCD90281E5"
    assert event.version_id == "3HL4kqtJlcpXroDTDmjVBH40Nrjfkd"
    assert event.event_time == "2026-11-30T09:15:42.123Z"
    assert event.event_name == "ObjectCreated:Put"


def test_plus_is_a_space_and_percent_2b_is_a_plus():
    record = s3_record("x")
    record["s3"]["object"]["key"] = "c%2B%2B/my+notes%2Bdraft+%E5%B9%B4%E6%AC%A1.txt"
    [event] = parse_body(s3_notification(record))
    assert event.key == "c++/my notes+draft 年次.txt"


def test_ampersand_and_percent_encoded_japanese_decode():
    record = s3_record("x")
    record["s3"]["object"]["key"] = "R%26D/%E8%B3%87%E6%96%99+2026.pdf"
    assert parse_body(s3_notification(record))[0].key == "R&D/資料 2026.pdf"


def test_many_records_in_one_message_in_order():
    body = s3_notification(s3_record("a.txt"), s3_record("b.txt", "ObjectRemoved:Delete"), s3_record("c d.txt"))
    events = parse_body(body)
    assert [(e.key, e.event) for e in events] == [("a.txt", UPSERT), ("b.txt", DELETE), ("c d.txt", UPSERT)]
    assert events[1].size is None


@pytest.mark.parametrize(
    ("event_name", "kind"),
    [
        ("ObjectCreated:Put", UPSERT),
        ("ObjectCreated:CompleteMultipartUpload", UPSERT),
        ("ObjectCreated:Copy", UPSERT),
        ("ObjectRestore:Completed", UPSERT),
        ("ObjectRemoved:Delete", DELETE),
        ("ObjectRemoved:DeleteMarkerCreated", DELETE),
        ("LifecycleExpiration:Delete", DELETE),
    ],
)
def test_event_names_map_to_upsert_or_delete(event_name, kind):
    assert parse_body(s3_notification(s3_record("k.txt", event_name)))[0].event == kind


def test_an_event_that_is_neither_creation_nor_removal_is_named():
    with pytest.raises(InvalidMessage, match="ObjectTagging:Put"):
        parse_body(s3_notification(s3_record("k.txt", "ObjectTagging:Put")))


@pytest.mark.parametrize("key", AWKWARD_KEYS)
def test_sns_wrapped_s3_notification(key):
    [event] = parse_body(sns_wrapped(s3_notification(s3_record(key, bucket="uploads"))))
    assert (event.bucket, event.key, event.body_format) == ("uploads", key, SNS)


def test_sns_wrapped_test_event_names_nothing():
    assert parse_body(sns_wrapped(TEST_EVENT)) == []


def test_sns_whose_message_is_not_json():
    with pytest.raises(InvalidMessage, match="SNS notification's Message is not JSON"):
        parse_body(sns_wrapped("hello world"))


def test_sns_subscription_confirmation_is_invalid_and_says_so():
    body = json.dumps({"Type": "SubscriptionConfirmation", "Message": "You have chosen to subscribe", "Token": "x"})
    with pytest.raises(InvalidMessage, match="SubscriptionConfirmation"):
        parse_body(body)


@pytest.mark.parametrize("key", ["plain.txt", "with space/年次 報告.pdf", "c++/a+b.txt", "a&b.txt"])
def test_eventbridge_object_created_keys_are_plain(key):
    [event] = parse_body(eventbridge(key))
    assert (event.event, event.key, event.body_format) == (UPSERT, key, EVENTBRIDGE)
    assert event.size == 5
    assert event.version_id == "IYV3p45BT0ac8hjHg1houSdS1a.Mro8e"
    assert event.sequencer == "00617F08299329D189"
    assert event.event_time == "2026-11-12T00:00:00Z"


def test_eventbridge_object_deleted():
    [event] = parse_body(eventbridge("gone.pdf", "Object Deleted"))
    assert (event.event, event.key, event.size) == (DELETE, "gone.pdf", None)


def test_eventbridge_other_detail_types_are_named():
    with pytest.raises(InvalidMessage, match="Object Tags Added"):
        parse_body(eventbridge("k", "Object Tags Added"))


def test_eventbridge_from_another_source():
    body = json.loads(eventbridge("k"))
    body["source"] = "aws.ec2"
    with pytest.raises(InvalidMessage, match=r"aws\.ec2"):
        parse_body(json.dumps(body))


def test_s3_test_event_names_nothing():
    assert parse_body(TEST_EVENT) == []


@pytest.mark.parametrize(
    ("body", "complaint"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("not json at all", "not JSON"),
        ("[1, 2, 3]", "JSON list"),
        ('"just a string"', "JSON str"),
        ("{}", "keys: none"),
        ('{"hello": "world"}', "keys: hello"),
        ('{"bucket": "files"}', "'key'"),
        ('{"key": "a.txt"}', "'bucket'"),
        ('{"bucket": "", "key": "a.txt"}', "'bucket'"),
        ('{"bucket": "files", "key": 7}', "'key'"),
        ('{"Records": "nope"}', "not a list"),
        ('{"Records": []}', "empty 'Records'"),
        ('{"Records": [42]}', "record 0 is not an object"),
        ('{"Records": [{"eventName": "ObjectCreated:Put"}]}', "no 's3' section"),
        ('{"Records": [{"eventName": "ObjectCreated:Put", "s3": {"object": {"key": "k"}}}]}', "s3.bucket.name"),
        ('{"Records": [{"eventName": "ObjectCreated:Put", "s3": {"bucket": {"name": "b"}}}]}', "s3.object.key"),
        ('{"Records": [{"s3": {}}]}', "no eventName"),
        ('{"Type": "Notification", "Message": 5}', "no 'Message' string"),
        ('{"Type": "Notification", "Message": "[1]"}', "JSON list"),
        ('{"Type": "Notification", "Message": "{\\"a\\": 1}"}', "not an S3 event"),
        ("{" * 100_000 + "}" * 100_000, "not JSON"),
    ],
)
def test_bodies_that_are_none_of_the_formats_say_what_is_wrong(body, complaint):
    with pytest.raises(InvalidMessage) as raised:
        parse_body(body)
    assert complaint in raised.value.message
    assert raised.value.reason == "invalid_message"
    assert len(raised.value.message) < 300


def test_a_key_that_decodes_to_invalid_utf8_is_invalid():
    record = s3_record("x")
    record["s3"]["object"]["key"] = "bad%FF%FE.txt"
    with pytest.raises(InvalidMessage, match="URL-encoded UTF-8"):
        parse_body(s3_notification(record))


def test_a_bad_size_is_invalid():
    record = s3_record("x")
    record["s3"]["object"]["size"] = "lots"
    with pytest.raises(InvalidMessage, match="size"):
        parse_body(s3_notification(record))


def test_a_64_kb_event_with_many_records_parses():
    records = [s3_record(f"batch/{n:05d} 資料.txt") for n in range(100)]
    body = s3_notification(*records)
    assert len(body) > 60_000
    events = parse_body(body)
    assert len(events) == 100 and events[-1].key == "batch/00099 資料.txt"
