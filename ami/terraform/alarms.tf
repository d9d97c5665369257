# The emergency scale-out trigger, and the alarms an operator is paged for.

resource "aws_cloudwatch_metric_alarm" "queue_flood" {
  alarm_name          = "${var.name}-queue-flood"
  alarm_description   = "More than ${var.emergency_queue_depth} messages visible: emergency scale-out."
  comparison_operator = "GreaterThanThreshold"
  evaluation_periods  = 1
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  statistic           = "Maximum"
  period              = 60
  threshold           = var.emergency_queue_depth
  treat_missing_data  = "notBreaching"
  dimensions          = { QueueName = aws_sqs_queue.work.name }
  alarm_actions       = [aws_autoscaling_policy.emergency_scale_out.arn]

  tags = local.tags
}

resource "aws_cloudwatch_metric_alarm" "dlq_not_empty" {
  alarm_name          = "${var.name}-dlq-not-empty"
  alarm_description   = "Messages reached the DLQ after ${var.max_receive_count} receives: see ami/README.md, problem 3."
  comparison_operator = "GreaterThanThreshold"
  evaluation_periods  = 1
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  statistic           = "Maximum"
  period              = 300
  threshold           = 0
  treat_missing_data  = "notBreaching"
  dimensions          = { QueueName = aws_sqs_queue.dlq.name }
  alarm_actions       = var.alarm_actions
  ok_actions          = var.alarm_actions

  tags = local.tags
}

resource "aws_cloudwatch_metric_alarm" "oldest_message_age" {
  alarm_name          = "${var.name}-oldest-message-age"
  alarm_description   = "The oldest message waited more than ${var.oldest_message_alarm_seconds} s: workers stopped or cannot keep up (problem 2)."
  comparison_operator = "GreaterThanThreshold"
  evaluation_periods  = 3
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateAgeOfOldestMessage"
  statistic           = "Maximum"
  period              = 300
  threshold           = var.oldest_message_alarm_seconds
  treat_missing_data  = "notBreaching"
  dimensions          = { QueueName = aws_sqs_queue.work.name }
  alarm_actions       = var.alarm_actions
  ok_actions          = var.alarm_actions

  tags = local.tags
}

resource "aws_cloudwatch_metric_alarm" "worker_errors" {
  alarm_name          = "${var.name}-worker-errors"
  alarm_description   = "Workers logged more than ${var.worker_error_alarm_threshold} ERROR lines in 5 minutes."
  comparison_operator = "GreaterThanThreshold"
  evaluation_periods  = 1
  namespace           = var.metrics_namespace
  metric_name         = aws_cloudwatch_log_metric_filter.worker_errors.metric_transformation[0].name
  statistic           = "Sum"
  period              = 300
  threshold           = var.worker_error_alarm_threshold
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_actions
  ok_actions          = var.alarm_actions

  tags = local.tags
}
