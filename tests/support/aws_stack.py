"""A bucket, a queue with its DLQ and an index name of one's own on the test servers, plus worker processes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from extractkit.models import document_id_for

from support.services import boto3_client, opensearch_request, require_services

REPO = Path(__file__).resolve().parents[2]


@dataclass
class Stack:
    """The resources one test owns."""

    bucket: str
    queue_url: str
    dlq_url: str
    index: str
    opensearch: str
    s3: Any
    sqs: Any

    # -- S3 and SQS ----------------------------------------------------------

    def put(self, key: str, data: bytes) -> None:
        """Upload one object."""
        self.s3.put_object(Bucket=self.bucket, Key=key, Body=data)

    def send(self, body: Any) -> None:
        """Send one message (a dict is sent as JSON)."""
        self.sqs.send_message(QueueUrl=self.queue_url, MessageBody=body if isinstance(body, str) else json.dumps(body))

    def depth(self, url: str | None = None) -> tuple[int, int]:
        """(visible, in flight) messages of the queue (or of ``url``)."""
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=url or self.queue_url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"]), int(attributes["ApproximateNumberOfMessagesNotVisible"])

    # -- OpenSearch ------------------------------------------------------------

    def refresh(self) -> None:
        """Make every write searchable."""
        opensearch_request(self.opensearch, "POST", f"/{self.index}*/_refresh?ignore_unavailable=true")

    def documents(self) -> dict[str, dict]:
        """Every stored document, by key."""
        return self._all(self.index)

    def failures(self) -> dict[str, dict]:
        """Every stored failure record, by key."""
        return self._all(f"{self.index}-failures")

    def _all(self, index: str) -> dict[str, dict]:
        self.refresh()
        try:
            answer = opensearch_request(
                self.opensearch, "POST", f"/{index}/_search", {"size": 10000, "query": {"match_all": {}}}
            )
        except AssertionError as error:
            # Not there yet, or created a moment ago and its shard not started: nothing to read yet.
            if "index_not_found" in str(error) or "all shards failed" in str(error):
                return {}
            raise
        return {hit["_source"].get("key") or hit["_source"]["uri"]: hit["_source"] for hit in answer["hits"]["hits"]}

    def search(self, text: str) -> set[str]:
        """Keys of the documents whose content matches ``text`` as a phrase."""
        self.refresh()
        answer = opensearch_request(
            self.opensearch,
            "POST",
            f"/{self.index}/_search",
            {"size": 100, "query": {"match_phrase": {"content": text}}, "_source": ["key"]},
        )
        return {hit["_source"]["key"] for hit in answer["hits"]["hits"]}

    def doc_id(self, key: str) -> str:
        """The id a key is stored under."""
        return document_id_for(f"s3://{self.bucket}/{key}")


def reset_test_servers() -> None:
    """Clear every bucket and queue earlier tests left: moto's S3 is reset, every queue on the SQS server deleted."""
    import urllib.request

    services = require_services()
    request = urllib.request.Request(f"{services.s3_endpoint}/moto-api/reset", method="POST")
    with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(request, timeout=30):
        pass
    sqs = boto3_client("sqs")
    # Listed in full first: deleting between pages could make the server skip some.
    pages = sqs.get_paginator("list_queues").paginate(PaginationConfig={"PageSize": 1000})
    for queue_url in [url for page in pages for url in page.get("QueueUrls", [])]:
        sqs.delete_queue(QueueUrl=queue_url)


def make_stack(*, max_receive: int = 4, visibility: int = 30) -> Stack:
    """Create a bucket and a queue with a DLQ (redrive after ``max_receive`` receives) with unique names."""
    services = require_services()
    name = "t" + uuid.uuid4().hex[:10]
    s3, sqs = boto3_client("s3"), boto3_client("sqs")
    s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": os.environ["AWS_REGION"]})
    dlq_url = sqs.create_queue(QueueName=f"{name}-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    queue_url = sqs.create_queue(
        QueueName=name,
        Attributes={
            "VisibilityTimeout": str(visibility),
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(max_receive)}),
        },
    )["QueueUrl"]
    return Stack(name, queue_url, dlq_url, name, services.opensearch_endpoint, s3, sqs)


def s3_event(bucket: str, key: str, *, event: str = "ObjectCreated:Put", size: int = 0, sequencer: str = "01") -> dict:
    """An S3 event notification for one object, with the key form-URL-encoded as S3 sends it."""
    from urllib.parse import quote_plus

    return {
        "Records": [
            {
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "awsRegion": os.environ.get("AWS_REGION", "ap-northeast-1"),
                "eventTime": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
                "eventName": event,
                "s3": {
                    "s3SchemaVersion": "1.0",
                    "bucket": {"name": bucket, "arn": f"arn:aws:s3:::{bucket}"},
                    "object": {"key": quote_plus(key, safe="/"), "size": size, "sequencer": sequencer},
                },
            }
        ]
    }


def worker_environment(stack: Stack, temp_root: Path, **overrides: str) -> dict[str, str]:
    """The seed's variables for a worker on this stack, as User Data would write them (no config file)."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("EXTRACTKIT__")}
    environment.update(
        S3_BUCKET=stack.bucket,
        SQS_QUEUE_URL=stack.queue_url,
        SQS_DLQ_URL=stack.dlq_url,
        OPENSEARCH_ENDPOINT=stack.opensearch,
        OPENSEARCH_INDEX=stack.index,
        LOG_LEVEL="INFO",
        TEMP_DIR=str(temp_root / "work"),
        TMPDIR=str(temp_root),
        MAX_FILE_SIZE_MB="20",
        MAX_WORKERS="2",
        PROCESSING_TIMEOUT="60",
        SQS_VISIBILITY_TIMEOUT="30",
        HEALTH_PORT="0",
        DRAIN_TIMEOUT="20",
        PYTHONUNBUFFERED="1",
        OMP_THREAD_LIMIT="1",
        # A local stand-in, or nothing: the real 169.254.169.254 is never asked from here.
        AWS_EC2_METADATA_SERVICE_ENDPOINT=os.environ.get("EXTRACTKIT_TEST_IMDS", "http://127.0.0.1:9"),
        EXTRACTKIT__SOURCE__WAIT_SECONDS="1",
    )
    environment.update(overrides)
    return environment


class WorkerProcess:
    """``extractkit run`` as a separate process in its own process group, with its logs kept."""

    def __init__(self, environment: dict[str, str], log_dir: Path, name: str = "worker") -> None:
        log_dir.mkdir(parents=True, exist_ok=True)
        self.stdout_path = log_dir / f"{name}.stdout"
        self.stderr_path = log_dir / f"{name}.stderr"
        self._stdout = self.stdout_path.open("ab")
        self._stderr = self.stderr_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "runner.cli", "run"],
            cwd=REPO,
            env=environment,
            stdin=subprocess.DEVNULL,
            stdout=self._stdout,
            stderr=self._stderr,
            start_new_session=True,
        )

    @property
    def pid(self) -> int:
        """The worker's pid (also its process group id)."""
        return self.process.pid

    def signal(self, signum: int) -> None:
        """Send a signal to the worker process."""
        self.process.send_signal(signum)

    def kill_group(self) -> None:
        """SIGKILL the worker and every process of its group at once."""
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.wait(30)

    def wait(self, timeout: float) -> int:
        """Wait for the exit and return the exit code."""
        try:
            return self.process.wait(timeout)
        finally:
            if self.process.returncode is not None:
                self._stdout.close()
                self._stderr.close()

    def logs(self) -> str:
        """Everything the worker wrote so far."""
        for handle in (self._stdout, self._stderr):
            if not handle.closed:
                handle.flush()
        return self.stdout_path.read_text(errors="replace") + self.stderr_path.read_text(errors="replace")

    def until(self, predicate: Callable[[], Any], timeout: float, what: str, interval: float = 0.5) -> Any:
        """Like :func:`wait_until`, failing at once (with the logs) if the worker exits meanwhile."""

        def check() -> Any:
            if self.process.poll() is not None:
                raise AssertionError(
                    f"the worker exited ({self.process.returncode}) before {what}:\n{self.logs()[-3000:]}"
                )
            return predicate()

        return wait_until(check, timeout, what, interval)

    def stop(self, timeout: float = 60) -> int:
        """SIGTERM, then the exit code; SIGKILL for the group if it does not exit in time."""
        if self.process.poll() is None:
            self.signal(signal.SIGTERM)
        try:
            return self.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill_group()
            raise


def wait_until(predicate: Callable[[], Any], timeout: float, what: str, interval: float = 0.5) -> Any:
    """Poll ``predicate`` until it returns something true; fail naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what} (last: {value!r})")
        time.sleep(interval)
