# How every worker instance starts: the AMI, no key pair (Session Manager only), IMDSv2 only, an encrypted gp3
# root volume, detailed monitoring, and User Data that writes the env file and runs first boot.

resource "aws_launch_template" "worker" {
  name_prefix                          = "${var.name}-worker-"
  description                          = "file-processor worker (extractkit) on Amazon Linux 2023"
  image_id                             = var.ami_id
  instance_type                        = var.instance_type
  update_default_version               = true
  ebs_optimized                        = true
  instance_initiated_shutdown_behavior = "terminate"
  vpc_security_group_ids               = [aws_security_group.worker.id]

  iam_instance_profile {
    arn = aws_iam_instance_profile.worker.arn
  }

  monitoring {
    enabled = true
  }

  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required"
    http_put_response_hop_limit = 1
    http_protocol_ipv6          = "disabled"
    instance_metadata_tags      = "enabled"
  }

  block_device_mappings {
    device_name = "/dev/xvda"

    ebs {
      volume_size           = var.root_volume_size
      volume_type           = "gp3"
      iops                  = 3000
      throughput            = 125
      delete_on_termination = true
      encrypted             = true
      kms_key_id            = var.ebs_kms_key_arn
    }
  }

  tag_specifications {
    resource_type = "instance"
    tags          = merge(local.tags, { Name = "${var.name}-worker", ManagedBy = "AutoScaling" })
  }

  tag_specifications {
    resource_type = "volume"
    tags          = merge(local.tags, { Name = "${var.name}-worker-volume" })
  }

  user_data = base64encode(templatefile("${path.module}/templates/user-data.yaml.tftpl", {
    aws_region             = var.aws_region
    s3_bucket              = var.s3_bucket
    sqs_queue_url          = aws_sqs_queue.work.url
    sqs_dlq_url            = aws_sqs_queue.dlq.url
    opensearch_endpoint    = trimsuffix(var.opensearch_endpoint, "/")
    opensearch_index       = var.opensearch_index
    log_level              = var.log_level
    max_file_size_mb       = var.max_file_size_mb
    max_workers            = var.max_workers
    processing_timeout     = var.processing_timeout
    sqs_visibility_timeout = var.sqs_visibility_timeout
    drain_timeout          = var.drain_timeout
    lifecycle_hook_name    = local.lifecycle_hook_name
    log_group_name         = aws_cloudwatch_log_group.worker.name
  }))

  tags = local.tags

  lifecycle {
    create_before_destroy = true
  }
}
