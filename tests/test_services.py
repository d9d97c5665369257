"""The test servers are real: OpenSearch analyses Japanese with cjk, S3 keeps odd keys, SQS (ElasticMQ) redrives."""

from __future__ import annotations

import json
import os
import signal
import time
import urllib.error
import uuid
from pathlib import Path

import pytest

from support.services import Services, boto3_client, opensearch_request, require_services, reset_opensearch

pytestmark = pytest.mark.timeout(90)


@pytest.fixture(scope="module")
def services() -> Services:
    return require_services()


def _unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def test_opensearch_cjk_analyzer_gives_bigrams(services):
    answer = opensearch_request(
        services.opensearch_endpoint, "POST", "/_analyze", {"analyzer": "cjk", "text": "東京都庁"}
    )
    assert [token["token"] for token in answer["tokens"]] == ["東京", "京都", "都庁"]


def test_opensearch_lists_the_analysis_common_module(services):
    answer = opensearch_request(services.opensearch_endpoint, "GET", "/_nodes/plugins")
    modules = {module["name"] for node in answer["nodes"].values() for module in node["modules"]}
    assert "analysis-common" in modules


def test_opensearch_pid_file_names_the_jvm(services):
    pid = int(services.opensearch_pid_file.read_text().strip())
    command_line = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    assert b"org.opensearch.bootstrap.OpenSearch" in command_line


def test_reset_opensearch_removes_indices_templates_and_data_streams(services):
    endpoint = services.opensearch_endpoint
    name = _unique("reset-check")
    for number in range(3):
        opensearch_request(endpoint, "PUT", f"/{name}-index-{number}", {"settings": {"number_of_replicas": 0}})
        opensearch_request(
            endpoint, "PUT", f"/_template/{name}-legacy-{number}", {"index_patterns": [f"{name}-l{number}"]}
        )
    opensearch_request(endpoint, "PUT", f"/_component_template/{name}-component", {"template": {"settings": {}}})
    opensearch_request(
        endpoint,
        "PUT",
        f"/_index_template/{name}-streams",
        {"index_patterns": [f"{name}-stream*"], "data_stream": {}, "composed_of": [f"{name}-component"]},
    )
    opensearch_request(endpoint, "PUT", f"/_data_stream/{name}-stream")

    reset_opensearch(endpoint)

    indices = opensearch_request(endpoint, "GET", "/_cat/indices?format=json&expand_wildcards=all&h=index")
    assert not [row["index"] for row in indices if name in row["index"]]
    assert opensearch_request(endpoint, "GET", "/_data_stream")["data_streams"] == []
    assert opensearch_request(endpoint, "GET", "/_index_template")["index_templates"] == []
    assert opensearch_request(endpoint, "GET", "/_component_template")["component_templates"] == []
    assert opensearch_request(endpoint, "GET", "/_template") == {}


def test_s3_round_trip_of_a_key_with_space_plus_ampersand_and_japanese(services):
    s3 = boto3_client("s3")
    bucket, key = _unique("services-check"), "受信/請求書 2024+改訂&最終.txt"
    body = "東京都庁".encode()
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "ap-northeast-1"})
    s3.put_object(Bucket=bucket, Key=key, Body=body)
    assert s3.head_object(Bucket=bucket, Key=key)["ContentLength"] == len(body)
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == body
    assert [item["Key"] for item in s3.list_objects_v2(Bucket=bucket)["Contents"]] == [key]


def test_opensearch_pid_file_lets_a_test_pause_the_server(services):
    pid = int(services.opensearch_pid_file.read_text().strip())
    os.kill(pid, signal.SIGSTOP)
    try:
        with pytest.raises((TimeoutError, urllib.error.URLError)):
            opensearch_request(services.opensearch_endpoint, "GET", "/_cluster/health", timeout=1)
    finally:
        os.kill(pid, signal.SIGCONT)
    health = opensearch_request(
        services.opensearch_endpoint, "GET", "/_cluster/health?wait_for_status=yellow&timeout=20s"
    )
    assert health["status"] in {"green", "yellow"}


def test_s3_and_sqs_are_separate_servers(services):
    assert services.s3_endpoint != services.sqs_endpoint
    s3_pid = int(Path(os.environ["EXTRACTKIT_TEST_S3_PID_FILE"]).read_text())
    sqs_pid = int(Path(os.environ["EXTRACTKIT_TEST_SQS_PID_FILE"]).read_text())
    assert s3_pid != sqs_pid
    sqs = boto3_client("sqs")
    os.kill(s3_pid, signal.SIGSTOP)
    try:
        sqs.list_queues()  # answers while the S3 server is paused
    finally:
        os.kill(s3_pid, signal.SIGCONT)
    boto3_client("s3").list_buckets()


def test_require_services_fails_and_says_how_to_start_them(monkeypatch):
    monkeypatch.delenv("OPENSEARCH_ENDPOINT", raising=False)
    with pytest.raises(pytest.fail.Exception, match=r"make test.*scripts/services\.sh run"):
        require_services()


def _receive(sqs, queue_url: str, wait_seconds: int = 1) -> list[dict]:
    answer = sqs.receive_message(
        QueueUrl=queue_url, MaxNumberOfMessages=1, WaitTimeSeconds=wait_seconds, AttributeNames=["All"]
    )
    return answer.get("Messages", [])


def _receive_within(sqs, queue_url: str, seconds: float) -> list[dict]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        messages = _receive(sqs, queue_url)
        if messages:
            return messages
    return []


def test_sqs_redrives_to_the_dlq_after_max_receive_count(services):
    sqs = boto3_client("sqs")
    dlq_url = sqs.create_queue(QueueName=_unique("services-dlq"))["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    policy = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "2"})
    queue_url = sqs.create_queue(
        QueueName=_unique("services-main"), Attributes={"VisibilityTimeout": "1", "RedrivePolicy": policy}
    )["QueueUrl"]
    sqs.send_message(QueueUrl=queue_url, MessageBody="poison")

    counts = []
    for _ in range(2):
        messages = _receive_within(sqs, queue_url, 10)
        assert messages, "the message did not come back after its visibility timeout"
        counts.append(messages[0]["Attributes"]["ApproximateReceiveCount"])
        assert _receive(sqs, queue_url, wait_seconds=0) == [], "a received message stayed visible"
    assert counts == ["1", "2"]

    # As on AWS, the move happens on a later receive from the source queue, once the receive count is used up.
    assert _receive_within(sqs, queue_url, 3) == []
    dead = _receive_within(sqs, dlq_url, 10)
    assert [message["Body"] for message in dead] == ["poison"]


def test_sqs_change_message_visibility(services):
    sqs = boto3_client("sqs")
    queue_url = sqs.create_queue(QueueName=_unique("services-visibility"), Attributes={"VisibilityTimeout": "30"})[
        "QueueUrl"
    ]
    sqs.send_message(QueueUrl=queue_url, MessageBody="retry me")
    first = _receive(sqs, queue_url)[0]
    assert _receive(sqs, queue_url, wait_seconds=0) == []

    # Visibility 0 hands the message back at once, as a worker does at shutdown.
    sqs.change_message_visibility(QueueUrl=queue_url, ReceiptHandle=first["ReceiptHandle"], VisibilityTimeout=0)
    second = _receive_within(sqs, queue_url, 5)
    assert [message["Body"] for message in second] == ["retry me"]
    assert second[0]["Attributes"]["ApproximateReceiveCount"] == "2"

    # A longer visibility keeps it hidden past the queue's own (a heartbeat).
    sqs.set_queue_attributes(QueueUrl=queue_url, Attributes={"VisibilityTimeout": "1"})
    sqs.change_message_visibility(QueueUrl=queue_url, ReceiptHandle=second[0]["ReceiptHandle"], VisibilityTimeout=4)
    time.sleep(2)
    assert _receive(sqs, queue_url, wait_seconds=0) == []
    assert _receive_within(sqs, queue_url, 10)[0]["Body"] == "retry me"


def test_sqs_server_is_elasticmq_and_its_queue_urls_point_at_it(services):
    pid = int(Path(os.environ["EXTRACTKIT_TEST_SQS_PID_FILE"]).read_text().strip())
    assert b"org.elasticmq.server.Main" in Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    sqs = boto3_client("sqs")
    name = _unique("services-url")
    queue_url = sqs.create_queue(QueueName=name)["QueueUrl"]
    # The URL a client is given must reach this server, or every later call would go elsewhere.
    assert queue_url.startswith(services.sqs_endpoint + "/") and queue_url.endswith("/" + name)
    assert sqs.get_queue_url(QueueName=name)["QueueUrl"] == queue_url
    assert sqs.list_queues(QueueNamePrefix=name)["QueueUrls"] == [queue_url]
    arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    assert arn.startswith(f"arn:aws:sqs:{os.environ['AWS_REGION']}:") and arn.endswith(":" + name)
    sqs.delete_queue(QueueUrl=queue_url)
    with pytest.raises(sqs.exceptions.QueueDoesNotExist):
        sqs.get_queue_url(QueueName=name)


def _depth(sqs, queue_url: str) -> tuple[int, int]:
    attributes = sqs.get_queue_attributes(
        QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]), int(attributes["ApproximateNumberOfMessagesNotVisible"])


def test_sqs_batches_counts_and_failed_deletes(services):
    sqs = boto3_client("sqs")
    queue_url = sqs.create_queue(QueueName=_unique("services-batch"), Attributes={"VisibilityTimeout": "30"})[
        "QueueUrl"
    ]
    sent = sqs.send_message_batch(
        QueueUrl=queue_url, Entries=[{"Id": str(n), "MessageBody": f"message {n}"} for n in range(10)]
    )
    assert sorted(int(entry["Id"]) for entry in sent["Successful"]) == list(range(10))
    assert not sent.get("Failed")
    assert _depth(sqs, queue_url) == (10, 0)

    received: list[dict] = []
    deadline = time.monotonic() + 10
    while len(received) < 10 and time.monotonic() < deadline:
        answer = sqs.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=10,
            WaitTimeSeconds=1,
            MessageSystemAttributeNames=["ApproximateReceiveCount"],
        )
        received += answer.get("Messages", [])
    assert sorted(message["Body"] for message in received) == sorted(f"message {n}" for n in range(10))
    assert {message["Attributes"]["ApproximateReceiveCount"] for message in received} == {"1"}
    assert _depth(sqs, queue_url) == (0, 10)

    # DeleteMessageBatch answers 200 and reports a bad receipt handle in Failed, entry by entry.
    entries = [{"Id": f"m{n}", "ReceiptHandle": message["ReceiptHandle"]} for n, message in enumerate(received[:9])]
    deleted = sqs.delete_message_batch(QueueUrl=queue_url, Entries=[*entries, {"Id": "bad", "ReceiptHandle": "x"}])
    assert sorted(entry["Id"] for entry in deleted["Successful"]) == sorted(entry["Id"] for entry in entries)
    assert [(entry["Id"], entry["SenderFault"]) for entry in deleted["Failed"]] == [("bad", True)]
    assert _depth(sqs, queue_url) == (0, 1)

    sqs.change_message_visibility(QueueUrl=queue_url, ReceiptHandle=received[9]["ReceiptHandle"], VisibilityTimeout=0)
    assert _depth(sqs, queue_url) == (1, 0)
    sqs.purge_queue(QueueUrl=queue_url)
    assert _depth(sqs, queue_url) == (0, 0)
    assert _receive(sqs, queue_url) == []
