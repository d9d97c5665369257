# The Auto Scaling group and how it scales: target tracking on backlog per instance (metric math), an emergency
# step policy on raw queue depth, the morning and evening schedules, and a terminating lifecycle hook so that
# scale-in never cuts off a document in flight.

resource "aws_autoscaling_group" "worker" {
  name                      = local.asg_name
  vpc_zone_identifier       = var.private_subnet_ids
  min_size                  = var.min_size
  max_size                  = var.max_size
  desired_capacity          = var.desired_capacity
  health_check_type         = "EC2"
  health_check_grace_period = var.health_check_grace_period
  default_instance_warmup   = var.instance_warmup
  termination_policies      = ["OldestLaunchTemplate", "OldestInstance"]
  wait_for_capacity_timeout = "15m"

  launch_template {
    id      = aws_launch_template.worker.id
    version = aws_launch_template.worker.latest_version
  }

  # GroupInServiceInstances is the denominator of the backlog-per-instance metric: it must be enabled.
  enabled_metrics = [
    "GroupDesiredCapacity",
    "GroupInServiceInstances",
    "GroupMaxSize",
    "GroupMinSize",
    "GroupPendingInstances",
    "GroupTerminatingInstances",
    "GroupTotalInstances",
  ]
  metrics_granularity = "1Minute"

  # Scale-in, instance refresh and Spot rebalancing all go through Terminating:Wait. The worker sees the target
  # lifecycle state in instance metadata, drains, and completes the action with CONTINUE; if it cannot, the
  # hook times out and CONTINUE is the default (unfinished messages reappear after their visibility timeout).
  initial_lifecycle_hook {
    name                 = local.lifecycle_hook_name
    lifecycle_transition = "autoscaling:EC2_INSTANCE_TERMINATING"
    heartbeat_timeout    = var.lifecycle_heartbeat_timeout
    default_result       = "CONTINUE"
  }

  # A new launch template version (a new AMI) replaces the instances 10% at a time, launching before
  # terminating, with checkpoints, and rolls back on failure or when an alarm fires during the refresh.
  instance_refresh {
    strategy = "Rolling"

    preferences {
      min_healthy_percentage       = 90
      max_healthy_percentage       = 120
      instance_warmup              = var.instance_warmup
      checkpoint_percentages       = [50, 100]
      checkpoint_delay             = 300
      skip_matching                = true
      auto_rollback                = true
      scale_in_protected_instances = "Wait"
      standby_instances            = "Wait"

      alarm_specification {
        alarms = [aws_cloudwatch_metric_alarm.dlq_not_empty.alarm_name, aws_cloudwatch_metric_alarm.worker_errors.alarm_name]
      }
    }
  }

  dynamic "tag" {
    for_each = merge(local.tags, { Name = "${var.name}-worker" })
    content {
      key                 = tag.key
      value               = tag.value
      propagate_at_launch = true
    }
  }

  # Instances must not start before their role may read the queue, or first boot's validation fails.
  depends_on = [aws_iam_role_policy.worker, aws_iam_role_policy_attachment.ssm]

  lifecycle {
    # Scaling policies and schedules own the desired capacity after creation.
    ignore_changes = [desired_capacity]

    precondition {
      condition     = var.lifecycle_heartbeat_timeout > var.drain_timeout + 30
      error_message = "lifecycle_heartbeat_timeout must exceed drain_timeout by more than 30 seconds, or the hook times out while the worker drains."
    }
    precondition {
      condition     = var.min_size <= var.desired_capacity && var.desired_capacity <= var.max_size
      error_message = "desired_capacity must lie between min_size and max_size."
    }
  }
}

# Target tracking on the backlog each in-service instance has to clear:
#   backlog per instance = ApproximateNumberOfMessagesVisible / GroupInServiceInstances
# and the target is the backlog one instance clears within the acceptable latency (see locals.tf).
resource "aws_autoscaling_policy" "backlog_per_instance" {
  name                      = "${var.name}-backlog-per-instance"
  autoscaling_group_name    = aws_autoscaling_group.worker.name
  policy_type               = "TargetTrackingScaling"
  estimated_instance_warmup = var.instance_warmup

  target_tracking_configuration {
    target_value = local.target_backlog_per_instance

    customized_metric_specification {
      metrics {
        id          = "visible"
        label       = "Messages visible in the work queue"
        return_data = false

        metric_stat {
          stat = "Sum"

          metric {
            namespace   = "AWS/SQS"
            metric_name = "ApproximateNumberOfMessagesVisible"

            dimensions {
              name  = "QueueName"
              value = aws_sqs_queue.work.name
            }
          }
        }
      }

      metrics {
        id          = "in_service"
        label       = "Workers in service"
        return_data = false

        metric_stat {
          stat = "Average"

          metric {
            namespace   = "AWS/AutoScaling"
            metric_name = "GroupInServiceInstances"

            dimensions {
              name  = "AutoScalingGroupName"
              value = aws_autoscaling_group.worker.name
            }
          }
        }
      }

      metrics {
        id          = "backlog_per_instance"
        label       = "Backlog per instance"
        expression  = "visible / in_service"
        return_data = true
      }
    }
  }
}

# Emergency: a sudden flood (a bulk upload) adds half again, or doubles, at once instead of waiting for target
# tracking's gradual steps. The bounds are relative to the alarm's threshold (emergency_queue_depth).
resource "aws_autoscaling_policy" "emergency_scale_out" {
  name                      = "${var.name}-emergency-scale-out"
  autoscaling_group_name    = aws_autoscaling_group.worker.name
  policy_type               = "StepScaling"
  adjustment_type           = "PercentChangeInCapacity"
  metric_aggregation_type   = "Maximum"
  min_adjustment_magnitude  = 1
  estimated_instance_warmup = var.instance_warmup

  step_adjustment {
    scaling_adjustment          = 50
    metric_interval_lower_bound = 0
    metric_interval_upper_bound = var.emergency_queue_depth
  }

  step_adjustment {
    scaling_adjustment          = 100
    metric_interval_lower_bound = var.emergency_queue_depth
  }
}

# Weekday mornings (08:00 local time) raise the floor before the working day's uploads; evenings (20:00) lower
# it again. Target tracking still scales between min and max.
resource "aws_autoscaling_schedule" "scale_up_morning" {
  count = var.enable_schedules ? 1 : 0

  scheduled_action_name  = "${var.name}-scale-up-morning"
  autoscaling_group_name = aws_autoscaling_group.worker.name
  min_size               = 3
  max_size               = var.max_size
  desired_capacity       = 5
  recurrence             = "0 8 * * MON-FRI"
  time_zone              = var.schedule_time_zone
}

resource "aws_autoscaling_schedule" "scale_down_evening" {
  count = var.enable_schedules ? 1 : 0

  scheduled_action_name  = "${var.name}-scale-down-evening"
  autoscaling_group_name = aws_autoscaling_group.worker.name
  min_size               = var.min_size
  max_size               = var.max_size
  desired_capacity       = var.desired_capacity
  recurrence             = "0 20 * * *"
  time_zone              = var.schedule_time_zone
}
