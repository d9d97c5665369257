"""The Packer template: `packer validate` (Debian's packer 1.6.6, amazon-ebs built in) and `packer fmt -check`.

Full validation runs offline (no credentials are needed to check the template); it also checks that every file
the provisioners upload exists. The wheel folder is given as a scratch folder holding a stand-in wheel, so the
check does not depend on a build having run.
"""

from __future__ import annotations

from pathlib import Path

from support.ami import PACKER, load_hcl, run, tool, unwrap

TEMPLATE = PACKER / "worker.pkr.hcl"


def _validate(tmp_path: Path, *extra: str) -> tuple[int, str]:
    dist = tmp_path / "dist"
    dist.mkdir(exist_ok=True)
    (dist / "extractkit-0.0.0-py3-none-any.whl").write_bytes(b"")
    command = [tool("packer"), "validate", f"-var=dist_dir={dist}", *extra, str(TEMPLATE)]
    result = run(command, timeout=120, cwd=PACKER)
    return result.returncode, result.stdout + result.stderr


def test_packer_validate(tmp_path):
    returncode, output = _validate(tmp_path, "-var=version=1.0.0", "-var=subnet_id=subnet-0123456789abcdef0")
    assert returncode == 0, output


def test_packer_validate_catches_a_missing_variable(tmp_path):
    returncode, output = _validate(tmp_path, "-var=subnet_id=subnet-0123456789abcdef0")
    assert returncode != 0
    assert "version" in output


def test_packer_fmt_check():
    result = run([tool("packer"), "fmt", "-check", "-diff", str(PACKER)], timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def test_builder_is_amazon_linux_2023_without_ssh_keys():
    template = load_hcl(TEMPLATE)
    [sources] = template["source"]
    source = sources["amazon-ebs"]["worker"]
    [ami_filter] = source["source_ami_filter"]
    assert ami_filter["filters"]["name"].startswith("al2023-ami-")
    assert ami_filter["owners"] == ["amazon"] and ami_filter["most_recent"] is True
    assert source["ssh_interface"] == "session_manager"
    assert source["associate_public_ip_address"] is False
    for forbidden in ("ssh_keypair_name", "ssh_private_key_file", "ssh_password", "access_key", "secret_key"):
        assert forbidden not in source
    [volume] = source["launch_block_device_mappings"]
    assert volume["encrypted"] is True and volume["volume_type"] == "gp3"
    assert source["encrypt_boot"] is True
    variables = {name for block in template["variable"] for name in block}
    assert {"region", "subnet_id", "instance_type", "version"} <= variables


def test_build_provisions_then_cleans_up_last():
    [build] = load_hcl(TEMPLATE)["build"]
    shells = [p["shell"] for p in build["provisioner"] if "shell" in p]
    commands = [" ".join(unwrap(c) for c in shell["inline"]) for shell in shells]
    provision = next(i for i, c in enumerate(commands) if "build-ami.sh" in c)
    assert "ami-cleanup.sh" in commands[-1] and provision < len(commands) - 1
    uploads = [p["file"]["source"] for p in build["provisioner"] if "file" in p]
    assert any("requirements.lock" in u for u in uploads) and any("dist_dir" in u for u in uploads)
