"""Library use as the README shows it: extract() and a pipeline in a few lines; a progress bar on a terminal."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys

import extractkit
from extractkit import Pipeline, load_plugins

from conftest import REPO

SAMPLES = REPO / "examples" / "documents"


def test_extract_returns_a_full_result():
    result = extractkit.extract(SAMPLES / "tokyo-libraries.ja.md")
    assert isinstance(result, extractkit.ExtractionResult)
    assert "都立中央図書館" in result.text
    assert result.mime_type == "text/markdown" and result.extractor == "text"
    assert result.pages[0].number == 1 and result.metadata["encoding"] == "utf-8"


def test_extract_raises_a_classified_error_for_a_bad_document():
    try:
        extractkit.extract(b"")
    except extractkit.DocumentError as error:
        assert error.reason == "empty" and error.failure_class == "permanent"
    else:
        raise AssertionError("an empty document must raise")


def test_pipeline_in_a_few_lines(tmp_path):
    plugins = load_plugins()
    source = plugins.make_source("folder", {"path": str(SAMPLES), "include": ["*.txt"]})
    sink = plugins.make_sink("jsonl", {"path": str(tmp_path / "out.jsonl")})
    stats = Pipeline(source, sink, plugins=plugins, concurrency=2, temp_dir=tmp_path / "t").run()
    sink.close()
    records = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text(encoding="utf-8").splitlines()]
    names = sorted(r["name"] for r in records)
    assert names == sorted(p.name for p in SAMPLES.glob("*.txt"))
    assert stats.indexed == len(names) and stats.failed == 0
    assert "documents" in stats.summary_line()


def test_progress_bar_on_a_terminal(tmp_path):
    config = tmp_path / "worker.toml"
    config.write_text(
        f'[source]\npath = "{SAMPLES}"\n[sink]\ntype = "jsonl"\npath = "{tmp_path / "o.jsonl"}"\n'
        f'[worker]\nisolation = false\ntemp_dir = "{tmp_path / "w"}"\n',
        encoding="utf-8",
    )
    leader, follower = pty.openpty()
    completed = subprocess.run(
        [sys.executable, "-m", "runner.cli", "run", "--config", str(config)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=follower,
        timeout=120,
        check=False,
    )
    os.close(follower)
    terminal = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:
            break
        if not chunk:
            break
        terminal += chunk
    os.close(leader)
    assert completed.returncode == 0
    shown = terminal.decode("utf-8", "replace")
    total = sum(1 for p in SAMPLES.rglob("*") if p.is_file())
    assert f"{total}/{total} documents" in shown and "[" in shown and "#" in shown
    assert '"level"' not in shown  # no JSON log lines on a terminal
