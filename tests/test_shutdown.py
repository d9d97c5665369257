"""SIGTERM stops the worker cleanly: no new documents, documents in flight finish, exit status 0."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

from support.paths import REPO, TEST_PLUGINS


def test_sigterm_finishes_in_flight_documents_and_exits_zero(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    for number in range(40):
        (docs / f"slow-{number:02d}.txt").write_text(f"文書番号 {number}", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    config = tmp_path / "worker.toml"
    config.write_text(
        f'[source]\npath = "{docs}"\n[sink]\ntype = "jsonl"\npath = "{out}"\n'
        f'[worker]\nmax_workers = 2\nisolation = false\ntemp_dir = "{tmp_path / "work"}"\n'
        f'[plugins]\nload = ["{TEST_PLUGINS / "slow_text.py"}"]\n',
        encoding="utf-8",
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "runner.cli", "run", "--config", str(config)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and (not out.exists() or len(out.read_text().splitlines()) < 3):
        time.sleep(0.1)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 0, stderr
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert 3 <= len(records) < 40, "the worker should stop early but finish what it started"
    assert all(r["type"] == "result" and r["text"].startswith("文書番号") for r in records)
    assert "documents" in stderr.strip().splitlines()[-1]
    assert "stop requested by signal" in stderr
    assert not os.listdir(tmp_path / "work")
