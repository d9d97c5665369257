# The work queue fed by the bucket's notifications, and its dead-letter queue.

resource "aws_sqs_queue" "dlq" {
  name                      = "${var.name}-dlq"
  message_retention_seconds = var.dlq_retention_seconds
  sqs_managed_sse_enabled   = var.sqs_kms_key_id == null ? true : null
  kms_master_key_id         = var.sqs_kms_key_id

  tags = local.tags
}

resource "aws_sqs_queue" "work" {
  name                       = "${var.name}-queue"
  visibility_timeout_seconds = var.sqs_visibility_timeout
  message_retention_seconds  = var.message_retention_seconds
  receive_wait_time_seconds  = 20
  sqs_managed_sse_enabled    = var.sqs_kms_key_id == null ? true : null
  kms_master_key_id          = var.sqs_kms_key_id

  # After max_receive_count receives (the worker's own retries use ChangeMessageVisibility, never a re-send),
  # SQS moves the message to the DLQ.
  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.dlq.arn
    maxReceiveCount     = var.max_receive_count
  })

  tags = local.tags

  lifecycle {
    precondition {
      condition     = var.sqs_visibility_timeout > var.processing_timeout
      error_message = "sqs_visibility_timeout must be greater than processing_timeout, or a second worker receives a message the first is still processing."
    }
    precondition {
      condition     = var.sqs_visibility_timeout <= 43200
      error_message = "sqs_visibility_timeout cannot exceed 43200 seconds (12 hours)."
    }
  }
}

# Only the work queue may use the DLQ as its dead-letter queue.
resource "aws_sqs_queue_redrive_allow_policy" "dlq" {
  queue_url = aws_sqs_queue.dlq.id

  redrive_allow_policy = jsonencode({
    redrivePermission = "byQueue"
    sourceQueueArns   = [aws_sqs_queue.work.arn]
  })
}

# S3 may send the bucket's notifications to the work queue, and nothing else may send anonymously.
data "aws_iam_policy_document" "work_queue" {
  statement {
    sid       = "BucketNotifications"
    effect    = "Allow"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.work.arn]

    principals {
      type        = "Service"
      identifiers = ["s3.amazonaws.com"]
    }

    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = [local.bucket_arn]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }

  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["sqs:*"]
    resources = [aws_sqs_queue.work.arn]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_sqs_queue_policy" "work" {
  queue_url = aws_sqs_queue.work.id
  policy    = data.aws_iam_policy_document.work_queue.json
}
