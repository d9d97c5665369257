"""The start path, run for real against the local test servers (OpenSearch, S3 and SQS).

As the AMI does it: the wheel built from this repository and the lock installed into a fresh virtualenv by
install-app.sh; the env file that User Data writes (the real template, rendered with the test servers'
addresses); the unit's ExecStart, start-worker.sh, run with the unit's environment as an unprivileged user.
A file sent through S3 and SQS must end up in OpenSearch; then SIGTERM, with a document in flight, must drain
it and exit 0 within the unit's TimeoutStopSec.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from support.ami import (
    AMI,
    REPO,
    SAMPLE_USER_DATA_VALUES,
    parse_env_file,
    rendered_user_data,
    seconds,
    unit_environment,
    unit_settings,
    user_data_env_file,
)
from support.aws_stack import Stack, make_stack, s3_event, wait_until
from support.services import require_services

NOBODY = 65534
SLEEPY_PLUGIN = REPO / "tests" / "plugins" / "sleepy_text.py"
TEXT = "東京都立図書館の蔵書検索について。The Tokyo metropolitan library catalogue search, start-path check.\n"


def _python_others_can_run() -> str:
    """A Python 3.11 outside /root (an unprivileged user must be able to run the venv's interpreter)."""
    for candidate in ("/usr/bin/python3.11", "/usr/local/bin/python3.11", sys.executable):
        path = Path(candidate)
        if not path.exists():
            continue
        resolved = path.resolve()
        readable = all(os.stat(parent).st_mode & stat.S_IXOTH for parent in [*resolved.parents][:-1])
        version = subprocess.run([candidate, "-c", "import sys; print(sys.version_info[:2])"], capture_output=True)
        if readable and version.stdout.strip() == b"(3, 11)":
            return candidate
    pytest.fail("no Python 3.11 that an unprivileged user can run (install Debian's python3 and python3-venv)")


@pytest.fixture(scope="module")
def installed() -> Iterator[Path]:
    """/app as build-ami.sh lays it out: the wheel and the lock installed by install-app.sh, plus start-worker.sh."""
    require_services()  # before the build: say at once when the test servers are not running
    root = Path(tempfile.mkdtemp(prefix="extractkit-start-path-", dir="/var/tmp"))
    try:
        root.chmod(0o755)
        dist = root / "dist"
        build = subprocess.run(
            [sys.executable, "-m", "build", "--wheel", "--outdir", str(dist), str(REPO)],
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
        app = root / "app"
        app.mkdir()
        install = subprocess.run(
            [
                "bash",
                str(AMI / "scripts" / "install-app.sh"),
                str(app / "venv"),
                str(dist),
                str(AMI / "requirements.lock"),
                _python_others_can_run(),
            ],
            capture_output=True,
            text=True,
            timeout=900,
            # From PyPI, as on the builder: a local wheel folder would offer files whose hashes are not locked.
            env={k: v for k, v in os.environ.items() if k not in ("PIP_FIND_LINKS", "PIP_NO_INDEX", "VIRTUAL_ENV")},
        )
        assert install.returncode == 0, install.stdout[-3000:] + install.stderr[-3000:]
        assert "extractkit, version" in install.stdout
        bin_dir = root / "usr-local-bin"
        bin_dir.mkdir()
        shutil.copy(AMI / "scripts" / "start-worker.sh", bin_dir / "start-worker.sh")
        (bin_dir / "start-worker.sh").chmod(0o755)
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _user_data_env(stack: Stack, temp_dir: Path, health_port: int) -> dict[str, str]:
    """The env file User Data writes, from the real template, with the test servers in place of AWS."""
    values = {
        **SAMPLE_USER_DATA_VALUES,
        "aws_region": os.environ.get("AWS_REGION", "ap-northeast-1"),
        "s3_bucket": stack.bucket,
        "sqs_queue_url": stack.queue_url,
        "sqs_dlq_url": stack.dlq_url,
        "opensearch_endpoint": stack.opensearch,
        "opensearch_index": stack.index,
        "max_workers": 2,
        "processing_timeout": 60,
        "sqs_visibility_timeout": 90,
        "drain_timeout": 30,
    }
    env = parse_env_file(user_data_env_file(rendered_user_data(values)))
    env["TEMP_DIR"] = str(temp_dir)  # the unit's private /tmp stands in for /tmp here
    env["HEALTH_PORT"] = str(health_port)
    return env


def _unit_process_environment(installed: Path, env_file: dict[str, str]) -> dict[str, str]:
    """What systemd gives ExecStart: the unit's Environment=, then the env file, then the instance's facts."""
    environment = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8"}
    environment.update(unit_environment())
    environment.update(env_file)
    environment["HOME"] = str(installed / "app")
    environment["APP_DIR"] = str(installed / "app")
    if not Path(environment["TESSDATA_PREFIX"]).is_dir():  # the AMI's path; Debian keeps its data elsewhere
        environment.pop("TESSDATA_PREFIX")
    # On EC2 the instance role and the real endpoints take the place of these.
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL_SQS"):
        environment[name] = os.environ[name]
    environment["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = "http://127.0.0.1:9"  # never the real 169.254.169.254
    environment["NO_PROXY"] = environment["no_proxy"] = "127.0.0.1,localhost"
    # The drain check needs one document that takes a while: a test plugin, loaded the way any operator
    # plugin is (EXTRACTKIT__PLUGINS__LOAD); it only touches files named sleepy-*.txt.
    environment["EXTRACTKIT__PLUGINS__LOAD"] = str(SLEEPY_PLUGIN)
    environment["EXTRACTKIT_TEST_SLEEP"] = "8"
    environment["EXTRACTKIT__SOURCE__WAIT_SECONDS"] = "1"
    return environment


def _as_unprivileged(command: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return command
    return ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", "--", *command]


def _exec_start(installed: Path) -> list[str]:
    [exec_start] = unit_settings()["ExecStart"]
    assert exec_start == "/usr/local/bin/start-worker.sh"
    return [str(installed / "usr-local-bin" / Path(exec_start).name)]


def _indexed(stack: Stack, key: str) -> dict | None:
    """The stored document for ``key``, or None (also while the cluster answers 503 for a moment)."""
    try:
        return stack.documents().get(key)
    except AssertionError as error:  # support.services turns HTTP errors into AssertionError
        if "-> 503" in str(error) or "-> 429" in str(error):
            return None
        raise


def _ready(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_start_worker_indexes_a_file_from_s3_and_sqs_then_drains_on_sigterm(installed, tmp_path):
    require_services()
    stack = make_stack(visibility=90)
    work = Path(tempfile.mkdtemp(prefix="extractkit-start-path-run-", dir="/var/tmp"))
    process = None
    try:
        work.chmod(0o755)
        temp_dir = work / "private-tmp" / "file-processor"
        temp_dir.parent.mkdir()
        if os.geteuid() == 0:
            os.chown(temp_dir.parent, NOBODY, NOBODY)
        health_port = _free_port()
        environment = _unit_process_environment(installed, _user_data_env(stack, temp_dir, health_port))

        # First boot validates before it starts the unit.
        validate = subprocess.run(
            _as_unprivileged([*_exec_start(installed), "--validate-only"]),
            env=environment,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert validate.returncode == 0, validate.stdout + validate.stderr
        assert "config ok" in validate.stdout

        log_path = work / "worker.log"  # StandardOutput=append: and StandardError=append: of the unit
        with log_path.open("ab") as log:
            process = subprocess.Popen(
                _as_unprivileged(_exec_start(installed)),
                env=environment,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                start_new_session=True,
            )

        def logs() -> str:
            return log_path.read_text(errors="replace")

        wait_until(lambda: _ready(health_port) or process.poll() is not None, 120, "/readyz")
        assert process.poll() is None, logs()
        # start-worker.sh replaced itself with the worker, which runs unprivileged.
        status = Path(f"/proc/{process.pid}/status").read_text()
        uid = int(next(line.split()[1] for line in status.splitlines() if line.startswith("Uid:")))
        assert uid == (NOBODY if os.geteuid() == 0 else os.geteuid())
        assert b"extractkit\x00run" in Path(f"/proc/{process.pid}/cmdline").read_bytes()

        stack.put("docs/start-path.txt", TEXT.encode())
        stack.send(s3_event(stack.bucket, "docs/start-path.txt", size=len(TEXT.encode())))
        document = wait_until(lambda: _indexed(stack, "docs/start-path.txt"), 180, "the document in OpenSearch")
        assert "Tokyo metropolitan library" in document["content"]
        assert stack.search("catalogue search") == {"docs/start-path.txt"}

        stack.put("docs/sleepy-drain.txt", b"finished during the drain\n")
        stack.send({"bucket": stack.bucket, "key": "docs/sleepy-drain.txt"})
        wait_until(lambda: stack.depth()[1] >= 1, 60, "the slow document in flight")
        time.sleep(1)
        stop_timeout = seconds(unit_settings()["TimeoutStopSec"][0])
        started = time.monotonic()
        os.kill(process.pid, signal.SIGTERM)  # KillMode=mixed: the main process alone
        code = process.wait(stop_timeout)
        elapsed = time.monotonic() - started
        assert code == 0, logs()
        assert elapsed < stop_timeout
        assert wait_until(lambda: _indexed(stack, "docs/sleepy-drain.txt"), 30, "the document finished in the drain")
        assert stack.depth() == (0, 0), "every message is deleted once its document is indexed"
        assert stack.depth(stack.dlq_url) == (0, 0)
        assert '"level": "ERROR"' not in logs(), logs()
    finally:
        if process is not None and process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(30)
        shutil.rmtree(work, ignore_errors=True)
