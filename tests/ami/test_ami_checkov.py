"""checkov (in .venv-ami-tools, its own virtualenv) finds no failed check in ami/terraform.

A check the module cannot pass would have to be skipped inline, with `# checkov:skip=<ID>:<reason>` next to the
resource; every skip must carry its reason.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

from support.ami import TERRAFORM, run, tool


def _checkov(directory: Path) -> dict:
    result = run(
        [tool("checkov"), "--directory", str(directory), "--framework", "terraform", "--skip-download", "-o", "json"],
        timeout=600,
        env={"BC_SKIP_MAPPING": "TRUE"},
    )
    assert result.stdout.strip(), result.stderr
    report = json.loads(result.stdout)
    [report] = report if isinstance(report, list) else [report]
    return report


def test_checkov_passes():
    report = _checkov(TERRAFORM)
    summary = report["summary"]
    assert summary["parsing_errors"] == 0, summary
    failed = [f"{c['check_id']} {c['resource']}: {c['check_name']}" for c in report["results"]["failed_checks"]]
    assert not failed, "\n".join(failed)
    assert summary["passed"] >= 50, summary
    for check in report["results"]["skipped_checks"]:
        assert (check.get("check_result", {}).get("suppress_comment") or "").strip(), check["check_id"]


def test_inline_skips_carry_a_reason():
    for path in TERRAFORM.rglob("*.tf"):
        for line in path.read_text().splitlines():
            if "checkov:skip" in line:
                assert re.search(r"checkov:skip=CKV2?_[A-Z]+_\d+:\s*\S", line), f"{path.name}: {line.strip()}"


def test_checkov_fails_a_module_that_allows_imdsv1(tmp_path):
    copy = tmp_path / "terraform"
    shutil.copytree(TERRAFORM, copy)
    launch_template = copy / "launch_template.tf"
    launch_template.write_text(launch_template.read_text().replace('"required"', '"optional"'))
    failed = {c["check_id"] for c in _checkov(copy)["results"]["failed_checks"]}
    assert "CKV_AWS_79" in failed
