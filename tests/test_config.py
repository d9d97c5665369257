"""Config loading: TOML, seed environment variables, and errors that name the key."""

from __future__ import annotations

import pytest

from extractkit.errors import ConfigError
from runner.config import load_config


def _write(tmp_path, text):
    path = tmp_path / "worker.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_follow_the_seed(tmp_path):
    config = load_config(_write(tmp_path, '[source]\ntype = "folder"\npath = "."\n'), environ={})
    assert config.worker["max_workers"] == 4
    assert config.worker["processing_timeout"] == 300
    assert config.worker["max_file_size_mb"] == 100
    assert config.worker["temp_dir"] == "/tmp/file-processor"
    assert config.sink_type == "local_index"
    assert config.extract_options().max_file_size == 100 * 1024 * 1024


def test_seed_variables_override_the_file(tmp_path):
    path = _write(tmp_path, '[source]\ntype = "folder"\npath = "."\n[worker]\nmax_workers = 8\n')
    environ = {
        "MAX_WORKERS": "2",
        "PROCESSING_TIMEOUT": "45",
        "TEMP_DIR": "/var/tmp/x",
        "LOG_LEVEL": "debug",
        "MAX_FILE_SIZE_MB": "5",
        "OPENSEARCH_INDEX": "docs",
    }
    config = load_config(path, environ=environ)
    assert config.worker["max_workers"] == 2
    assert config.worker["processing_timeout"] == 45.0
    assert config.worker["temp_dir"] == "/var/tmp/x"
    assert config.worker["log_level"] == "DEBUG"
    assert config.extract_options().max_file_size == 5 * 1024 * 1024
    assert config.sink["index"] == "docs"


def test_environment_alone_selects_the_aws_plugins():
    config = load_config(None, environ={"SQS_QUEUE_URL": "http://127.0.0.1:1/q", "OPENSEARCH_ENDPOINT": "http://x"})
    assert config.source_type == "sqs"
    assert config.sink_type == "opensearch"


def test_generic_variables_reach_any_key(tmp_path):
    path = _write(tmp_path, '[source]\ntype = "folder"\npath = "."\n')
    config = load_config(path, environ={"EXTRACTKIT__EXTRACT__OCR_LANGUAGES": "eng"})
    assert config.extract_options().ocr_languages == "eng"


@pytest.mark.parametrize(
    ("toml", "environ", "key", "words"),
    [
        ('[worker]\nmax_workers = "four"\n', {}, "worker.max_workers", "whole number"),
        ("[worker]\nmax_workers = 0\n", {}, "worker.max_workers", "greater than 0"),
        ("", {"MAX_WORKERS": "many"}, "worker.max_workers", "from MAX_WORKERS"),
        ("[worker]\nmax_wrokers = 2\n", {}, "worker.max_wrokers", "unknown key"),
        ('[extract]\nocr_enabled = "maybe"\n', {}, "extract.ocr_enabled", "true or false"),
        ("[workers]\nmax_workers = 2\n", {}, "workers", "unknown section"),
        ('[worker]\nlog_level = "LOUD"\n', {}, "worker.log_level", "expected one of"),
    ],
)
def test_bad_values_name_the_key(tmp_path, toml, environ, key, words):
    path = _write(tmp_path, '[source]\ntype = "folder"\npath = "."\n' + toml)
    with pytest.raises(ConfigError) as caught:
        load_config(path, environ=environ)
    assert caught.value.key == key
    assert words in str(caught.value)


def test_broken_toml_and_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(_write(tmp_path, "[source\n"), environ={})
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "missing.toml", environ={})
    with pytest.raises(ConfigError, match="pass --config"):
        load_config(None, environ={})


def test_extract_keys_come_from_extract_options_with_their_defaults():
    from extractkit.models import ExtractOptions

    config = load_config(None, {"S3_BUCKET": "b", "EXTRACTKIT__EXTRACT__MAX_ARCHIVE_ENTRIES": "5"})
    options = config.extract_options()
    assert options.max_archive_entries == 5
    assert options.max_archive_uncompressed == ExtractOptions().max_archive_uncompressed
    assert options.office_password == ""


def test_extract_extra_table_reaches_the_extractors(tmp_path):
    path = tmp_path / "w.toml"
    path.write_text('[source]\ntype = "folder"\npath = "."\n[extract.extra]\nmy_plugin_option = 3\n')
    assert load_config(path, {}).extract_options().extra == {"my_plugin_option": 3}


def test_fractional_worker_count_and_unknown_progress_word_are_refused():
    with pytest.raises(ConfigError, match="whole number"):
        load_config(None, {"S3_BUCKET": "b", "MAX_WORKERS": "2.5"})
    with pytest.raises(ConfigError, match="auto, on or off"):
        load_config(None, {"S3_BUCKET": "b", "EXTRACTKIT__WORKER__PROGRESS": "sometimes"})
    assert load_config(None, {"S3_BUCKET": "b", "EXTRACTKIT__WORKER__PROGRESS": "ON"}).worker["progress"] == "on"
    assert load_config(None, {"S3_BUCKET": "b", "EXTRACTKIT__WORKER__PROGRESS": "yes"}).worker["progress"] == "on"


def test_seed_variables_of_another_plugin_do_not_reach_the_chosen_one(tmp_path):
    path = tmp_path / "w.toml"
    path.write_text('[source]\ntype = "folder"\npath = "."\n[sink]\ntype = "local_index"\npath = "i.db"\n')
    environ = {"OPENSEARCH_ENDPOINT": "http://127.0.0.1:9200", "S3_BUCKET": "b", "SQS_QUEUE_URL": "http://q"}
    config = load_config(path, environ)
    assert config.sink_options() == {"path": "i.db"}
    assert "bucket" not in config.source_options() and "queue_url" not in config.source_options()
    assert load_config(None, environ).sink_type == "opensearch"
