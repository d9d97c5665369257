"""The AWS worker end to end: S3 → SQS → extract → OpenSearch on the real test servers.

Each test owns a bucket, a queue with a DLQ and an index, and runs ``extractkit
run`` as a separate process on the seed's environment variables alone, with no
config file, the way User Data starts it.
"""

from __future__ import annotations

import json
import os
import signal
import time

import pytest

from hostile.generate import generate as generate_hostile
from support.aws_stack import Stack, WorkerProcess, make_stack, s3_event, worker_environment
from support.imds import FakeInstanceMetadata
from support.paths import TEST_PLUGINS

BILINGUAL = "東京都立図書館の蔵書検索について。\nThe Tokyo metropolitan library catalogue search.\n"
#: Awkward key shapes S3 allows: spaces, plus signs, ampersands, Japanese, deep prefixes, dot-dot segments.
KEY_SHAPES = (
    "in box/{name}",
    "a+b/{name}",
    "R&D/{name}",
    "日本語/資料/{name}",
    "deep/1/2/3/4/5/6/{name}",
    "../escape/{name}",
)


def _key(index: int, name: str) -> str:
    return KEY_SHAPES[index % len(KEY_SHAPES)].format(name=name)


def _message(stack: Stack, index: int, key: str) -> dict:
    """Every message format in turn: the seed's own, an S3 event, the same in SNS, EventBridge."""
    form = index % 4
    if form == 0:
        return {"bucket": stack.bucket, "key": key}
    if form == 1:
        return s3_event(stack.bucket, key)
    if form == 2:
        return {"Type": "Notification", "MessageId": f"m{index}", "Message": json.dumps(s3_event(stack.bucket, key))}
    return {
        "version": "0",
        "source": "aws.s3",
        "detail-type": "Object Created",
        "detail": {"bucket": {"name": stack.bucket}, "object": {"key": key, "size": 1}},
    }


def _drained(stack: Stack) -> bool:
    return stack.depth() == (0, 0)


@pytest.fixture
def stack() -> Stack:
    return make_stack()


def test_every_file_ends_indexed_or_as_a_failure_record(stack, tmp_path):
    files = tmp_path / "files"
    cases = generate_hostile(files)
    (files / "bilingual.txt").write_text(BILINGUAL, encoding="utf-8")
    keys = {}
    for index, name in enumerate(sorted(p.name for p in files.iterdir())):
        keys[name] = _key(index, name)
        stack.put(keys[name], (files / name).read_bytes())
        stack.send(_message(stack, index, keys[name]))
    stack.send({"Service": "Amazon S3", "Event": "s3:TestEvent", "Bucket": stack.bucket})
    stack.send("this is not an event")
    stack.send({"bucket": "someone-elses-bucket", "key": "secret.pdf"})

    worker = WorkerProcess(worker_environment(stack, tmp_path), tmp_path / "logs")
    try:
        worker.until(lambda: _drained(stack), 240, "the queue to drain")
        assert worker.process.poll() is None, worker.logs()
    finally:
        code = worker.stop()
    logs = worker.logs()
    assert code == 0, logs

    documents, failures = stack.documents(), stack.failures()
    expected_ok = {case.name for case in cases if case.expected == "ok"} | {"bilingual.txt"}
    for case in cases:
        key = keys[case.name]
        if case.expected == "ok":
            assert key in documents, f"{case.name} was not indexed; failures: {failures.get(key)}"
            if case.contains:
                assert key in stack.search(case.contains), case.name
        else:
            assert key not in documents, case.name
            assert failures[key]["reason"] == case.expected, (case.name, failures[key])
        if case.must_not_contain:
            assert case.must_not_contain not in json.dumps(documents) + json.dumps(failures)
    assert stack.search("東京都立図書館") == {keys["bilingual.txt"]}
    assert keys["bilingual.txt"] in stack.search("metropolitan library")
    assert len(documents) == len(expected_ok)
    by_uri = {record.get("uri", ""): record["reason"] for record in failures.values()}
    assert any(uri.startswith("s3://someone-elses-bucket/") for uri in by_uri), by_uri
    assert "forbidden" in by_uri.values() and "invalid_message" in by_uri.values(), by_uri
    assert stack.depth(stack.dlq_url) == (0, 0)
    assert "Traceback" not in logs
    assert sorted(os.listdir(tmp_path / "work")) == [], "the worker left files in TEMP_DIR"
    assert sorted(os.listdir(tmp_path)) == ["files", "logs", "work"], "the worker wrote outside TEMP_DIR"


def test_every_message_sent_twice_gives_one_document_per_file(stack, tmp_path):
    for number in range(12):
        key = f"dup/{number}.txt"
        stack.put(key, f"重複 test document {number}".encode())
        stack.send({"bucket": stack.bucket, "key": key})
        stack.send(s3_event(stack.bucket, key))
    worker = WorkerProcess(worker_environment(stack, tmp_path), tmp_path / "logs")
    try:
        worker.until(lambda: _drained(stack), 120, "the queue to drain")
    finally:
        assert worker.stop() == 0, worker.logs()
    documents = stack.documents()
    assert sorted(documents) == sorted(f"dup/{n}.txt" for n in range(12))
    assert stack.depth(stack.dlq_url) == (0, 0)


def test_removed_objects_leave_no_document(stack, tmp_path):
    stack.put("keep.txt", b"kept document")
    stack.put("remove-later.txt", b"removed later")
    stack.put("gone-before.txt", b"deleted before the worker saw it")
    for key in ("keep.txt", "remove-later.txt", "gone-before.txt"):
        stack.send(s3_event(stack.bucket, key))
    stack.s3.delete_object(Bucket=stack.bucket, Key="gone-before.txt")
    worker = WorkerProcess(worker_environment(stack, tmp_path), tmp_path / "logs")
    try:
        worker.until(lambda: "remove-later.txt" in stack.documents(), 60, "the document to be indexed")
        stack.s3.delete_object(Bucket=stack.bucket, Key="remove-later.txt")
        stack.send(s3_event(stack.bucket, "remove-later.txt", event="ObjectRemoved:Delete", sequencer="02"))
        worker.until(lambda: "remove-later.txt" not in stack.documents() and _drained(stack), 60, "the deletion")
    finally:
        assert worker.stop() == 0, worker.logs()
    assert set(stack.documents()) == {"keep.txt"}
    assert "gone-before.txt" not in stack.failures()


@pytest.mark.slow
def test_kill_9_mid_batch_then_restart_loses_and_duplicates_nothing(stack, tmp_path):
    keys = [f"k9/sleepy-{n:03d}.txt" for n in range(40)]
    for key in keys:
        stack.put(key, f"kill nine document {key}".encode())
        stack.send({"bucket": stack.bucket, "key": key})
    environment = worker_environment(
        stack,
        tmp_path,
        SQS_VISIBILITY_TIMEOUT="5",
        EXTRACTKIT_TEST_SLEEP="0.3",
        EXTRACTKIT__PLUGINS__LOAD=str(TEST_PLUGINS / "sleepy_text.py"),
    )
    first = WorkerProcess(environment, tmp_path / "logs", "first")
    first.until(lambda: len(stack.documents()) >= 5, 60, "the first documents")
    first.kill_group()
    assert len(stack.documents()) < len(keys), "the kill came too late to test anything"
    leftovers = [p for p in (tmp_path / "work").iterdir()]
    second = WorkerProcess(environment, tmp_path / "logs", "second")
    try:
        second.until(lambda: _drained(stack) and len(stack.documents()) == len(keys), 120, "every document")
        assert not any(p.exists() for p in leftovers), "the killed worker's folders were not swept"
    finally:
        assert second.stop() == 0, second.logs()
    assert sorted(stack.documents()) == keys
    assert stack.depth(stack.dlq_url) == (0, 0)


@pytest.mark.slow
def test_opensearch_stopped_for_30_seconds_loses_nothing(stack, tmp_path):
    from support.services import require_services

    pid = int(require_services().opensearch_pid_file.read_text().strip())
    keys = [f"os-down/{n:02d}.txt" for n in range(20)]
    for key in keys[:5]:
        stack.put(key, f"before the outage {key}".encode())
        stack.send({"bucket": stack.bucket, "key": key})
    worker = WorkerProcess(worker_environment(stack, tmp_path), tmp_path / "logs")
    try:
        worker.until(lambda: len(stack.documents()) == 5, 60, "the first documents")
        os.kill(pid, signal.SIGSTOP)
        try:
            for key in keys[5:]:
                stack.put(key, f"during the outage {key}".encode())
                stack.send({"bucket": stack.bucket, "key": key})
            time.sleep(30)
            assert worker.process.poll() is None, "the worker died while OpenSearch was stopped"
        finally:
            os.kill(pid, signal.SIGCONT)
        worker.until(lambda: len(stack.documents()) == len(keys), 180, "every document after the outage")
        worker.until(lambda: _drained(stack), 60, "the queue to drain")
    finally:
        assert worker.stop() == 0, worker.logs()
    assert stack.depth(stack.dlq_url) == (0, 0)


def test_sigterm_with_work_in_flight_exits_0_and_the_next_worker_finishes(stack, tmp_path):
    keys = [f"slow/sleepy-{n}.txt" for n in range(4)]
    for key in keys:
        stack.put(key, f"sleepy document {key}".encode())
        stack.send({"bucket": stack.bucket, "key": key})
    slow = worker_environment(
        stack,
        tmp_path,
        DRAIN_TIMEOUT="3",
        EXTRACTKIT_TEST_SLEEP="30",
        EXTRACTKIT__PLUGINS__LOAD=str(TEST_PLUGINS / "sleepy_text.py"),
    )
    first = WorkerProcess(slow, tmp_path / "logs", "first")
    first.until(lambda: stack.depth()[1] >= 2, 30, "messages in flight")
    time.sleep(2)
    started = time.monotonic()
    first.signal(signal.SIGTERM)
    assert first.wait(20) == 0, first.logs()
    assert time.monotonic() - started < 15
    assert stack.depth()[0] >= 2, "unfinished messages were not handed back at once"
    second = WorkerProcess(worker_environment(stack, tmp_path), tmp_path / "logs", "second")
    try:
        second.until(lambda: len(stack.documents()) == len(keys) and _drained(stack), 60, "the next worker")
    finally:
        assert second.stop() == 0, second.logs()


def test_spot_interruption_notice_drains_like_sigterm(stack, tmp_path):
    stack.put("spot.txt", b"spot document")
    stack.send({"bucket": stack.bucket, "key": "spot.txt"})
    with FakeInstanceMetadata() as metadata:
        environment = worker_environment(stack, tmp_path, AWS_EC2_METADATA_SERVICE_ENDPOINT=metadata.endpoint)
        environment["EXTRACTKIT__WORKER__INSTANCE_EVENT_INTERVAL"] = "0.5"
        worker = WorkerProcess(environment, tmp_path / "logs")
        worker.until(lambda: "spot.txt" in stack.documents(), 60, "the document")
        metadata.announce_spot_interruption()
        assert worker.wait(30) == 0, worker.logs()
        assert metadata.token_requests >= 1 and metadata.unauthenticated_gets == 0
    assert "spot interruption" in worker.logs()


def test_health_endpoints_answer_on_the_configured_port(stack, tmp_path):
    import socket
    import urllib.request

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    worker = WorkerProcess(worker_environment(stack, tmp_path, HEALTH_PORT=str(port)), tmp_path / "logs")
    try:

        def answer(path: str) -> tuple[int, dict] | None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=2) as response:
                    return response.status, json.loads(response.read())
            except OSError:
                return None

        assert worker.until(lambda: answer("/healthz"), 30, "/healthz") == (200, {"status": "alive"})
        assert worker.until(lambda: answer("/readyz"), 30, "/readyz") == (200, {"status": "ready"})
    finally:
        assert worker.stop() == 0, worker.logs()


def test_validate_only_checks_every_service_and_changes_nothing(stack, tmp_path):
    from support.cli import run_cli

    environment = worker_environment(stack, tmp_path)
    ok = run_cli("run", "--validate-only", env=environment)
    assert ok.returncode == 0, ok.stderr
    assert not (tmp_path / "work").exists()
    broken = run_cli("run", "--validate-only", env={**environment, "S3_BUCKET": "no-such-bucket-here"})
    assert broken.returncode != 0
    assert "no-such-bucket-here" in broken.stderr and "Traceback" not in broken.stderr
    assert len(broken.stderr.strip().splitlines()) == 1
    assert stack.depth() == (0, 0)
