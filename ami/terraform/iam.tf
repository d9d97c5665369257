# The workers' instance role: only what the worker, the CloudWatch agent and SSM call.

data "aws_iam_policy_document" "assume_ec2" {
  statement {
    sid     = "EC2AssumeRole"
    effect  = "Allow"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["ec2.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "worker" {
  name                 = "${var.name}-worker"
  description          = "file-processor worker instances: read the bucket, work the queues, write the index, ship logs"
  assume_role_policy   = data.aws_iam_policy_document.assume_ec2.json
  max_session_duration = 3600

  tags = local.tags
}

resource "aws_iam_instance_profile" "worker" {
  name = "${var.name}-worker"
  role = aws_iam_role.worker.name

  tags = local.tags
}

# Session Manager replaces SSH: no key pair, no inbound port.
resource "aws_iam_role_policy_attachment" "ssm" {
  role       = aws_iam_role.worker.name
  policy_arn = "arn:${local.partition}:iam::aws:policy/AmazonSSMManagedInstanceCore"
}

data "aws_iam_policy_document" "worker" {
  # GetObject also covers HeadObject (the size check before a download).
  statement {
    sid       = "ReadSourceObjects"
    effect    = "Allow"
    actions   = ["s3:GetObject", "s3:GetObjectVersion"]
    resources = [local.objects_arn]
  }

  # ListBucket: `extractkit enqueue` lists a prefix to backfill the queue, and HeadBucket (the bucket check of
  # --validate-only) needs it too. No s3:prefix condition: HeadBucket carries no prefix and would be refused.
  statement {
    sid       = "ListSourceBucket"
    effect    = "Allow"
    actions   = ["s3:ListBucket"]
    resources = [local.bucket_arn]
  }

  # Receive, heartbeat (ChangeMessageVisibility), delete after success, back off, send failures to the DLQ and
  # replay the DLQ. The batch calls use the same actions.
  statement {
    sid    = "WorkQueues"
    effect = "Allow"
    actions = [
      "sqs:ChangeMessageVisibility",
      "sqs:DeleteMessage",
      "sqs:GetQueueAttributes",
      "sqs:GetQueueUrl",
      "sqs:ReceiveMessage",
      "sqs:SendMessage",
    ]
    resources = [aws_sqs_queue.work.arn, aws_sqs_queue.dlq.arn]
  }

  dynamic "statement" {
    for_each = var.sqs_kms_key_id == null ? [] : [var.sqs_kms_key_id]
    content {
      sid       = "QueueEncryptionKey"
      effect    = "Allow"
      actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
      resources = [statement.value]
    }
  }

  dynamic "statement" {
    for_each = var.s3_kms_key_arn == null ? [] : [var.s3_kms_key_arn]
    content {
      sid       = "BucketEncryptionKey"
      effect    = "Allow"
      actions   = ["kms:Decrypt"]
      resources = [statement.value]
    }
  }

  # The index, its template and the failure index, over the domain's REST API (SigV4). domain/NAME/* also
  # covers requests to / (cluster info), whose resource is domain/NAME/.
  statement {
    sid    = "OpenSearchDomain"
    effect = "Allow"
    actions = [
      "es:ESHttpDelete",
      "es:ESHttpGet",
      "es:ESHttpHead",
      "es:ESHttpPost",
      "es:ESHttpPut",
    ]
    resources = ["${var.opensearch_domain_arn}/*"]
  }

  # The worker completes the terminating lifecycle hook once its drain ends.
  statement {
    sid       = "CompleteOwnLifecycleHook"
    effect    = "Allow"
    actions   = ["autoscaling:CompleteLifecycleAction", "autoscaling:RecordLifecycleActionHeartbeat"]
    resources = [local.asg_arn]
  }

  # Finds its group's name from its instance id. Describe calls have no resource-level permissions.
  statement {
    sid       = "FindOwnGroup"
    effect    = "Allow"
    actions   = ["autoscaling:DescribeAutoScalingInstances"]
    resources = ["*"]
  }

  # The CloudWatch agent ships the worker log and the first-boot log. The log group exists (Terraform creates
  # it), so no logs:CreateLogGroup.
  statement {
    sid       = "ShipLogs"
    effect    = "Allow"
    actions   = ["logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"]
    resources = [aws_cloudwatch_log_group.worker.arn, "${aws_cloudwatch_log_group.worker.arn}:*"]
  }

  # PutMetricData has no resource-level permissions: limit it to the agent's namespace.
  statement {
    sid       = "AgentMetrics"
    effect    = "Allow"
    actions   = ["cloudwatch:PutMetricData"]
    resources = ["*"]

    condition {
      test     = "StringEquals"
      variable = "cloudwatch:namespace"
      values   = [var.agent_metrics_namespace]
    }
  }

  # The agent resolves ${aws:AutoScalingGroupName} from the instance's tags. No resource-level permissions.
  statement {
    sid       = "AgentInstanceTags"
    effect    = "Allow"
    actions   = ["ec2:DescribeTags"]
    resources = ["*"]
  }
}

resource "aws_iam_role_policy" "worker" {
  name   = "${var.name}-worker"
  role   = aws_iam_role.worker.id
  policy = data.aws_iam_policy_document.worker.json
}
