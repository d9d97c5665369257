"""ami/deploy/launch-template.json is a valid CreateLaunchTemplate request, and matches the Terraform template.

botocore's ParamValidator checks names, types, required members and ranges against the EC2 model; the enum
members, which it does not check, are checked here by walking the input shape.
"""

from __future__ import annotations

from typing import Any

import botocore.session
from botocore.model import Shape
from botocore.validate import ParamValidator

from support.ami import default, launch_template_json, terraform_module


def _input_shape() -> Shape:
    model = botocore.session.get_session().get_service_model("ec2")
    return model.operation_model("CreateLaunchTemplate").input_shape


def _enum_errors(value: Any, shape: Shape, path: str = "") -> list[str]:
    errors = []
    if shape.type_name == "structure" and isinstance(value, dict):
        for name, member in value.items():
            if name in shape.members:
                errors += _enum_errors(member, shape.members[name], f"{path}.{name}")
    elif shape.type_name == "list" and isinstance(value, list):
        for index, item in enumerate(value):
            errors += _enum_errors(item, shape.member, f"{path}[{index}]")
    elif shape.type_name == "string" and shape.enum and value not in shape.enum:
        errors.append(f"{path}: {value!r} is not one of {shape.enum}")
    return errors


def _problems(request: dict) -> str:
    report = ParamValidator().validate(request, _input_shape())
    messages = report.generate_report() if report.has_errors() else ""
    return "\n".join(filter(None, [messages, *_enum_errors(request, _input_shape())]))


def test_json_is_a_valid_create_launch_template_request():
    problems = _problems(launch_template_json())
    assert not problems, problems


def test_validator_finds_unknown_members_wrong_types_and_bad_enums():
    request = launch_template_json()
    data = request["LaunchTemplateData"]
    data["Keyname"] = "oops"
    data["Monitoring"] = {"Enabled": "yes"}
    data["MetadataOptions"]["HttpTokens"] = "always"
    problems = _problems(request)
    assert "Keyname" in problems
    assert "Enabled" in problems
    assert "HttpTokens" in problems


def test_must_haves():
    data = launch_template_json()["LaunchTemplateData"]
    assert "KeyName" not in data, "no key pair: access is through Session Manager"
    assert data["MetadataOptions"]["HttpTokens"] == "required"
    assert data["MetadataOptions"]["HttpPutResponseHopLimit"] == 1
    assert data["Monitoring"] == {"Enabled": True}
    [mapping] = data["BlockDeviceMappings"]
    assert mapping["Ebs"]["VolumeType"] == "gp3" and mapping["Ebs"]["Encrypted"] is True
    instance_tags = next(s for s in data["TagSpecifications"] if s["ResourceType"] == "instance")
    keys = {tag["Key"] for tag in instance_tags["Tags"]}
    assert {"Name", "Environment", "Application", "ManagedBy"} <= keys


def test_json_matches_the_terraform_launch_template():
    data = launch_template_json()["LaunchTemplateData"]
    template = terraform_module().resource("aws_launch_template.worker")
    [metadata] = template["metadata_options"]
    assert data["MetadataOptions"] == {
        "HttpEndpoint": metadata["http_endpoint"],
        "HttpTokens": metadata["http_tokens"],
        "HttpPutResponseHopLimit": metadata["http_put_response_hop_limit"],
        "HttpProtocolIpv6": metadata["http_protocol_ipv6"],
        "InstanceMetadataTags": metadata["instance_metadata_tags"],
    }
    [mapping] = template["block_device_mappings"]
    [ebs] = mapping["ebs"]
    assert data["BlockDeviceMappings"][0]["DeviceName"] == mapping["device_name"]
    json_ebs = data["BlockDeviceMappings"][0]["Ebs"]
    assert json_ebs["VolumeSize"] == default("root_volume_size")
    assert (json_ebs["Iops"], json_ebs["Throughput"]) == (ebs["iops"], ebs["throughput"])
    assert data["InstanceType"] == default("instance_type") == "c5.xlarge"
    assert data["EbsOptimized"] is template["ebs_optimized"] is True
    assert data["InstanceInitiatedShutdownBehavior"] == template["instance_initiated_shutdown_behavior"]
    assert data["IamInstanceProfile"]["Name"] == "file-processor-worker"
