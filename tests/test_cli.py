"""The command line, end to end in subprocesses: extract, run, search, plugins, errors."""

from __future__ import annotations

import json
import os
import shutil

from support.cli import run_cli
from support.paths import REPO

SAMPLES = REPO / "examples" / "documents"


def _config(tmp_path, source_dir, isolation=False, **worker):
    lines = [
        "[source]",
        'type = "folder"',
        f'path = "{source_dir}"',
        "[sink]",
        'type = "local_index"',
        f'path = "{tmp_path / "index.db"}"',
        "[worker]",
        f'temp_dir = "{tmp_path / "work"}"',
        "max_workers = 2",
        f"isolation = {str(isolation).lower()}",
    ]
    lines += [f"{key} = {json.dumps(value)}" for key, value in worker.items()]
    path = tmp_path / "worker.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_run_then_search_japanese_and_english_and_rerun_does_not_duplicate(tmp_path):
    config = _config(tmp_path, SAMPLES)
    first = run_cli("run", "--config", str(config))
    assert first.returncode == 0, first.stderr
    summary = first.stderr.strip().splitlines()[-1]  # the summary is the last line on standard error
    assert "documents" in summary and "failed" in summary and " s" in summary
    assert "documents" not in first.stdout  # standard output carries only data and the metrics record
    found = run_cli("search", "図書館", "--index", str(tmp_path / "index.db"))
    assert found.returncode == 0, found.stderr
    assert "tokyo-libraries.ja.md" in found.stdout and "[図書館]" in found.stdout
    sjis = run_cli("search", "会議室", "--index", str(tmp_path / "index.db"))
    assert "company-newsletter.sjis.txt" in sjis.stdout
    english = run_cli("search", "typhoon", "--config", str(config))
    assert "weather-report.en.txt" in english.stdout
    second = run_cli("run", "--config", str(config))
    assert second.returncode == 0, second.stderr
    hits = run_cli("search", "図書館", "--index", str(tmp_path / "index.db"), "--format", "json")
    assert len(hits.stdout.strip().splitlines()) == 1
    assert not list((tmp_path / "work").iterdir())  # per-job temp dirs are gone


def test_run_records_bad_files_and_goes_on(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    shutil.copy(SAMPLES / "weather-report.en.txt", docs)
    (docs / "empty.txt").write_bytes(b"")
    (docs / "random.pdf").write_bytes(os.urandom(3000))
    unreadable = docs / "secret.txt"
    unreadable.write_text("secret")
    unreadable.chmod(0)
    sink = tmp_path / "out.jsonl"
    config = tmp_path / "worker.toml"
    config.write_text(
        f'[source]\npath = "{docs}"\n[sink]\ntype = "jsonl"\npath = "{sink}"\n'
        f'[worker]\ntemp_dir = "{tmp_path / "w"}"\nisolation = false\n',
        encoding="utf-8",
    )
    completed = run_cli("run", "--config", str(config))
    assert completed.returncode == 0, completed.stderr
    assert "Traceback" not in completed.stderr
    records = {json.loads(line)["uri"].rsplit("/", 1)[-1]: json.loads(line) for line in sink.read_text().splitlines()}
    assert records["weather-report.en.txt"]["type"] == "result"
    assert records["empty.txt"]["reason"] == "empty"
    assert records["random.pdf"]["type"] == "failure"
    assert records["random.pdf"]["reason"] == "corrupt"  # named like a PDF, but its bytes are not one
    if os.geteuid() != 0:  # root reads everything
        assert records["secret.txt"]["reason"] == "unreadable"
    for record in records.values():
        if record["type"] == "failure":
            assert record["class"] == "permanent" and record["message"] and record["stage"]


def test_extract_json_for_good_and_bad_files(tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    random_pdf = tmp_path / "random.pdf"
    random_pdf.write_bytes(os.urandom(2048))
    good = SAMPLES / "mount-fuji.eucjp.txt"
    completed = run_cli(
        "extract", str(good), str(empty), str(random_pdf), str(tmp_path / "missing.txt"), "--format", "json"
    )
    assert completed.returncode != 0
    objects = [json.loads(line) for line in completed.stdout.splitlines()]
    assert [o["type"] for o in objects] == ["result", "failure", "failure", "failure"]
    ok = objects[0]
    assert set(ok) >= {"schema_version", "path", "type", "id", "uri", "mime_type", "extractor", "text", "pages"}
    assert set(ok) >= {"metadata", "recorded_at"}
    assert "富士山" in ok["text"] and ok["extractor"] == "text"
    assert ok["pages"][0].keys() >= {"number", "text", "ocr", "confidence"}
    assert objects[1]["reason"] == "empty"
    assert objects[3]["reason"] == "unreadable"
    for failed in objects[1:]:
        assert failed["class"] == "permanent"
    stderr_lines = completed.stderr.strip().splitlines()
    assert len(stderr_lines) == 3 and all(line.startswith("extractkit: ") for line in stderr_lines)
    assert "Traceback" not in completed.stderr


def test_extract_text_exit_code_zero_when_all_ok():
    completed = run_cli("extract", str(SAMPLES / "weather-report.en.txt"))
    assert completed.returncode == 0
    assert completed.stdout.startswith("Weekly Weather Report")


def test_bad_config_is_one_line_naming_the_key(tmp_path):
    config = tmp_path / "bad.toml"
    config.write_text('[source]\npath = "."\n[worker]\nmax_workers = "lots"\n', encoding="utf-8")
    completed = run_cli("run", "--config", str(config))
    assert completed.returncode == 78
    assert completed.stderr.strip().count("\n") == 0
    assert "worker.max_workers" in completed.stderr and "whole number" in completed.stderr
    unknown = tmp_path / "unknown.toml"
    unknown.write_text('[source]\ntype = "ftp"\n', encoding="utf-8")
    completed = run_cli("run", "--config", str(unknown))
    assert completed.returncode == 78 and "unknown source 'ftp'" in completed.stderr


def test_validate_only(tmp_path):
    good = _config(tmp_path, SAMPLES)
    completed = run_cli("run", "--config", str(good), "--validate-only")
    assert completed.returncode == 0, completed.stderr
    assert "config ok" in completed.stdout
    missing = _config(tmp_path, tmp_path / "nowhere")
    completed = run_cli("run", "--config", str(missing), "--validate-only")
    assert completed.returncode == 69
    assert "does not exist" in completed.stderr and "Traceback" not in completed.stderr


def test_search_without_index_is_a_clear_error(tmp_path):
    completed = run_cli("search", "x", "--index", str(tmp_path / "none.db"))
    assert completed.returncode == 69
    assert "no local index" in completed.stderr


def test_plugins_lists_builtins_with_versions_and_hooks():
    completed = run_cli("plugins", "--format", "json")
    assert completed.returncode == 0, completed.stderr
    data = json.loads(completed.stdout)
    names = {p["name"]: p for p in data["plugins"]}
    assert names["extractkit_plugins.text.text_extractor"]["hooks"] == ["register_extractors"]
    assert names["extractkit_plugins.text.text_extractor"]["version"]
    assert data["extractors"]["text"] == "extractkit_plugins.text.text_extractor"


def test_misspelt_plugin_via_cli_fails_loudly_in_one_line():
    completed = run_cli("plugins", "--plugin", str(REPO / "tests" / "plugins" / "misspelt_hook.py"))
    assert completed.returncode == 3
    assert "matches no spec" in completed.stderr and "Traceback" not in completed.stderr


def test_isolated_run_with_a_relative_source_path(tmp_path):
    config = _config(tmp_path, "examples/documents", isolation=True)
    completed = run_cli("run", "--config", str(config), cwd=REPO)
    assert completed.returncode == 0, completed.stderr
    assert " indexed, 0 failed" in completed.stderr
    found = run_cli("search", "富士山", "--index", str(tmp_path / "index.db"))
    assert "mount-fuji.eucjp.txt" in found.stdout


def test_wrong_values_in_the_file_fail_validation(tmp_path):
    fractional = tmp_path / "fractional.toml"
    fractional.write_text(f'[source]\npath = "{SAMPLES}"\n[worker]\nmax_workers = 2.5\n', encoding="utf-8")
    completed = run_cli("run", "--config", str(fractional), "--validate-only")
    assert completed.returncode == 78 and "worker.max_workers" in completed.stderr and "2.5" in completed.stderr
    vague = tmp_path / "vague.toml"
    vague.write_text(f'[source]\npath = "{SAMPLES}"\n[worker]\nprogress = "sometimes"\n', encoding="utf-8")
    completed = run_cli("run", "--config", str(vague), "--validate-only")
    assert completed.returncode == 78 and "worker.progress" in completed.stderr
