"""Shared helpers of the ami/ checks: paths, the offline tools, HCL parsing and template rendering."""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import hcl2
import pytest

REPO = Path(__file__).resolve().parents[2]
AMI = REPO / "ami"
TERRAFORM = AMI / "terraform"
PACKER = AMI / "packer"
UNIT = AMI / "systemd" / "file-processor-worker.service"
USER_DATA_TEMPLATE = TERRAFORM / "templates" / "user-data.yaml.tftpl"
LAUNCH_TEMPLATE_JSON = AMI / "deploy" / "launch-template.json"
README = AMI / "README.md"
TOOLS_VENV = Path(os.environ.get("AMI_TOOLS_VENV", REPO / ".venv-ami-tools"))
INSTALL_HINT = "run `bash scripts/install-ami-tools.sh` (make test does)"

# Values a real deployment would pass to the user-data template (the module's defaults where it has them).
SAMPLE_USER_DATA_VALUES: dict[str, Any] = {
    "aws_region": "ap-northeast-1",
    "s3_bucket": "cis-filesearch-storage",
    "sqs_queue_url": "https://sqs.ap-northeast-1.amazonaws.com/123456789012/file-processor-queue",
    "sqs_dlq_url": "https://sqs.ap-northeast-1.amazonaws.com/123456789012/file-processor-dlq",
    "opensearch_endpoint": "https://search-file-index-example.ap-northeast-1.es.amazonaws.com",
    "opensearch_index": "file-index",
    "log_level": "INFO",
    "max_file_size_mb": 100,
    "max_workers": 4,
    "processing_timeout": 300,
    "sqs_visibility_timeout": 360,
    "drain_timeout": 120,
    "lifecycle_hook_name": "file-processor-drain",
    "log_group_name": "/aws/ec2/file-processor",
}


def tool(name: str) -> str:
    """The path of an offline tool: from .venv-ami-tools/bin, else from PATH; a failure (never a skip) if absent."""
    candidate = TOOLS_VENV / "bin" / name
    if candidate.exists():
        return str(candidate)
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed: {INSTALL_HINT}", pytrace=False)
    return found


def run(command: list[str], *, timeout: float = 300, **kwargs: Any) -> subprocess.CompletedProcess:
    """Run a command and capture its output as text."""
    environment = {**os.environ, "CHECKPOINT_DISABLE": "1", **kwargs.pop("env", {})}
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=environment, **kwargs)


def shell_scripts() -> list[Path]:
    """Every shell script this part of the project ships: under ami/ and the tool installer."""
    scripts = sorted(AMI.rglob("*.sh"))
    return [*scripts, REPO / "scripts" / "install-ami-tools.sh"]


# --- HCL --------------------------------------------------------------------------------------------------------------


def _strip_quotes(value: Any) -> Any:
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    return value


def _normalise(value: Any) -> Any:
    """python-hcl2's output with label quotes removed and its block markers dropped."""
    if isinstance(value, dict):
        return {_strip_quotes(k): _normalise(v) for k, v in value.items() if k != "__is_block__"}
    if isinstance(value, list):
        return [_normalise(v) for v in value]
    return value


def load_hcl(path: Path) -> dict:
    """Parse one HCL2 file (Terraform or Packer) into plain dicts, string literals without their quotes."""
    text = path.read_text()
    options = getattr(hcl2, "SerializationOptions", None)
    if options is not None:
        parsed = hcl2.loads(text, serialization_options=options(strip_string_quotes=True, with_comments=False))
    else:  # python-hcl2 before 7 strips the quotes itself
        parsed = hcl2.loads(text)
    return _normalise(parsed)


@dataclass
class TerraformModule:
    """Every block of every .tf file of the module, by kind."""

    files: dict[Path, dict] = field(default_factory=dict)
    variables: dict[str, dict] = field(default_factory=dict)
    locals: dict[str, Any] = field(default_factory=dict)
    resources: dict[str, dict] = field(default_factory=dict)  # "type.name" -> body
    data: dict[str, dict] = field(default_factory=dict)  # "type.name" -> body
    outputs: dict[str, dict] = field(default_factory=dict)

    def resource(self, address: str) -> dict:
        """The body of resource ``type.name``."""
        assert address in self.resources, f"the module has no resource {address}"
        return self.resources[address]

    def policy_statements(self, document: str) -> list[dict]:
        """The statements of ``data.aws_iam_policy_document.<document>``, dynamic ones included."""
        body = self.data[f"aws_iam_policy_document.{document}"]
        statements = list(body.get("statement", []))
        for dynamic in body.get("dynamic", []):
            for _label, block in dynamic.items():
                for content in block.get("content", []):
                    statements.append(content)
        return statements


@cache
def terraform_module() -> TerraformModule:
    """The parsed module in ami/terraform."""
    module = TerraformModule()
    for path in sorted(TERRAFORM.glob("*.tf")):
        parsed = load_hcl(path)
        module.files[path] = parsed
        for block in parsed.get("variable", []):
            module.variables.update(block)
        for block in parsed.get("locals", []):
            module.locals.update(block)
        for block in parsed.get("output", []):
            module.outputs.update(block)
        for kind, target in (("resource", module.resources), ("data", module.data)):
            for block in parsed.get(kind, []):
                for resource_type, named in block.items():
                    for name, body in named.items():
                        address = f"{resource_type}.{name}"
                        assert address not in target, f"{kind} {address} is declared twice"
                        target[address] = body
    return module


def expressions(value: Any) -> list[str]:
    """Every string in a parsed HCL value (expressions and literals)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in expressions(v)]
    if isinstance(value, list):
        return [s for v in value for s in expressions(v)]
    return []


def unwrap(expression: Any) -> Any:
    """``${var.x}`` -> ``var.x``; anything else unchanged."""
    if isinstance(expression, str) and expression.startswith("${") and expression.endswith("}"):
        inner = expression[2:-1]
        if "${" not in inner:
            return inner
    return expression


def default(name: str) -> Any:
    """The default of a module variable."""
    variable = terraform_module().variables[name]
    assert "default" in variable, f"variable {name} has no default"
    return variable["default"]


# --- User Data --------------------------------------------------------------------------------------------------------

TEMPLATE_PLACEHOLDER = re.compile(r"(?<!\$)\$\{([a-z_][a-z0-9_]*)\}")


def template_variables(text: str) -> set[str]:
    """The names a Terraform template interpolates (only plain ``${name}`` is used in ours)."""
    return set(TEMPLATE_PLACEHOLDER.findall(text))


def render_template(text: str, values: dict[str, Any]) -> str:
    """Render a Terraform template made of plain ``${name}`` interpolations, as templatefile() does."""
    assert "%{" not in text, "the template uses directives; render it with terraform instead"
    missing = template_variables(text) - values.keys()
    assert not missing, f"no value for {sorted(missing)}"
    rendered = TEMPLATE_PLACEHOLDER.sub(lambda m: str(values[m.group(1)]), text)
    return rendered.replace("$${", "${")


def rendered_user_data(values: dict[str, Any] | None = None) -> str:
    """The User Data the launch template carries, rendered with sample values."""
    return render_template(USER_DATA_TEMPLATE.read_text(), values or SAMPLE_USER_DATA_VALUES)


def launch_template_json() -> dict:
    """ami/deploy/launch-template.json."""
    return json.loads(LAUNCH_TEMPLATE_JSON.read_text())


def launch_template_user_data() -> str:
    """The decoded User Data of the JSON launch template."""
    return base64.b64decode(launch_template_json()["LaunchTemplateData"]["UserData"]).decode()


def parse_env_file(text: str) -> dict[str, str]:
    """KEY=VALUE lines, as systemd's EnvironmentFile= reads plain values."""
    values = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, separator, value = line.partition("=")
        assert separator and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key), f"not KEY=VALUE: {line!r}"
        values[key] = value.strip().strip("\"'")
    return values


def user_data_env_file(user_data: str) -> str:
    """The content of /etc/file-processor/worker.env that a User Data document writes."""
    import yaml

    document = yaml.safe_load(user_data)
    [entry] = [f for f in document["write_files"] if f["path"] == "/etc/file-processor/worker.env"]
    return entry["content"]


# --- systemd ----------------------------------------------------------------------------------------------------------


def unit_settings(path: Path = UNIT) -> dict[str, list[str]]:
    """Every ``Key=value`` of a unit file, by key (a key may repeat)."""
    settings: dict[str, list[str]] = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";", "[")):
            continue
        key, _, value = line.partition("=")
        settings.setdefault(key.strip(), []).append(value.strip())
    return settings


def unit_environment(path: Path = UNIT) -> dict[str, str]:
    """The unit's ``Environment=`` defaults."""
    environment = {}
    for assignment in unit_settings(path).get("Environment", []):
        for word in assignment.split():
            key, _, value = word.partition("=")
            environment[key] = value
    return environment


def seconds(value: str) -> float:
    """A systemd time span such as ``180``, ``3min`` or ``2min 30s`` in seconds."""
    units = {"": 1, "s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600}
    total = 0.0
    for number, unit in re.findall(r"(\d+(?:\.\d+)?)\s*([a-z]*)", value):
        total += float(number) * units[unit]
    return total
