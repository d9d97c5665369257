"""shellcheck on every shell script of ami/, the tool installer, and the run steps of the example CI workflow."""

from __future__ import annotations

import re

import pytest
import yaml

from support.ami import AMI, REPO, run, shell_scripts, tool

WORKFLOW = AMI / "ci" / "build-and-deploy-ami.yml"


def test_the_scripts_are_all_found():
    names = {path.name for path in shell_scripts()}
    expected = {
        "build-ami.sh",
        "ami-cleanup.sh",
        "first-boot.sh",
        "start-worker.sh",
        "install-app.sh",
        "install-tesseract-al2023.sh",
        "build-artifacts.sh",
        "worker-diagnostics.sh",
        "deploy-new-ami.sh",
        "blue-green-deploy.sh",
        "debug-worker.sh",
        "install-ami-tools.sh",
    }
    assert expected <= names


@pytest.mark.parametrize("script", shell_scripts(), ids=lambda p: str(p.relative_to(REPO)))
def test_shellcheck(script):
    assert script.read_text().startswith("#!/usr/bin/env bash\n"), "every script runs with bash"
    result = run([tool("shellcheck"), "--shell=bash", "--external-sources", "--severity=style", str(script)])
    assert result.returncode == 0, result.stdout + result.stderr


def _workflow_steps() -> list[tuple[str, str]]:
    workflow = yaml.safe_load(WORKFLOW.read_text())
    steps = []
    for job_name, job in workflow["jobs"].items():
        for step in job["steps"]:
            if "run" in step:
                steps.append((f"{job_name}: {step.get('name', step['run'][:30])}", step["run"]))
    return steps


@pytest.mark.parametrize(("name", "script"), _workflow_steps(), ids=[name for name, _ in _workflow_steps()])
def test_shellcheck_workflow_steps(tmp_path, name, script):
    # GitHub substitutes ${{ ... }} before bash sees the script, and runs it with `bash -e -o pipefail`.
    text = "#!/usr/bin/env bash\nset -eo pipefail\n" + re.sub(r"\$\{\{[^}]*\}\}", "placeholder", script)
    path = tmp_path / "step.sh"
    path.write_text(text)
    result = run([tool("shellcheck"), "--shell=bash", "--severity=style", str(path)])
    assert result.returncode == 0, f"{name}:\n{result.stdout}{result.stderr}"


def test_workflow_uses_oidc_and_no_stored_keys():
    workflow = yaml.safe_load(WORKFLOW.read_text())
    text = WORKFLOW.read_text()
    assert workflow["permissions"] == {}, "no default token permissions"
    for job in ("build-ami", "deploy-ami"):
        assert workflow["jobs"][job]["permissions"]["id-token"] == "write"
    for forbidden in ("aws-access-key-id", "aws-secret-access-key", "EC2_KEY_NAME", "key-name", "secrets."):
        assert forbidden not in text
    assert "packer build" in text and "deploy-new-ami.sh" in text and "blue-green-deploy.sh" in text
