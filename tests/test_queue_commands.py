"""``extractkit dlq replay`` and ``extractkit enqueue`` against real SQS and S3 servers."""

from __future__ import annotations

import json
import uuid

import pytest
from click.testing import CliRunner

from runner.queue_commands import dlq_group, enqueue_command, replay_dlq

from support.services import boto3_client, require_services


@pytest.fixture(scope="module")
def sqs():
    require_services()
    return boto3_client("sqs")


@pytest.fixture(scope="module")
def s3():
    require_services()
    return boto3_client("s3")


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def queues(sqs):
    """A main queue with a redrive policy to its own DLQ: (queue_url, dlq_url)."""
    name = unique("ek-cmd")
    dlq = sqs.create_queue(QueueName=name + "-dlq")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    policy = json.dumps({"deadLetterTargetArn": arn, "maxReceiveCount": "3"})
    queue = sqs.create_queue(QueueName=name, Attributes={"RedrivePolicy": policy})["QueueUrl"]
    return queue, dlq


def write_config(tmp_path, queue: str, dlq: str | None, bucket: str) -> str:
    lines = ["[source]", 'type = "sqs"', f'queue_url = "{queue}"', f'bucket = "{bucket}"']
    if dlq:
        lines.append(f'dlq_url = "{dlq}"')
    path = tmp_path / "worker.toml"
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def visible(sqs, url: str) -> int:
    attributes = sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(attributes["ApproximateNumberOfMessagesNotVisible"])


def drain(sqs, url: str) -> list[dict]:
    """Receive (and delete) everything in a queue; bounded."""
    messages = []
    for _ in range(50):
        batch = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0, MessageAttributeNames=["All"]
        ).get("Messages", [])
        if not batch:
            break
        messages.extend(batch)
        sqs.delete_message_batch(
            QueueUrl=url, Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(batch)]
        )
    return messages


def fill_dlq(sqs, dlq: str, count: int) -> list[str]:
    bodies = [json.dumps({"bucket": "files", "key": f"dead/{n} 資料.txt"}, ensure_ascii=False) for n in range(count)]
    for start in range(0, count, 10):
        entries = [
            {
                "Id": str(i),
                "MessageBody": body,
                "MessageAttributes": {"origin": {"DataType": "String", "StringValue": "upload"}},
            }
            for i, body in enumerate(bodies[start : start + 10])
        ]
        response = sqs.send_message_batch(QueueUrl=dlq, Entries=entries)
        assert not response.get("Failed")
    return bodies


def test_replay_moves_every_message_with_its_attributes(sqs, queues, tmp_path):
    queue, dlq = queues
    bodies = fill_dlq(sqs, dlq, 23)
    result = CliRunner().invoke(dlq_group, ["replay", "--config", write_config(tmp_path, queue, dlq, "files")])
    assert result.exit_code == 0, result.output
    assert "moved 23 of 23" in result.output
    assert visible(sqs, dlq) == 0
    moved = drain(sqs, queue)
    assert sorted(m["Body"] for m in moved) == sorted(bodies)
    assert all(m["MessageAttributes"]["origin"]["StringValue"] == "upload" for m in moved)


def test_replay_max_and_dry_run(sqs, queues, tmp_path):
    queue, dlq = queues
    fill_dlq(sqs, dlq, 15)
    config = write_config(tmp_path, queue, dlq, "files")
    dry = CliRunner().invoke(dlq_group, ["replay", "--config", config, "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "dry run: 15 message(s)" in dry.output and "upsert s3://files/dead/0 資料.txt" in dry.output
    assert visible(sqs, dlq) == 15 and visible(sqs, queue) == 0
    assert len(sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=10).get("Messages", [])) == 10, (
        "a dry run leaves the messages visible at once"
    )
    limited = CliRunner().invoke(dlq_group, ["replay", "--config", config, "--max", "4"])
    assert limited.exit_code == 0, limited.output
    assert "moved 4 of 4" in limited.output
    assert visible(sqs, queue) == 4 and visible(sqs, dlq) == 11


def test_replay_finds_the_dlq_through_the_redrive_policy(sqs, queues, tmp_path):
    queue, dlq = queues
    fill_dlq(sqs, dlq, 2)
    result = CliRunner().invoke(dlq_group, ["replay", "--config", write_config(tmp_path, queue, None, "files")])
    assert result.exit_code == 0, result.output
    assert f"from {dlq}" in result.output and visible(sqs, queue) == 2


def test_a_failed_send_leaves_the_message_in_the_dlq(sqs, queues):
    queue, dlq = queues
    sqs.send_message(QueueUrl=dlq, MessageBody="x" * 1000)
    lines: list[str] = []
    # Sending to a queue that does not exist fails for every entry: nothing may be deleted from the DLQ.
    missing = queue.rsplit("/", 1)[0] + "/" + unique("absent")
    report = replay_dlq(sqs, dlq, missing, echo=lines.append)
    assert (report.received, report.moved, report.send_failed) == (1, 0, 1)
    assert not report.ok and lines
    assert visible(sqs, dlq) == 1


def test_enqueue_sends_one_message_per_object(s3, sqs, queues, tmp_path):
    queue, dlq = queues
    bucket = unique("ek-enqueue")
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "ap-northeast-1"})
    keys = [f"seed/{n:02d} 報告+c&d.txt" for n in range(25)] + ["seed/deep/a/b/c.txt"]
    for key in keys:
        s3.put_object(Bucket=bucket, Key=key, Body=b"x")
    s3.put_object(Bucket=bucket, Key="seed/folder/", Body=b"")
    s3.put_object(Bucket=bucket, Key="other/skip.txt", Body=b"x")
    config = write_config(tmp_path, queue, dlq, bucket)
    result = CliRunner().invoke(enqueue_command, [f"s3://{bucket}/seed/", "--config", config])
    assert result.exit_code == 0, result.output
    assert f"enqueued 26 of 26 object(s) under s3://{bucket}/seed/" in result.output
    bodies = [json.loads(m["Body"]) for m in drain(sqs, queue)]
    assert sorted(b["key"] for b in bodies) == sorted(keys)
    assert all(b["bucket"] == bucket and set(b) == {"bucket", "key"} for b in bodies)


def test_enqueue_refuses_a_bucket_the_worker_does_not_read(sqs, queues, tmp_path):
    queue, dlq = queues
    result = CliRunner().invoke(
        enqueue_command, ["s3://someone-elses/x", "--config", write_config(tmp_path, queue, dlq, "files")]
    )
    assert result.exit_code != 0
    assert "not a bucket the worker reads" in str(result.exception)
    assert visible(sqs, queue) == 0


def test_enqueue_rejects_a_target_that_is_not_an_s3_url(queues, tmp_path):
    queue, dlq = queues
    result = CliRunner().invoke(enqueue_command, ["bucket/prefix", "--config", write_config(tmp_path, queue, dlq, "b")])
    assert result.exit_code == 2 and "s3://bucket/prefix" in result.output
