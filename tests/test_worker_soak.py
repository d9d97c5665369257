"""A bounded soak: 5,000 small documents through S3, SQS, the worker and OpenSearch (127.0.0.1 only)."""

from __future__ import annotations

import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import psutil
import pytest

from support.aws_stack import WorkerProcess, make_stack, reset_test_servers, wait_until, worker_environment
from support.cli import run_cli

DOCUMENTS = 5000


@pytest.mark.slow
def test_soak_5000_documents_none_lost_none_duplicated_memory_flat(tmp_path):
    reset_test_servers()
    stack = make_stack(max_receive=5, visibility=60)
    keys = [f"soak/{n // 100:02d}/doc-{n:05d}.txt" for n in range(DOCUMENTS)]
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda key: stack.put(key, f"soak 文書 {key} payload".encode()), keys))
    environment = worker_environment(stack, tmp_path)
    enqueued = run_cli("enqueue", f"s3://{stack.bucket}/soak/", env=environment, timeout=600)
    assert enqueued.returncode == 0, enqueued.stderr

    worker = WorkerProcess(environment, tmp_path / "logs")
    samples: list[tuple[int, int]] = []
    done = threading.Event()

    def sample() -> None:
        process = psutil.Process(worker.pid)
        while not done.wait(1.0):
            try:
                samples.append((len(samples), process.memory_info().rss))
            except psutil.NoSuchProcess:
                return

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    started = time.monotonic()
    try:
        wait_until(lambda: stack.depth() == (0, 0), 900, "the soak queue to drain", interval=2)
        elapsed = time.monotonic() - started
    finally:
        done.set()
        code = worker.stop()
    assert code == 0, worker.logs()[-4000:]

    documents = stack.documents()
    assert len(documents) == DOCUMENTS, f"{DOCUMENTS - len(documents)} documents lost"
    assert sorted(documents) == sorted(keys)
    assert stack.depth(stack.dlq_url) == (0, 0)
    assert stack.failures() == {}
    rss = [value for _, value in samples]
    assert len(rss) >= 10, "the run was too short to judge memory"
    warm = rss[len(rss) // 5 :]
    early = statistics.median(warm[: len(warm) // 3])
    late = statistics.median(warm[-len(warm) // 3 :])
    assert late <= early * 1.10, f"worker memory grew from {early / 1e6:.0f} MB to {late / 1e6:.0f} MB"
    print(f"soak: {DOCUMENTS} documents in {elapsed:.0f} s ({DOCUMENTS / elapsed:.0f}/s), rss {early / 1e6:.0f} MB")
