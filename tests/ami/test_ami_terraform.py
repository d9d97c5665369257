"""The Terraform module, parsed with python-hcl2: references resolve, and the must-haves are there.

No terraform binary or AWS provider can be installed here, so `terraform validate` cannot run. These checks
stand in for it: every file parses, every reference names something declared, and the settings the operator
depends on (IMDSv2, no key pair, encrypted gp3, detailed monitoring, backlog-per-instance metric math, the
terminating lifecycle hook, the DLQ redrive, the visibility timeout, least-privilege IAM) are present.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pytest

from support.ami import (
    TERRAFORM,
    UNIT,
    USER_DATA_TEMPLATE,
    default,
    expressions,
    seconds,
    template_variables,
    terraform_module,
    unit_environment,
    unit_settings,
    unwrap,
)

# Names that are not references to the module's own blocks.
BUILTIN_ROOTS = {"var", "local", "data", "module", "path", "each", "count", "self", "terraform"}
REFERENCE = re.compile(r"(?<![\w.\-/:\"])((?:data\.)?[a-z][a-z0-9_]*)\.([a-z_][a-z0-9_]*)")


def _references(expression: str) -> list[tuple[str, str]]:
    """(root, name) pairs referenced by one expression, string literals inside it left out."""
    if "${" not in expression:
        return []
    code = re.sub(r'\\"', "", expression)
    # Drop quoted literals inside the expression ("..." without interpolation).
    code = re.sub(r'"[^"$]*"', '""', code)
    found = []
    for match in REFERENCE.finditer(code):
        root, name = match.group(1), match.group(2)
        if root.startswith("data."):
            found.append(("data", f"{root[5:]}.{name}"))
        else:
            found.append((root, name))
    return found


def _all_expressions() -> list[tuple[Path, str]]:
    module = terraform_module()
    return [(path, text) for path, parsed in module.files.items() for text in expressions(parsed)]


def test_every_file_parses_and_declares_something():
    module = terraform_module()
    files = sorted(TERRAFORM.glob("*.tf"))
    assert len(files) >= 8
    assert set(module.files) == set(files)
    assert module.resources and module.variables and module.outputs


def test_every_reference_is_declared():
    module = terraform_module()
    data_sources = {address for address in module.data}
    problems = []
    for path, text in _all_expressions():
        for root, name in _references(text):
            where = f"{path.name}: {text[:80]}"
            if root == "var" and name not in module.variables:
                problems.append(f"undeclared var.{name} in {where}")
            elif root == "local" and name not in module.locals:
                problems.append(f"undeclared local.{name} in {where}")
            elif root == "data" and name not in data_sources:
                problems.append(f"undeclared data.{name} in {where}")
            elif root.startswith("aws_") and f"{root}.{name}" not in module.resources:
                problems.append(f"undeclared resource {root}.{name} in {where}")
            elif (
                root not in BUILTIN_ROOTS
                and not root.startswith("aws_")
                and root
                not in {
                    "statement",
                    "condition",
                    "tag",
                }
            ):
                problems.append(f"unknown reference {root}.{name} in {where}")
    assert not problems, "\n".join(problems)


def test_reference_checker_sees_a_bad_reference():
    assert ("var", "missing") in _references("${var.missing + 1}")
    assert ("aws_sqs_queue", "nope") in _references("${aws_sqs_queue.nope.arn}")
    assert ("data", "aws_partition.current") in _references("${data.aws_partition.current.partition}")
    assert _references('${"arn:aws:s3:::bucket.name"}') == []


def test_every_variable_and_local_is_used_and_documented():
    module = terraform_module()
    used = {(root, name) for _, text in _all_expressions() for root, name in _references(text)}
    unused_variables = [name for name in module.variables if ("var", name) not in used]
    unused_locals = [name for name in module.locals if ("local", name) not in used]
    assert not unused_variables, f"declared but never used: {unused_variables}"
    assert not unused_locals, f"locals never used: {unused_locals}"
    for name, variable in module.variables.items():
        assert variable.get("description"), f"variable {name} has no description"
        assert variable.get("type"), f"variable {name} has no type"
    for name, output in module.outputs.items():
        assert output.get("description"), f"output {name} has no description"


def test_provider_and_terraform_versions_are_pinned():
    [versions] = terraform_module().files[TERRAFORM / "versions.tf"]["terraform"]
    assert versions["required_version"].startswith(">=")
    [providers] = versions["required_providers"]
    assert providers["aws"]["source"] == "hashicorp/aws"
    assert "<" in providers["aws"]["version"], "an upper bound keeps a major provider release from applying blindly"


# --- the launch template ----------------------------------------------------------------------------------------------


def test_launch_template_requires_imdsv2_with_hop_limit_one():
    template = terraform_module().resource("aws_launch_template.worker")
    [metadata] = template["metadata_options"]
    assert metadata["http_tokens"] == "required"
    assert metadata["http_put_response_hop_limit"] == 1
    assert metadata["http_endpoint"] == "enabled"


def test_no_key_pair_anywhere():
    for path in TERRAFORM.rglob("*.tf"):
        assert "key_name" not in path.read_text(), f"{path.name} sets a key pair; access is through SSM"
    template = terraform_module().resource("aws_launch_template.worker")
    assert "key_name" not in template


def test_root_volume_is_encrypted_gp3_and_monitoring_is_detailed():
    template = terraform_module().resource("aws_launch_template.worker")
    [mapping] = template["block_device_mappings"]
    [ebs] = mapping["ebs"]
    assert ebs["volume_type"] == "gp3"
    assert ebs["encrypted"] is True
    assert ebs["delete_on_termination"] is True
    [monitoring] = template["monitoring"]
    assert monitoring["enabled"] is True
    assert template["instance_initiated_shutdown_behavior"] == "terminate"
    tag_types = {spec["resource_type"] for spec in template["tag_specifications"]}
    assert {"instance", "volume"} <= tag_types


def test_user_data_template_gets_exactly_its_variables():
    template = terraform_module().resource("aws_launch_template.worker")
    user_data = template["user_data"]
    assert "templates/user-data.yaml.tftpl" in user_data
    passed = set(re.findall(r"([a-z][a-z0-9_]*)\s*=", user_data.split("{", 2)[-1]))
    wanted = template_variables(USER_DATA_TEMPLATE.read_text())
    assert passed == wanted, f"passed {sorted(passed ^ wanted)} differ from the template's variables"


# --- queues ----------------------------------------------------------------------------------------------------------


def test_work_queue_redrives_to_the_dlq_after_max_receive_count():
    module = terraform_module()
    queue = module.resource("aws_sqs_queue.work")
    redrive = queue["redrive_policy"]
    assert "deadLetterTargetArn = aws_sqs_queue.dlq.arn" in redrive
    assert "maxReceiveCount = var.max_receive_count" in redrive
    assert 2 <= default("max_receive_count") <= 10
    allow = module.resource("aws_sqs_queue_redrive_allow_policy.dlq")
    assert "aws_sqs_queue.work.arn" in allow["redrive_allow_policy"]
    assert default("dlq_retention_seconds") == 14 * 24 * 3600


def test_visibility_timeout_exceeds_processing_timeout():
    module = terraform_module()
    queue = module.resource("aws_sqs_queue.work")
    assert unwrap(queue["visibility_timeout_seconds"]) == "var.sqs_visibility_timeout"
    assert default("sqs_visibility_timeout") > default("processing_timeout")
    conditions = [p["condition"] for block in queue["lifecycle"] for p in block["precondition"]]
    assert "${var.sqs_visibility_timeout > var.processing_timeout}" in conditions
    assert queue["receive_wait_time_seconds"] == 20, "long polling"


def test_queues_are_encrypted():
    module = terraform_module()
    for name in ("work", "dlq"):
        queue = module.resource(f"aws_sqs_queue.{name}")
        assert "sqs_managed_sse_enabled" in queue and "kms_master_key_id" in queue


def test_bucket_notification_feeds_the_queue_with_a_policy_that_allows_it():
    module = terraform_module()
    notification = module.resource("aws_s3_bucket_notification.source")
    [queue] = notification["queue"]
    assert unwrap(queue["queue_arn"]) == "aws_sqs_queue.work.arn"
    assert {"s3:ObjectCreated:*", "s3:ObjectRemoved:*"} <= set(queue["events"])
    assert "${aws_sqs_queue_policy.work}" in notification["depends_on"]
    statements = module.policy_statements("work_queue")
    [allow] = [s for s in statements if s["effect"] == "Allow"]
    assert allow["actions"] == ["sqs:SendMessage"]
    assert allow["principals"][0]["identifiers"] == ["s3.amazonaws.com"]
    variables = {c["variable"] for c in allow["condition"]}
    assert {"aws:SourceArn", "aws:SourceAccount"} <= variables


# --- the group and its scaling ---------------------------------------------------------------------------------------


def test_group_spans_subnets_with_the_launch_template():
    group = terraform_module().resource("aws_autoscaling_group.worker")
    assert unwrap(group["vpc_zone_identifier"]) == "var.private_subnet_ids"
    [template] = group["launch_template"]
    assert unwrap(template["id"]) == "aws_launch_template.worker.id"
    assert (default("min_size"), default("desired_capacity"), default("max_size")) == (1, 2, 10)
    assert default("health_check_grace_period") == 300
    assert "GroupInServiceInstances" in group["enabled_metrics"], "the metric math needs the group metric"


def test_target_tracking_uses_backlog_per_instance_metric_math():
    policy = terraform_module().resource("aws_autoscaling_policy.backlog_per_instance")
    assert policy["policy_type"] == "TargetTrackingScaling"
    [configuration] = policy["target_tracking_configuration"]
    assert unwrap(configuration["target_value"]) == "local.target_backlog_per_instance"
    [custom] = configuration["customized_metric_specification"]
    assert "metric_name" not in custom, "a single raw metric is the seed's mistake"
    metrics = {m["id"]: m for m in custom["metrics"]}
    by_name = {}
    for metric_id, metric in metrics.items():
        if "metric_stat" in metric:
            [stat] = metric["metric_stat"]
            [definition] = stat["metric"]
            by_name[definition["metric_name"]] = (metric_id, definition, metric["return_data"])
    visible_id, visible, visible_returned = by_name["ApproximateNumberOfMessagesVisible"]
    in_service_id, in_service, in_service_returned = by_name["GroupInServiceInstances"]
    assert visible["namespace"] == "AWS/SQS" and in_service["namespace"] == "AWS/AutoScaling"
    assert visible["dimensions"][0]["value"] == "${aws_sqs_queue.work.name}"
    assert in_service["dimensions"][0]["value"] == "${aws_autoscaling_group.worker.name}"
    assert visible_returned is False and in_service_returned is False
    [returned] = [m for m in metrics.values() if m.get("return_data") is True]
    assert re.fullmatch(rf"\s*{visible_id}\s*/\s*{in_service_id}\s*", returned["expression"])


def test_target_is_derived_from_latency_processing_time_and_workers():
    module = terraform_module()
    formula = unwrap(module.locals["derived_target_backlog"])
    names = set(re.findall(r"var\.([a-z_]+)", formula))
    assert names == {"acceptable_latency_seconds", "average_processing_seconds", "max_workers"}
    expression = re.sub(r"var\.([a-z_]+)", lambda m: repr(default(m.group(1))), formula)
    assert re.fullmatch(r"[\d\s.+*/()floor]+", expression), expression
    target = eval(expression, {"__builtins__": {}}, {"floor": math.floor})
    assert target == math.floor(600 / 24 * 4) == 100
    assert "var.target_backlog_per_instance" in module.locals["target_backlog_per_instance"]


def test_emergency_step_policy_and_schedules():
    module = terraform_module()
    step = module.resource("aws_autoscaling_policy.emergency_scale_out")
    assert step["policy_type"] == "StepScaling"
    assert [s["scaling_adjustment"] for s in step["step_adjustment"]] == [50, 100]
    alarm = module.resource("aws_cloudwatch_metric_alarm.queue_flood")
    assert alarm["alarm_actions"] == ["${aws_autoscaling_policy.emergency_scale_out.arn}"]
    assert default("emergency_queue_depth") == 500
    morning = module.resource("aws_autoscaling_schedule.scale_up_morning")
    evening = module.resource("aws_autoscaling_schedule.scale_down_evening")
    assert (morning["recurrence"], morning["min_size"], morning["desired_capacity"]) == ("0 8 * * MON-FRI", 3, 5)
    assert evening["recurrence"] == "0 20 * * *"
    for schedule in (morning, evening):
        assert unwrap(schedule["time_zone"]) == "var.schedule_time_zone"
    assert default("schedule_time_zone") == "Asia/Tokyo"


def test_terminating_lifecycle_hook_outlasts_the_drain():
    group = terraform_module().resource("aws_autoscaling_group.worker")
    [hook] = group["initial_lifecycle_hook"]
    assert hook["lifecycle_transition"] == "autoscaling:EC2_INSTANCE_TERMINATING"
    assert hook["default_result"] == "CONTINUE"
    assert unwrap(hook["name"]) == "local.lifecycle_hook_name"
    assert default("lifecycle_heartbeat_timeout") > default("drain_timeout") + 30
    template = USER_DATA_TEMPLATE.read_text()
    assert "LIFECYCLE_HOOK_NAME=${lifecycle_hook_name}" in template, "the worker must know which hook to complete"


def test_drain_deadline_fits_inside_the_units_stop_timeout():
    stop_timeout = seconds(unit_settings(UNIT)["TimeoutStopSec"][0])
    assert float(unit_environment(UNIT)["DRAIN_TIMEOUT"]) < stop_timeout
    [validation] = terraform_module().variables["drain_timeout"]["validation"]
    upper = int(re.search(r"var\.drain_timeout <= (\d+)", validation["condition"]).group(1))
    assert upper + 20 <= stop_timeout, "the worker needs time to release messages after the drain"
    assert default("drain_timeout") <= upper


def test_instance_refresh_rolls_back_and_keeps_capacity():
    group = terraform_module().resource("aws_autoscaling_group.worker")
    [refresh] = group["instance_refresh"]
    [preferences] = refresh["preferences"]
    assert preferences["min_healthy_percentage"] == 90
    assert preferences["auto_rollback"] is True
    assert preferences["checkpoint_percentages"] == [50, 100]


def test_alarms_on_dlq_depth_oldest_message_and_worker_errors():
    module = terraform_module()
    dlq = module.resource("aws_cloudwatch_metric_alarm.dlq_not_empty")
    assert dlq["metric_name"] == "ApproximateNumberOfMessagesVisible"
    assert dlq["dimensions"] == {"QueueName": "${aws_sqs_queue.dlq.name}"}
    age = module.resource("aws_cloudwatch_metric_alarm.oldest_message_age")
    assert age["metric_name"] == "ApproximateAgeOfOldestMessage"
    assert age["dimensions"] == {"QueueName": "${aws_sqs_queue.work.name}"}
    errors = module.resource("aws_cloudwatch_metric_alarm.worker_errors")
    assert "aws_cloudwatch_log_metric_filter.worker_errors" in errors["metric_name"]
    metric_filter = module.resource("aws_cloudwatch_log_metric_filter.worker_errors")
    assert '$.level = "ERROR"' in metric_filter["pattern"]
    for alarm in (dlq, age, errors):
        assert unwrap(alarm["alarm_actions"]) == "var.alarm_actions"


# --- IAM --------------------------------------------------------------------------------------------------------------

# Actions AWS does not let a policy narrow to a resource: "*" is the only resource they accept.
UNNARROWABLE = {"autoscaling:DescribeAutoScalingInstances", "cloudwatch:PutMetricData", "ec2:DescribeTags"}


@pytest.mark.parametrize("document", ["worker", "assume_ec2", "work_queue"])
def test_no_wildcard_that_could_be_narrowed(document):
    for statement in terraform_module().policy_statements(document):
        if statement.get("effect", "Allow") != "Allow":
            continue
        actions = statement.get("actions", [])
        assert all("*" not in action for action in actions), f"{statement.get('sid')}: wildcard action {actions}"
        if "*" in statement.get("resources", []):
            assert set(actions) <= UNNARROWABLE, f"{statement.get('sid')}: resource * for {actions}"
        if "cloudwatch:PutMetricData" in actions:
            assert any(c["variable"] == "cloudwatch:namespace" for c in statement["condition"])


def test_role_is_for_ec2_with_session_manager_and_no_admin():
    module = terraform_module()
    [assume] = module.policy_statements("assume_ec2")
    assert assume["actions"] == ["sts:AssumeRole"]
    assert assume["principals"][0]["identifiers"] == ["ec2.amazonaws.com"]
    attachment = module.resource("aws_iam_role_policy_attachment.ssm")
    assert attachment["policy_arn"].endswith(":iam::aws:policy/AmazonSSMManagedInstanceCore")
    text = "\n".join(path.read_text() for path in TERRAFORM.glob("*.tf"))
    assert "AdministratorAccess" not in text and "PowerUserAccess" not in text
    actions = {a for statement in module.policy_statements("worker") for a in statement["actions"]}
    assert "logs:CreateLogGroup" not in actions, "Terraform creates the log group"
    assert "s3:PutObject" not in actions, "the worker never writes to the bucket"


def test_group_waits_for_the_role_policy():
    group = terraform_module().resource("aws_autoscaling_group.worker")
    assert "${aws_iam_role_policy.worker}" in group["depends_on"]
    asg_arn = terraform_module().locals["asg_arn"]
    assert "aws_autoscaling_group" not in asg_arn, "the policy must not wait for the group it protects"


def test_outputs_give_what_the_deploy_scripts_need():
    outputs = terraform_module().outputs
    for name in ("queue_url", "dlq_url", "autoscaling_group_name", "launch_template_id", "lifecycle_hook_name"):
        assert name in outputs
    assert json.dumps(outputs)  # plain data
