"""The worker's systemd unit: `systemd-analyze verify` finds nothing, and its exposure score stays at 2.5 or less.

verify only warns about unknown keys and bad values, so its stderr is read. It runs against a scratch root
holding the unit, the host's unit library and the ExecStart script, so it also checks that ExecStart exists.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from support.ami import AMI, README, UNIT, run, seconds, tool, unit_environment, unit_settings

MAX_EXPOSURE = 2.5
UNIT_NAME = UNIT.name


def _scratch_root(tmp_path: Path, unit_text: str) -> Path:
    root = tmp_path / "root"
    (root / "etc/systemd/system").mkdir(parents=True)
    (root / "usr/local/bin").mkdir(parents=True)
    (root / "usr/lib/systemd").mkdir(parents=True)
    library = Path("/usr/lib/systemd/system")
    if not library.is_dir():
        pytest.fail("systemd's unit library is missing: install the systemd package", pytrace=False)
    shutil.copytree(library, root / "usr/lib/systemd/system", symlinks=True)
    (root / "etc/systemd/system" / UNIT_NAME).write_text(unit_text)
    start = root / "usr/local/bin/start-worker.sh"
    shutil.copy(AMI / "scripts" / "start-worker.sh", start)
    start.chmod(0o755)
    return root


def _verify(tmp_path: Path, unit_text: str) -> tuple[int, list[str]]:
    root = _scratch_root(tmp_path, unit_text)
    result = run([tool("systemd-analyze"), "verify", f"--root={root}", UNIT_NAME], timeout=120)
    lines = [line for line in (result.stdout + result.stderr).splitlines() if line.strip()]
    return result.returncode, lines


def test_verify_reports_nothing(tmp_path):
    returncode, lines = _verify(tmp_path, UNIT.read_text())
    ours = [line for line in lines if UNIT_NAME in line or "start-worker" in line]
    assert not ours, "systemd-analyze verify complains about the unit:\n" + "\n".join(ours)
    assert returncode == 0, "\n".join(lines)


def test_verify_would_see_an_unknown_key_and_a_missing_command(tmp_path):
    broken = UNIT.read_text().replace("KillMode=mixed", "KillMode=mixed\nKilMode=mixed\nTimeoutStopSec=soon")
    broken = broken.replace("/usr/local/bin/start-worker.sh", "/usr/local/bin/no-such-script.sh")
    _, lines = _verify(tmp_path, broken)
    text = "\n".join(lines)
    assert "Unknown key 'KilMode'" in text or "Unknown key name 'KilMode'" in text
    assert "Failed to parse" in text
    assert "no-such-script.sh" in text


def _security() -> tuple[float, list[dict]]:
    analyze = tool("systemd-analyze")
    text = run([analyze, "security", "--offline=true", "--no-pager", str(UNIT)], timeout=120)
    match = re.search(r"Overall exposure level for \S+: (\d+(?:\.\d+)?)", text.stdout + text.stderr)
    assert match, text.stdout + text.stderr
    listing = run([analyze, "security", "--offline=true", "--json=short", str(UNIT)], timeout=120)
    return float(match.group(1)), json.loads(listing.stdout)


def test_exposure_is_at_most_two_and_a_half():
    exposure, _ = _security()
    assert exposure <= MAX_EXPOSURE, f"exposure {exposure} > {MAX_EXPOSURE}"


def test_every_remaining_exposure_is_explained_in_the_readme():
    _, items = _security()
    remaining = [item for item in items if item.get("exposure") not in (None, "0.0") and not item.get("set")]
    assert remaining, "the analysis found nothing at all, which cannot be right for a networked worker"
    section = README.read_text().split("### Exposure that remains", 1)
    assert len(section) == 2, "ami/README.md needs a '### Exposure that remains' section"
    explained = section[1].split("\n## ", 1)[0].replace("\\|", "|")  # Markdown tables escape the pipe
    missing = [item["name"] for item in remaining if item["name"] not in explained]
    assert not missing, f"not explained in ami/README.md: {missing}"


def test_unit_settings_the_worker_relies_on():
    settings = unit_settings()
    single = {key: values[-1] for key, values in settings.items()}
    assert single["User"] == "appuser" and single["Group"] == "appuser"
    assert single["ExecStart"] == "/usr/local/bin/start-worker.sh"
    assert single["KillMode"] == "mixed"
    assert single["KillSignal"] == "SIGTERM"
    assert single["Restart"] == "on-failure"
    assert "78" in single["RestartPreventExitStatus"], "a config error (EX_CONFIG) must not restart forever"
    assert seconds(single["TimeoutStopSec"]) > float(unit_environment()["DRAIN_TIMEOUT"]) + 30
    assert "/etc/file-processor/worker.env" in settings["EnvironmentFile"]
    assert single["NoNewPrivileges"] == "yes"
    assert single["ProtectSystem"] == "strict"
    assert single["PrivateTmp"] == "yes"
    assert "/var/log/file-processor" in " ".join(settings["ReadWritePaths"])
    assert unit_environment()["TEMP_DIR"] == "/tmp/file-processor", "TEMP_DIR lives in the private /tmp"
    assert single["WantedBy"] == "multi-user.target"


def test_the_seed_environment_reaches_the_worker_through_the_env_file():
    settings = unit_settings()
    assert "/etc/profile.d" not in UNIT.read_text(), "systemd never reads /etc/profile.d (the seed's mistake)"
    assert settings["EnvironmentFile"][0] == "/etc/file-processor/worker.env", "required: no leading '-'"
