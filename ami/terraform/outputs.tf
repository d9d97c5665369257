output "queue_url" {
  description = "Work queue URL (SQS_QUEUE_URL)."
  value       = aws_sqs_queue.work.url
}

output "queue_arn" {
  description = "Work queue ARN."
  value       = aws_sqs_queue.work.arn
}

output "dlq_url" {
  description = "Dead-letter queue URL (SQS_DLQ_URL)."
  value       = aws_sqs_queue.dlq.url
}

output "autoscaling_group_name" {
  description = "Auto Scaling group name (for deploy-new-ami.sh and blue-green-deploy.sh)."
  value       = aws_autoscaling_group.worker.name
}

output "launch_template_id" {
  description = "Launch template id."
  value       = aws_launch_template.worker.id
}

output "launch_template_name" {
  description = "Launch template name."
  value       = aws_launch_template.worker.name
}

output "instance_role_arn" {
  description = "The workers' instance role."
  value       = aws_iam_role.worker.arn
}

output "log_group_name" {
  description = "Log group of the worker and first-boot logs."
  value       = aws_cloudwatch_log_group.worker.name
}

output "lifecycle_hook_name" {
  description = "Terminating lifecycle hook the worker completes (LIFECYCLE_HOOK_NAME)."
  value       = local.lifecycle_hook_name
}

output "target_backlog_per_instance" {
  description = "Target of the backlog-per-instance policy."
  value       = local.target_backlog_per_instance
}

output "security_group_id" {
  description = "The workers' security group."
  value       = aws_security_group.worker.id
}
