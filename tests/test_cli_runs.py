"""``extractkit run`` as a person and as systemd see it: the terminal, the streams, the summary, re-runs, Ctrl-C."""

from __future__ import annotations

import json
import os
import pty
import shutil
import signal
import subprocess
import sys
import time

from support.cli import run_cli
from support.paths import REPO, TEST_PLUGINS

SAMPLES = REPO / "examples" / "documents"


def _stored_samples(tmp_path):
    """The seven stored sample documents, copied without the ``generated/`` folder that ``make run`` adds."""
    docs = tmp_path / "docs"
    shutil.copytree(SAMPLES, docs, ignore=shutil.ignore_patterns("generated"))
    return docs


def _write_config(tmp_path, source, sink_lines, **worker):
    lines = ["[source]", f'path = "{source}"', "[sink]", *sink_lines, "[worker]"]
    worker = {"temp_dir": str(tmp_path / "work"), "isolation": False, "max_workers": 2, **worker}
    lines += [f"{key} = {json.dumps(value)}" for key, value in worker.items()]
    config = tmp_path / "worker.toml"
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return config


def _jsonl(tmp_path, source, **worker):
    return _write_config(tmp_path, source, ['type = "jsonl"', f'path = "{tmp_path / "out.jsonl"}"'], **worker)


def _on_terminal(args, *, stdout_too=False, timeout=120):
    """Run the CLI with standard error (and optionally standard output) on a pseudo-terminal."""
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "runner.cli", *args],
        cwd=REPO,
        stdout=follower if stdout_too else subprocess.PIPE,
        stderr=follower,
    )
    os.close(follower)
    shown = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:
            break
        if not chunk:
            break
        shown += chunk
    os.close(leader)
    stdout = b"" if stdout_too else process.stdout.read()
    process.wait(timeout)
    return process.returncode, shown.decode("utf-8", "replace"), stdout.decode("utf-8", "replace")


def _screen(shown):
    """The lines a terminal ends up showing: what follows the last carriage return of each line."""
    return [line.rsplit("\r", 1)[-1].replace("\x1b[2K", "") for line in shown.replace("\r\n", "\n").split("\n")]


def _mixed_folder(tmp_path, good=30, bad=10):
    docs = tmp_path / "docs"
    (docs / "copy1").mkdir(parents=True)
    (docs / "copy2").mkdir()
    for number in range(good):
        (docs / f"note-{number:02d}.txt").write_text(f"note number {number}\n", encoding="utf-8")
    for number in range(bad // 2):
        (docs / "copy1" / f"empty-{number}.txt").write_bytes(b"")
        (docs / "copy2" / f"empty-{number}.txt").write_bytes(b"")
    return docs


def test_terminal_log_lines_scroll_above_one_bar_and_failures_are_listed_after(tmp_path):
    docs = _mixed_folder(tmp_path)
    config = _jsonl(tmp_path, docs)
    code, shown, _ = _on_terminal(["run", "--config", str(config)])
    assert code == 0, shown
    lines = _screen(shown)
    warnings = [line for line in lines if "WARNING" in line]
    assert len(warnings) == 10
    for line in warnings:
        assert line.startswith("WARNING ") and "documents," not in line, repr(line)  # no partial bar glued on
    bars = [line for line in lines if "/40 documents," in line]
    assert len(bars) == 1 and bars[0].startswith("[" + "#" * 28 + "] 40/40 documents")  # one bar, left finished
    # The full path, once: copy1/empty-0.txt and copy2/empty-0.txt can be told apart.
    assert any(f"{docs}/copy1/empty-0.txt: empty: " in line for line in warnings)
    assert any(f"{docs}/copy2/empty-0.txt: empty: " in line for line in warnings)
    assert not any(line.count("empty-0.txt") > 1 for line in warnings)
    failed = [line for line in lines if line.startswith("extractkit: failed: ")]
    assert len(failed) == 10 and f"extractkit: failed: {docs}/copy1/empty-0.txt: empty: " in "\n".join(failed)
    assert lines[-2].startswith("extractkit: 40 documents (30 indexed, 10 failed)")  # the summary is last
    assert '"_aws"' not in shown


def test_metrics_record_never_reaches_a_terminal_unless_asked(tmp_path):
    config = _jsonl(tmp_path, _stored_samples(tmp_path))
    code, shown, _ = _on_terminal(["run", "--config", str(config), "--no-progress"], stdout_too=True)
    assert code == 0 and '"_aws"' not in shown and "7 documents" in shown
    code, shown, _ = _on_terminal(["run", "--config", str(config), "--no-progress", "--metrics"], stdout_too=True)
    assert code == 0 and '"_aws"' in shown
    piped = run_cli("run", "--config", str(config))  # systemd: standard output is the journal, not a terminal
    assert json.loads(piped.stdout.strip().splitlines()[-1])["_aws"]["CloudWatchMetrics"][0]["Namespace"]
    assert '"_aws"' not in run_cli("run", "--config", str(config), "--no-metrics").stdout


def test_jsonl_on_stdout_carries_only_data(tmp_path):
    config = _write_config(tmp_path, _stored_samples(tmp_path), ['type = "jsonl"', 'path = "-"'])
    completed = run_cli("run", "--config", str(config))
    assert completed.returncode == 0, completed.stderr
    records = [json.loads(line) for line in completed.stdout.splitlines()]  # every line parses: jq works
    assert len(records) == 7 and all(r["schema_version"] == 1 and r["type"] == "result" for r in records)
    assert "7 documents (7 indexed, 0 failed)" in completed.stderr.strip().splitlines()[-1]
    assert '"_aws"' in completed.stderr  # the metrics record moved off the data stream


def test_summary_is_the_last_line_on_standard_error(tmp_path):
    completed = run_cli("run", "--config", str(_jsonl(tmp_path, _stored_samples(tmp_path))))
    lines = completed.stderr.strip().splitlines()
    assert lines[-1].startswith("extractkit: 7 documents (7 indexed, 0 failed), 7 pages")
    assert lines[-2].startswith("extractkit: latency: median ")


def test_an_oserror_in_the_sink_is_counted_as_a_sink_error(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    for number in range(9):
        (docs / f"good-{number}.txt").write_text(f"good {number}\n", encoding="utf-8")
    (docs / "broken-1.txt").write_text("this one meets a full disk\n", encoding="utf-8")
    config = _write_config(
        tmp_path,
        docs,
        ['type = "oserror"', f'path = "{tmp_path / "out.jsonl"}"'],
        failure_log=str(tmp_path / "failures.jsonl"),
    )
    completed = run_cli("run", "--config", str(config), "--plugin", str(TEST_PLUGINS / "oserror_sink.py"))
    assert completed.returncode == 0, completed.stderr
    summary = completed.stderr.strip().splitlines()[-1]
    assert summary.startswith("extractkit: 10 documents (9 indexed, 1 failed)"), summary
    assert "failures: sink_error=1" in summary
    lines = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    failure = next(line for line in lines if line["type"] == "failure")
    assert failure["reason"] == "sink_error" and failure["stage"] == "sink" and "OSError" in failure["message"]
    assert failure["uri"].endswith("/broken-1.txt")


def test_ctrl_c_says_the_run_was_interrupted_and_how_many_were_left(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    for number in range(12):
        (docs / f"sleepy-{number:02d}.txt").write_text(f"slow {number}\n", encoding="utf-8")
    config = _jsonl(tmp_path, docs, max_workers=1, drain_timeout=5)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "runner.cli",
            "run",
            "--config",
            str(config),
            "--plugin",
            "tests/plugins/sleepy_text.py",
        ],
        cwd=REPO,
        env={**os.environ, "EXTRACTKIT_TEST_SLEEP": "0.3"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(2.0)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    summary = stderr.strip().splitlines()[-1]
    assert summary.startswith("extractkit: interrupted by signal SIGINT: "), summary
    done = int(summary.split("interrupted by signal SIGINT: ")[1].split(" documents")[0])
    assert 0 < done < 12 and summary.endswith(f"; {12 - done} left unprocessed")


def test_a_rerun_skips_unchanged_files_and_force_extracts_again(tmp_path):
    docs = _stored_samples(tmp_path)
    for sink in (
        ['type = "local_index"', f'path = "{tmp_path / "i.db"}"'],
        ['type = "jsonl"', f'path = "{tmp_path / "o.jsonl"}"'],
    ):
        config = _write_config(tmp_path, docs, sink)
        first = run_cli("run", "--config", str(config))
        assert "7 documents (7 indexed, 0 failed)" in first.stderr, first.stderr
        second = run_cli("run", "--config", str(config))
        assert "7 documents (0 indexed, 0 failed, 7 unchanged)" in second.stderr, second.stderr
        changed = docs / "weather-report.en.txt"
        changed.write_text(changed.read_text(encoding="utf-8") + "\nA late update.\n", encoding="utf-8")
        third = run_cli("run", "--config", str(config))
        assert "7 documents (1 indexed, 0 failed, 6 unchanged)" in third.stderr, third.stderr
        forced = run_cli("run", "--config", str(config), "--force")
        assert "7 documents (7 indexed, 0 failed)" in forced.stderr, forced.stderr
    lines = (tmp_path / "o.jsonl").read_text().splitlines()
    assert len(lines) == 7  # the JSONL sink upserts: four runs, each document once


def test_an_empty_source_says_so(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    completed = run_cli("run", "--config", str(_jsonl(tmp_path, empty)))
    assert completed.returncode == 0
    assert "the source 'folder' yielded no documents" in completed.stderr
