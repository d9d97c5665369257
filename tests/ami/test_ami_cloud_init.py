"""User Data is valid cloud-config for Debian's cloud-init (22.4), writes the seed's env file, and holds no secrets.

The Terraform template is rendered the way templatefile() renders it (it uses plain ${name} interpolation
only), and the JSON launch template's User Data must be exactly such a rendering.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from support.ami import (
    PACKER,
    SAMPLE_USER_DATA_VALUES,
    USER_DATA_TEMPLATE,
    launch_template_user_data,
    parse_env_file,
    render_template,
    rendered_user_data,
    run,
    tool,
    user_data_env_file,
)

# The seed's variables plus the ones the worker's contract adds; User Data writes all of them.
ENV_FILE_KEYS = {
    "AWS_REGION",
    "S3_BUCKET",
    "SQS_QUEUE_URL",
    "OPENSEARCH_ENDPOINT",
    "OPENSEARCH_INDEX",
    "LOG_LEVEL",
    "TEMP_DIR",
    "MAX_FILE_SIZE_MB",
    "MAX_WORKERS",
    "PROCESSING_TIMEOUT",
    "SQS_VISIBILITY_TIMEOUT",
    "SQS_DLQ_URL",
    "HEALTH_PORT",
    "DRAIN_TIMEOUT",
    "LIFECYCLE_HOOK_NAME",
    "CLOUDWATCH_LOG_GROUP",
}


def _schema(path: Path) -> tuple[int, str]:
    result = run([tool("cloud-init"), "schema", "--config-file", str(path)], timeout=120)
    return result.returncode, result.stdout + result.stderr


def _check_valid(tmp_path: Path, text: str, name: str) -> None:
    path = tmp_path / name
    path.write_text(text)
    returncode, output = _schema(path)
    assert returncode == 0, output
    assert f"Valid cloud-config: {path}" in output, output
    assert "deprecat" not in output.lower(), output


def test_cloud_init_is_debians_22_4():
    version = (Path(tool("cloud-init")).parent.parent / "cloud-init" / "VERSION").read_text()
    assert version.startswith("22.4"), version


def test_rendered_user_data_is_valid_cloud_config(tmp_path):
    _check_valid(tmp_path, rendered_user_data(), "user-data.yaml")


def test_launch_template_json_carries_the_same_user_data(tmp_path):
    decoded = launch_template_user_data()
    _check_valid(tmp_path, decoded, "launch-template-user-data.yaml")
    env = parse_env_file(user_data_env_file(decoded))
    values = {
        "aws_region": env["AWS_REGION"],
        "s3_bucket": env["S3_BUCKET"],
        "sqs_queue_url": env["SQS_QUEUE_URL"],
        "sqs_dlq_url": env["SQS_DLQ_URL"],
        "opensearch_endpoint": env["OPENSEARCH_ENDPOINT"],
        "opensearch_index": env["OPENSEARCH_INDEX"],
        "log_level": env["LOG_LEVEL"],
        "max_file_size_mb": env["MAX_FILE_SIZE_MB"],
        "max_workers": env["MAX_WORKERS"],
        "processing_timeout": env["PROCESSING_TIMEOUT"],
        "sqs_visibility_timeout": env["SQS_VISIBILITY_TIMEOUT"],
        "drain_timeout": env["DRAIN_TIMEOUT"],
        "lifecycle_hook_name": env["LIFECYCLE_HOOK_NAME"],
        "log_group_name": env["CLOUDWATCH_LOG_GROUP"],
    }
    assert decoded == render_template(USER_DATA_TEMPLATE.read_text(), values)


def test_builder_user_data_is_valid_cloud_config(tmp_path):
    text = (PACKER / "builder-user-data.yaml").read_text()
    _check_valid(tmp_path, text, "builder-user-data.yaml")
    default_user = yaml.safe_load(text)["system_info"]["default_user"]
    assert default_user == {"name": "ec2-user", "uid": 1001}, "appuser keeps uid 1000"


def test_schema_check_rejects_a_broken_document(tmp_path):
    broken = (
        rendered_user_data()
        .replace('permissions: "0640"', "permissions: 640")
        .replace("  - [/usr/local/sbin/file-processor-first-boot]", "  - {run: first-boot}")
    )
    path = tmp_path / "broken.yaml"
    path.write_text(broken)
    returncode, output = _schema(path)
    assert returncode != 0
    assert "permissions" in output and "runcmd" in output, output


def test_user_data_writes_the_env_file_and_runs_first_boot():
    document = yaml.safe_load(rendered_user_data())
    assert rendered_user_data().startswith("#cloud-config\n")
    [entry] = document["write_files"]
    assert entry["path"] == "/etc/file-processor/worker.env"
    assert entry["owner"] == "root:root" and entry["permissions"] == "0640"
    env = parse_env_file(entry["content"])
    assert set(env) == ENV_FILE_KEYS
    assert env["TEMP_DIR"] == "/tmp/file-processor"
    assert env["MAX_FILE_SIZE_MB"] == "100" and env["MAX_WORKERS"] == "4" and env["PROCESSING_TIMEOUT"] == "300"
    assert int(env["SQS_VISIBILITY_TIMEOUT"]) > int(env["PROCESSING_TIMEOUT"])
    assert document["runcmd"] == [["/usr/local/sbin/file-processor-first-boot"]]


@pytest.mark.parametrize("key", ["SECRET", "PASSWORD", "TOKEN", "ACCESS_KEY"])
def test_env_file_holds_no_credentials(key):
    env = parse_env_file(user_data_env_file(rendered_user_data()))
    assert not [name for name in env if key in name]


def test_sample_values_cover_the_template():
    assert render_template(USER_DATA_TEMPLATE.read_text(), SAMPLE_USER_DATA_VALUES)
