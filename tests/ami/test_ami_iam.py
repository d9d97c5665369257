"""The workers' IAM policy allows every AWS call the worker and the CloudWatch agent make, and nothing else.

CALLS lists each call as (service, operation) with the IAM action it needs and the resource it touches. The
operation names are checked against botocore's service models; each call must be allowed by a statement of
data.aws_iam_policy_document.worker on that resource, and every action the policy grants must be used by a
call. The table is written by hand from the worker's contract for now.
"""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase

import botocore.session
import pytest

from support.ami import terraform_module

# The resource kinds and the expressions the policy names them with.
RESOURCES = {
    "objects": "${local.objects_arn}",
    "bucket": "${local.bucket_arn}",
    "queue": "${aws_sqs_queue.work.arn}",
    "dlq": "${aws_sqs_queue.dlq.arn}",
    "domain": "${var.opensearch_domain_arn}/*",
    "group": "${local.asg_arn}",
    "log-group": "${aws_cloudwatch_log_group.worker.arn}",
    "log-stream": "${aws_cloudwatch_log_group.worker.arn}:*",
    "any": "*",
}


@dataclass(frozen=True)
class Call:
    """One AWS API call and the permission it needs."""

    service: str  # botocore service name, or "es-http" for OpenSearch REST calls signed with SigV4
    operation: str
    action: str
    resource: str  # a key of RESOURCES
    caller: str = "worker"


CALLS = [
    # S3 source: the size check, the streamed download, a versioned object, the prefix listing of
    # `extractkit enqueue`, and the bucket check of --validate-only.
    Call("s3", "HeadObject", "s3:GetObject", "objects"),
    Call("s3", "GetObject", "s3:GetObject", "objects"),
    Call("s3", "GetObject", "s3:GetObjectVersion", "objects"),  # GetObject with VersionId
    Call("s3", "ListObjectsV2", "s3:ListBucket", "bucket"),
    Call("s3", "HeadBucket", "s3:ListBucket", "bucket"),
    # SQS source: receive, heartbeat, back off, delete after success, queue checks.
    Call("sqs", "GetQueueUrl", "sqs:GetQueueUrl", "queue"),
    Call("sqs", "GetQueueAttributes", "sqs:GetQueueAttributes", "queue"),
    Call("sqs", "ReceiveMessage", "sqs:ReceiveMessage", "queue"),
    Call("sqs", "ChangeMessageVisibility", "sqs:ChangeMessageVisibility", "queue"),
    Call("sqs", "ChangeMessageVisibilityBatch", "sqs:ChangeMessageVisibility", "queue"),
    Call("sqs", "DeleteMessage", "sqs:DeleteMessage", "queue"),
    Call("sqs", "DeleteMessageBatch", "sqs:DeleteMessage", "queue"),
    Call("sqs", "SendMessage", "sqs:SendMessage", "queue"),  # extractkit enqueue
    Call("sqs", "SendMessageBatch", "sqs:SendMessage", "queue"),  # enqueue, DLQ replay back to the queue
    # DLQ: failure records, its check, and the replay that reads it back.
    Call("sqs", "GetQueueAttributes", "sqs:GetQueueAttributes", "dlq"),
    Call("sqs", "GetQueueUrl", "sqs:GetQueueUrl", "dlq"),
    Call("sqs", "SendMessage", "sqs:SendMessage", "dlq"),
    Call("sqs", "ReceiveMessage", "sqs:ReceiveMessage", "dlq"),
    Call("sqs", "DeleteMessageBatch", "sqs:DeleteMessage", "dlq"),
    Call("sqs", "ChangeMessageVisibilityBatch", "sqs:ChangeMessageVisibility", "dlq"),
    # OpenSearch sink (opensearch-py with SigV4): cluster checks (GET /, whose resource is domain/NAME/),
    # the index template, bulk writes, object-removed deletes.
    Call("es-http", "GET", "es:ESHttpGet", "domain"),
    Call("es-http", "HEAD", "es:ESHttpHead", "domain"),
    Call("es-http", "POST", "es:ESHttpPost", "domain"),
    Call("es-http", "PUT", "es:ESHttpPut", "domain"),
    Call("es-http", "DELETE", "es:ESHttpDelete", "domain"),
    # Scale-in: find the group, complete the terminating hook after the drain.
    Call("autoscaling", "DescribeAutoScalingInstances", "autoscaling:DescribeAutoScalingInstances", "any"),
    Call("autoscaling", "CompleteLifecycleAction", "autoscaling:CompleteLifecycleAction", "group"),
    Call("autoscaling", "RecordLifecycleActionHeartbeat", "autoscaling:RecordLifecycleActionHeartbeat", "group"),
    # The CloudWatch agent: the worker log, the first-boot log, host metrics, the group-name dimension. The log
    # calls are matched against the group's ARN with and without the :* suffix (streams), so both are listed.
    *(
        Call("logs", operation, f"logs:{operation}", kind, "agent")
        for operation in ("DescribeLogStreams", "CreateLogStream", "PutLogEvents")
        for kind in ("log-group", "log-stream")
    ),
    Call("cloudwatch", "PutMetricData", "cloudwatch:PutMetricData", "any", "agent"),
    Call("ec2", "DescribeTags", "ec2:DescribeTags", "any", "agent"),
]


def _allow_statements() -> list[dict]:
    return [s for s in terraform_module().policy_statements("worker") if s.get("effect", "Allow") == "Allow"]


@pytest.mark.parametrize("call", CALLS, ids=lambda c: f"{c.service}:{c.operation}->{c.action}@{c.resource}")
def test_call_is_a_real_operation(call):
    if call.service == "es-http":
        assert call.operation in {"GET", "HEAD", "POST", "PUT", "DELETE"}
        return
    model = botocore.session.get_session().get_service_model(call.service)
    assert call.operation in model.operation_names, f"botocore's {call.service} has no operation {call.operation}"
    prefix = model.metadata.get("signingName", model.endpoint_prefix)
    assert call.action.split(":")[0] in {prefix, call.service, model.endpoint_prefix}, call.action


@pytest.mark.parametrize("call", CALLS, ids=lambda c: f"{c.service}:{c.operation}->{c.action}@{c.resource}")
def test_call_is_allowed(call):
    wanted = RESOURCES[call.resource]
    allowing = [
        s
        for s in _allow_statements()
        if any(fnmatchcase(call.action, a) for a in s["actions"]) and wanted in s.get("resources", [])
    ]
    assert allowing, f"no statement allows {call.action} on {wanted} (needed by {call.service} {call.operation})"


def test_policy_grants_nothing_unused():
    needed = {(call.action, RESOURCES[call.resource]) for call in CALLS}
    for statement in _allow_statements():
        for action in statement["actions"]:
            for resource in statement["resources"]:
                if statement.get("sid") in {"QueueEncryptionKey", "BucketEncryptionKey"}:
                    continue  # only when the operator names a KMS key
                assert (action, resource) in needed, f"{statement['sid']}: {action} on {resource} is never called"


def test_optional_kms_statements_are_only_decrypt_and_data_keys():
    statements = {s.get("sid"): s for s in _allow_statements()}
    assert set(statements["QueueEncryptionKey"]["actions"]) == {"kms:Decrypt", "kms:GenerateDataKey"}
    assert statements["BucketEncryptionKey"]["actions"] == ["kms:Decrypt"]


def test_checker_refuses_a_call_the_policy_does_not_allow():
    missing = Call("s3", "PutObject", "s3:PutObject", "objects")
    wanted = RESOURCES[missing.resource]
    assert not [s for s in _allow_statements() if missing.action in s["actions"] and wanted in s.get("resources", [])]
