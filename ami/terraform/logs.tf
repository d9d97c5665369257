# The log group the CloudWatch agent ships to, and a metric of the workers' ERROR lines.

resource "aws_cloudwatch_log_group" "worker" {
  name              = local.log_group_name
  retention_in_days = var.cloudwatch_log_retention_days
  kms_key_id        = var.cloudwatch_log_kms_key_arn

  tags = local.tags
}

resource "aws_cloudwatch_log_metric_filter" "worker_errors" {
  name           = "${var.name}-worker-errors"
  log_group_name = aws_cloudwatch_log_group.worker.name
  pattern        = "{ $.level = \"ERROR\" || $.level = \"CRITICAL\" }"

  metric_transformation {
    name          = "WorkerErrors"
    namespace     = var.metrics_namespace
    value         = "1"
    default_value = "0"
  }
}
