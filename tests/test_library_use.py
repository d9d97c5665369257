"""Library use as the README shows it: extract() and a pipeline in a few lines; a progress bar on a terminal."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys

import extractkit
from extractkit import Pipeline, load_plugins

from support.paths import REPO

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


def test_extract_takes_any_binary_file_object(tmp_path):
    import io

    data = (SAMPLES / "mount-fuji.eucjp.txt").read_bytes()
    from_bytesio = extractkit.extract(io.BytesIO(data), name="fuji.txt")
    assert "富士山" in from_bytesio.text
    with (SAMPLES / "mount-fuji.eucjp.txt").open("rb") as handle:
        from_file = extractkit.extract(handle)
    assert from_file.text == from_bytesio.text

    class StreamingBody:  # botocore's shape: read(amt) and nothing else
        def __init__(self, payload):
            self._stream = io.BytesIO(payload)

        def read(self, amt=None):
            return self._stream.read(amt)

    assert extractkit.extract(StreamingBody(data), name="fuji.txt").text == from_bytesio.text
    try:
        extractkit.extract(io.StringIO("text, not bytes"))
    except TypeError as error:
        assert "binary stream" in str(error)
    else:
        raise AssertionError("a text stream must be refused")


def test_version_is_exposed():
    import importlib.metadata

    assert extractkit.__version__ == importlib.metadata.version("extractkit")
    assert "__version__" in extractkit.__all__


def test_encoding_names_have_one_spelling():
    for name in ("meeting-notes.utf16.txt", "mount-fuji.eucjp.txt", "company-newsletter.sjis.txt"):
        import codecs

        encoding = extractkit.extract(SAMPLES / name).metadata["encoding"]
        assert encoding == codecs.lookup(encoding).name.replace("_", "-") and "_" not in encoding, (name, encoding)


def test_a_result_of_the_wrong_type_fails_that_document_as_crashed(tmp_path):
    from extractkit.plugins import Plugins, PluginSpec
    from extractkit.processing import local_document, process_document

    from support.paths import TEST_PLUGINS

    loaded = Plugins(PluginSpec(entry_points=False, extra=(str(TEST_PLUGINS / "dict_result.py"),)))
    note = tmp_path / "a.note"
    note.write_text("a note", encoding="utf-8")
    outcome = process_document(local_document(note), loaded)
    assert outcome.failure is not None and outcome.failure.reason == "crashed"
    assert outcome.failure.plugin == "dict-note" and "returned dict, not an ExtractionResult" in outcome.failure.message
