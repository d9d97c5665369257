"""No secret in any file of ami/ (User Data decoded too): no AWS keys, private keys, tokens or passwords."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pytest

from support.ami import AMI, REPO, launch_template_user_data

PATTERNS = {
    "AWS access key id": re.compile(r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA)[0-9A-Z]{16}\b"),
    "AWS secret access key": re.compile(
        r"(?i)aws.{0,20}secret.{0,20}[=:]\s*['\"]?[A-Za-z0-9/+=]{40}(?![A-Za-z0-9/+=])"
    ),
    "private key": re.compile(r"-----BEGIN (?:RSA |EC |DSA |OPENSSH |ENCRYPTED )?PRIVATE KEY-----"),
    "GitHub token": re.compile(r"\b(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36}\b|\bgithub_pat_[A-Za-z0-9_]{60,}"),
    "Slack token": re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{10,}"),
    "password assignment": re.compile(
        r"(?i)\b(?:password|passwd)\w*\s*[:=]\s*['\"][^'\"\s$]{4,}['\"]|\b[A-Z_]*PASSWORD=[^\s$'\"]{4,}"
    ),
    "secret in a URL": re.compile(r"https?://[^/\s:@]+:[^/\s:@]+@"),
}


def _files() -> list[Path]:
    files = [p for p in AMI.rglob("*") if p.is_file() and "dist" not in p.relative_to(AMI).parts]
    return [*files, REPO / "scripts" / "install-ami-tools.sh"]


def _findings(text: str) -> list[str]:
    return [name for name, pattern in PATTERNS.items() if pattern.search(text)]


@pytest.mark.parametrize("path", _files(), ids=lambda p: str(p.relative_to(REPO)))
def test_no_secret_in_file(path):
    text = path.read_text(errors="replace")
    assert not _findings(text), f"{path.relative_to(REPO)}: {_findings(text)}"


def test_no_secret_in_user_data():
    assert not _findings(launch_template_user_data())
    for match in re.findall(r"[A-Za-z0-9+/]{200,}={0,2}", (AMI / "deploy" / "launch-template.json").read_text()):
        assert not _findings(base64.b64decode(match).decode(errors="replace"))


def test_the_scanner_finds_planted_secrets():
    key_id = "AKIA" + "ABCDEFGHIJKLMNOP"
    secret = "aws_secret_access_key = " + "wJalrXUtnFEMI/K7MDENG/bPxRfiCY" + "EXAMPLEKEY"
    planted = "\n".join(
        [
            key_id,
            secret,
            "-----BEGIN " + "RSA PRIVATE KEY-----",
            "OPENSEARCH_PASSWORD=" + "hunter22",
            'password: "' + 'hunter22"',
            "https://u:p@x",
        ]
    )
    assert set(_findings(planted)) >= {
        "AWS access key id",
        "AWS secret access key",
        "private key",
        "password assignment",
        "secret in a URL",
    }
    assert not _findings("PasswordAuthentication no\nif [[ -z $PASSWORD ]]; then\npassword = var.password\n")
