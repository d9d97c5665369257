data "aws_partition" "current" {}

data "aws_caller_identity" "current" {}

locals {
  partition  = data.aws_partition.current.partition
  account_id = data.aws_caller_identity.current.account_id

  asg_name            = "${var.name}-asg"
  lifecycle_hook_name = "${var.name}-drain"
  log_group_name      = "/aws/ec2/${var.name}"

  bucket_arn  = "arn:${local.partition}:s3:::${var.s3_bucket}"
  objects_arn = "${local.bucket_arn}/${var.s3_prefix}*"
  # Built from the name so the role's policy exists before the group launches its first instance. The trailing
  # * admits the green groups blue-green-deploy.sh creates (<asg_name>-green-<time>); the * after
  # autoScalingGroup: is the group's id, which is not known before it exists.
  asg_arn = "arn:${local.partition}:autoscaling:${var.aws_region}:${local.account_id}:autoScalingGroup:*:autoScalingGroupName/${local.asg_name}*"

  # Backlog per instance an instance can clear within the acceptable latency:
  #   target = acceptable latency / average processing time per message x workers per instance
  # With the defaults: 600 s / 24 s x 4 = 100 messages, the seed's number, now per instance.
  derived_target_backlog      = floor(var.acceptable_latency_seconds / var.average_processing_seconds * var.max_workers)
  target_backlog_per_instance = coalesce(var.target_backlog_per_instance, local.derived_target_backlog)

  tags = merge(var.common_tags, {
    Application = "file-processor"
    Environment = var.environment
    ManagedBy   = "Terraform"
  })
}
