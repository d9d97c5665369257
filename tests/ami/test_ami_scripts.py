"""ami-cleanup.sh, start-worker.sh and first-boot.sh, run for real against scratch folders and stand-ins.

The clean-up runs against a copy of the filesystem layout (AMI_CLEANUP_ROOT); first boot runs against a local
IMDSv2 stand-in that refuses any GET without a session token, with stand-ins for systemctl, systemd-run and
the CloudWatch agent that record how they were called.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from support.ami import AMI, parse_env_file, rendered_user_data, unit_environment, user_data_env_file
from support.imds import FakeInstanceMetadata

SCRIPTS = AMI / "scripts"
BASE_ENV = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8", "HOME": "/nonexistent"}


def _write(path: Path, text: str = "x", mode: int | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    if mode is not None:
        path.chmod(mode)
    return path


# --- ami-cleanup.sh ---------------------------------------------------------------------------------------------------


def _image_tree(root: Path) -> None:
    for relative in (
        "tmp/ami-build/scripts/build-ami.sh",
        "var/tmp/leftover",
        "var/log/old.log.1",
        "var/log/dnf.log-20261201",
        "var/log/archive.gz",
        "var/log/journal/0123/system.journal",
        "var/log/file-processor/worker.log",
        "var/log/cloud-init.log",
        "var/log/cloud-init-output.log",
        "root/.bash_history",
        "home/ec2-user/.bash_history",
        "home/ec2-user/.ssh/authorized_keys",
        "root/.ssh/authorized_keys",
        "etc/ssh/ssh_host_ed25519_key",
        "etc/ssh/ssh_host_ed25519_key.pub",
        "var/lib/cloud/instances/i-0123/user-data.txt",
        "etc/file-processor/worker.env",
        "etc/file-processor/instance.env",
        "app/tools/__pycache__/helper.cpython-311.pyc",
        "root/.cache/pip/wheel",
        "var/cache/dnf/metadata",
        "opt/aws/amazon-cloudwatch-agent/etc/file-processor.json",
        "opt/aws/amazon-cloudwatch-agent/logs/amazon-cloudwatch-agent.log",
    ):
        _write(root / relative, "instance data\n")
    _write(root / "var/log/messages", "boot messages\n")
    _write(root / "var/log/secure", "logins\n")
    _write(root / "etc/machine-id", "0123456789abcdef0123456789abcdef\n")
    _write(root / "etc/ssh/sshd_config", "PasswordAuthentication no\n")
    _write(root / "app/venv/lib/python3.11/site-packages/mod/__pycache__/mod.cpython-311.pyc", "bytecode")
    _write(root / "opt/aws/amazon-cloudwatch-agent/etc/file-processor.template.json", "{}")


def _cleanup(root: Path, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", str(SCRIPTS / "ami-cleanup.sh")],
        env={**BASE_ENV, "AMI_CLEANUP_ROOT": str(root), **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_cleanup_leaves_nothing_of_the_builder(tmp_path):
    root = tmp_path / "image"
    _image_tree(root)
    result = _cleanup(root)
    assert result.returncode == 0, result.stdout + result.stderr
    gone = [
        "tmp/ami-build",
        "var/tmp/leftover",
        "var/log/old.log.1",
        "var/log/dnf.log-20261201",
        "var/log/archive.gz",
        "var/log/journal/0123",
        "var/log/file-processor/worker.log",
        "var/log/cloud-init.log",
        "root/.bash_history",
        "home/ec2-user/.bash_history",
        "home/ec2-user/.ssh/authorized_keys",
        "root/.ssh/authorized_keys",
        "etc/ssh/ssh_host_ed25519_key",
        "etc/ssh/ssh_host_ed25519_key.pub",
        "var/lib/cloud/instances/i-0123",
        "etc/file-processor/worker.env",
        "etc/file-processor/instance.env",
        "app/tools/__pycache__",
        "root/.cache",
        "var/cache/dnf/metadata",
        "opt/aws/amazon-cloudwatch-agent/etc/file-processor.json",
        "opt/aws/amazon-cloudwatch-agent/logs/amazon-cloudwatch-agent.log",
    ]
    assert [path for path in gone if (root / path).exists()] == []
    for emptied in ("var/log/messages", "var/log/secure", "etc/machine-id"):
        assert (root / emptied).read_text() == "", emptied
    kept = [
        "etc/ssh/sshd_config",
        "app/venv/lib/python3.11/site-packages/mod/__pycache__/mod.cpython-311.pyc",
        "opt/aws/amazon-cloudwatch-agent/etc/file-processor.template.json",
        "var/log/file-processor",
        "etc/file-processor",
    ]
    assert [path for path in kept if not (root / path).exists()] == []


@pytest.mark.parametrize(
    "variable", ["SQS_QUEUE_URL", "OPENSEARCH_ENDPOINT", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"]
)
def test_cleanup_refuses_with_sensitive_variables_before_removing_anything(tmp_path, variable):
    root = tmp_path / "image"
    _image_tree(root)
    result = _cleanup(root, **{variable: "value"})
    assert result.returncode == 1
    assert variable in result.stdout
    assert "value" not in result.stdout, "the values are never printed"
    assert (root / "root/.bash_history").exists() and (root / "etc/ssh/ssh_host_ed25519_key").exists()


def test_cleanup_refuses_with_credential_files(tmp_path):
    root = tmp_path / "image"
    _image_tree(root)
    _write(root / "root/.aws/credentials", "[default]\n")
    result = _cleanup(root)
    assert result.returncode == 1
    assert ".aws/credentials" in result.stdout
    assert (root / "var/tmp/leftover").exists()


def test_cleanup_refuses_a_relative_root(tmp_path):
    result = _cleanup(Path("relative/root"))
    assert result.returncode == 2


# --- start-worker.sh --------------------------------------------------------------------------------------------------

WORKER_ENV = {
    "AWS_REGION": "ap-northeast-1",
    "S3_BUCKET": "bucket",
    "SQS_QUEUE_URL": "https://sqs.ap-northeast-1.amazonaws.com/123456789012/file-processor-queue",
    "OPENSEARCH_ENDPOINT": "https://search.example",
    "OPENSEARCH_INDEX": "file-index",
}


def _fake_app(tmp_path: Path) -> tuple[Path, Path]:
    app = tmp_path / "app"
    out = tmp_path / "extractkit.out"
    _write(
        app / "venv/bin/extractkit",
        '#!/usr/bin/env bash\nprintf \'pid=%s args=%s temp=%s omp=%s\\n\' "$$" "$*" "$TEMP_DIR" "$OMP_THREAD_LIMIT"'
        f' >"{out}"\n',
        0o755,
    )
    return app, out


def test_start_worker_checks_then_execs_the_worker(tmp_path):
    app, out = _fake_app(tmp_path)
    temp_dir = tmp_path / "private-tmp" / "file-processor"
    process = subprocess.Popen(
        ["bash", str(SCRIPTS / "start-worker.sh")],
        env={**BASE_ENV, **WORKER_ENV, "APP_DIR": str(app), "TEMP_DIR": str(temp_dir)},
        stderr=subprocess.PIPE,
        text=True,
    )
    _, stderr = process.communicate(timeout=30)
    assert process.returncode == 0, stderr
    record = dict(part.split("=", 1) for part in out.read_text().split())
    assert record["pid"] == str(process.pid), "start-worker.sh must exec the worker (it receives SIGTERM itself)"
    assert record["args"] == "run"
    assert record["temp"] == str(temp_dir) and record["omp"] == "1"
    assert stat.S_IMODE(temp_dir.stat().st_mode) == 0o700
    assert json.loads(stderr.splitlines()[-1])["level"] == "INFO"


def test_start_worker_validate_only(tmp_path):
    app, out = _fake_app(tmp_path)
    result = subprocess.run(
        ["bash", str(SCRIPTS / "start-worker.sh"), "--validate-only"],
        env={**BASE_ENV, **WORKER_ENV, "APP_DIR": str(app), "TEMP_DIR": str(tmp_path / "t")},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    assert "args=run --validate-only" in out.read_text()


@pytest.mark.parametrize("missing", sorted(WORKER_ENV))
def test_start_worker_refuses_an_incomplete_config_with_ex_config(tmp_path, missing):
    app, out = _fake_app(tmp_path)
    env = {**BASE_ENV, **WORKER_ENV, "APP_DIR": str(app)}
    del env[missing]
    result = subprocess.run(
        ["bash", str(SCRIPTS / "start-worker.sh")], env=env, capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 78
    line = json.loads(result.stderr.strip().splitlines()[-1])
    assert line["level"] == "ERROR" and missing in line["message"]
    assert not out.exists()


# --- first-boot.sh ----------------------------------------------------------------------------------------------------


class _Ready:
    """A stand-in for the worker's health endpoint."""

    def __enter__(self) -> _Ready:
        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200 if self.path == "/readyz" else 404)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, format: str, *args: object) -> None:
                """Quiet."""

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def _stubs(tmp_path: Path) -> tuple[Path, Path]:
    """systemctl, systemd-run, systemd-tmpfiles, journalctl and the agent's ctl, recording their arguments."""
    bin_dir, calls = tmp_path / "bin", tmp_path / "calls.log"
    unit_env = " ".join(f"{k}={v}" for k, v in unit_environment().items())
    record = f'printf \'%s %s\\n\' "$(basename "$0")" "$*" >>"{calls}"\n'
    _write(
        bin_dir / "systemctl",
        "#!/usr/bin/env bash\n" + record + 'if [[ "$1" == show && "$2" == --property=Environment ]]; then\n'
        f'  echo "{unit_env}"\nelif [[ "$1" == show ]]; then\n  echo active\nfi\n',
        0o755,
    )
    _write(bin_dir / "systemd-run", "#!/usr/bin/env bash\n" + record + 'exit "${STUB_VALIDATE_STATUS:-0}"\n', 0o755)
    for name in ("systemd-tmpfiles", "journalctl", "amazon-cloudwatch-agent-ctl"):
        _write(bin_dir / name, "#!/usr/bin/env bash\n" + record, 0o755)
    return bin_dir, calls


def _first_boot(tmp_path: Path, imds: FakeInstanceMetadata, health_port: int, **overrides: str):
    etc = tmp_path / "etc"
    agent_etc = tmp_path / "agent-etc"
    agent_etc.mkdir()
    (agent_etc / "file-processor.template.json").write_text(
        (AMI / "cloudwatch/amazon-cloudwatch-agent.json").read_text()
    )
    env_file = user_data_env_file(rendered_user_data()).replace("HEALTH_PORT=8080", f"HEALTH_PORT={health_port}")
    env_file = env_file.replace("CLOUDWATCH_LOG_GROUP=/aws/ec2/file-processor", "CLOUDWATCH_LOG_GROUP=/aws/ec2/test")
    for key, value in overrides.items():
        env_file = "\n".join(line for line in env_file.splitlines() if not line.startswith(f"{key}="))
        if value:
            env_file += f"\n{key}={value}\n"
    _write(etc / "worker.env", env_file)
    bin_dir, calls = _stubs(tmp_path)
    result = subprocess.run(
        ["bash", str(SCRIPTS / "first-boot.sh")],
        env={
            **BASE_ENV,
            "PATH": f"{bin_dir}:{BASE_ENV['PATH']}",
            "FILE_PROCESSOR_ETC": str(etc),
            "FIRST_BOOT_LOG": str(tmp_path / "user-data.log"),
            "AWS_EC2_METADATA_SERVICE_ENDPOINT": imds.endpoint,
            "CW_AGENT_CTL": str(bin_dir / "amazon-cloudwatch-agent-ctl"),
            "CW_AGENT_ETC": str(agent_etc),
            "READY_TIMEOUT": "20",
            "STUB_VALIDATE_STATUS": os.environ.get("STUB_VALIDATE_STATUS", "0"),
            **{k: v for k, v in overrides.items() if k.startswith("STUB_")},
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    lines = calls.read_text().splitlines() if calls.exists() else []
    return result, lines, etc, agent_etc


def _imds() -> FakeInstanceMetadata:
    imds = FakeInstanceMetadata("i-0123456789abcdef0")
    imds.values.update(
        {
            "placement/availability-zone": "ap-northeast-1a",
            "placement/region": "ap-northeast-1",
            "instance-type": "c5.xlarge",
        }
    )
    return imds


def test_first_boot_reads_imdsv2_validates_and_starts_the_worker(tmp_path):
    with _imds() as imds, _Ready() as ready:
        result, calls, etc, agent_etc = _first_boot(tmp_path, imds, ready.port)
        assert result.returncode == 0, result.stdout + result.stderr
        assert imds.token_requests >= 1 and imds.unauthenticated_gets == 0
    instance = parse_env_file((etc / "instance.env").read_text())
    assert instance == {
        "INSTANCE_ID": "i-0123456789abcdef0",
        "AVAILABILITY_ZONE": "ap-northeast-1a",
        "INSTANCE_TYPE": "c5.xlarge",
        "AWS_DEFAULT_REGION": "ap-northeast-1",
    }
    config = json.loads((agent_etc / "file-processor.json").read_text())
    groups = {entry["log_group_name"] for entry in config["logs"]["logs_collected"]["files"]["collect_list"]}
    assert groups == {"/aws/ec2/test"}
    [agent] = [c for c in calls if c.startswith("amazon-cloudwatch-agent-ctl")]
    assert f"-a fetch-config -m ec2 -s -c file:{agent_etc}/file-processor.json" in agent
    [validate] = [c for c in calls if c.startswith("systemd-run")]
    assert "--uid=appuser" in validate and "--gid=appuser" in validate
    assert f"--property=EnvironmentFile={etc}/worker.env" in validate
    assert "--setenv=TEMP_DIR=/tmp/file-processor" in validate
    assert validate.endswith("/usr/local/bin/start-worker.sh --validate-only")
    enable = calls.index("systemctl enable --now file-processor-worker.service")
    assert calls.index(validate) < enable, "the worker starts only after the validation"
    log = (tmp_path / "user-data.log").read_text().splitlines()
    assert json.loads(log[-1])["message"] == "file-processor-worker.service is active and ready"


def test_first_boot_does_not_start_a_worker_that_fails_validation(tmp_path):
    with _imds() as imds, _Ready() as ready:
        result, calls, _, _ = _first_boot(tmp_path, imds, ready.port, STUB_VALIDATE_STATUS="1")
    assert result.returncode == 1
    assert not [c for c in calls if "enable --now" in c]
    last = json.loads(result.stdout.strip().splitlines()[-1])
    assert last["level"] == "ERROR" and "validate-only failed" in last["message"]


def test_first_boot_refuses_an_env_file_without_the_queue(tmp_path):
    with _imds() as imds, _Ready() as ready:
        result, calls, _, _ = _first_boot(tmp_path, imds, ready.port, SQS_QUEUE_URL="")
        assert imds.token_requests == 0, "it stops before asking instance metadata"
    assert result.returncode == 1
    assert "has no SQS_QUEUE_URL" in result.stdout
    assert calls == []


def test_first_boot_refuses_credentials_in_the_env_file(tmp_path):
    with _imds() as imds, _Ready() as ready:
        result, _, _, _ = _first_boot(tmp_path, imds, ready.port, AWS_SECRET_ACCESS_KEY="not-a-real-secret")
    assert result.returncode == 1
    assert "holds credentials" in result.stdout
