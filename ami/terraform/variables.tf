# Inputs of the file-processor worker module. Defaults are the seed document's values unless a comment says why not.

# --- Naming ---------------------------------------------------------------------------------------------------------

variable "name" {
  description = "Prefix of every resource name (queue, role, group, alarms)."
  type        = string
  default     = "file-processor"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}$", var.name))
    error_message = "name must be 2-31 characters of lower-case letters, digits and hyphens, starting with a letter."
  }
}

variable "environment" {
  description = "Environment tag (production, staging, ...)."
  type        = string
  default     = "production"
}

variable "common_tags" {
  description = "Tags added to every resource that takes tags."
  type        = map(string)
  default     = {}
}

variable "aws_region" {
  description = "Region the worker runs in (AWS_REGION in the env file)."
  type        = string
  default     = "ap-northeast-1"
}

# --- Network and image ----------------------------------------------------------------------------------------------

variable "ami_id" {
  description = "The worker AMI built by ami/packer (Amazon Linux 2023)."
  type        = string

  validation {
    condition     = can(regex("^ami-[0-9a-f]{8,17}$", var.ami_id))
    error_message = "ami_id must look like ami-0123456789abcdef0."
  }
}

variable "instance_type" {
  description = "Instance type. c5.xlarge (4 vCPU, 8 GB) fits MAX_WORKERS=4 of CPU-bound OCR."
  type        = string
  default     = "c5.xlarge"
}

variable "vpc_id" {
  description = "VPC of the private subnets (for the worker security group)."
  type        = string
}

variable "private_subnet_ids" {
  description = "Private subnets, in at least two Availability Zones. They need a route to S3, SQS, OpenSearch, CloudWatch and SSM (NAT or VPC endpoints)."
  type        = list(string)

  validation {
    condition     = length(var.private_subnet_ids) >= 2
    error_message = "Give at least two subnets, in different Availability Zones."
  }
}

variable "egress_cidr_blocks" {
  description = "Where the workers may open HTTPS connections (AWS endpoints). Narrow it to the VPC CIDR when every service is reached through VPC endpoints."
  type        = list(string)
  default     = ["0.0.0.0/0"]
}

variable "root_volume_size" {
  description = "Root volume size in GiB (gp3, encrypted)."
  type        = number
  default     = 30
}

variable "ebs_kms_key_arn" {
  description = "KMS key for the root volume; null uses the account's default EBS key."
  type        = string
  default     = null
}

# --- Source: bucket and queues --------------------------------------------------------------------------------------

variable "s3_bucket" {
  description = "Existing bucket whose objects the worker extracts (S3_BUCKET)."
  type        = string
}

variable "s3_prefix" {
  description = "Only keys under this prefix are read and notified (\"\" for the whole bucket)."
  type        = string
  default     = ""
}

variable "s3_kms_key_arn" {
  description = "KMS key of the bucket's SSE-KMS encryption, if any (the worker gets kms:Decrypt on it)."
  type        = string
  default     = null
}

variable "manage_bucket_notification" {
  description = "Create the bucket notification that feeds the queue. It replaces every other notification of the bucket: set false and add the queue to your own aws_s3_bucket_notification if the bucket has others."
  type        = bool
  default     = true
}

variable "sqs_kms_key_id" {
  description = "KMS key for the queues; null uses SQS-managed encryption (SSE-SQS), which S3 notifications can write to without a key policy."
  type        = string
  default     = null
}

variable "max_receive_count" {
  description = "Receives before SQS moves a message to the DLQ (the worker backs off transient failures with ChangeMessageVisibility)."
  type        = number
  default     = 5

  validation {
    condition     = var.max_receive_count >= 2 && var.max_receive_count <= 1000
    error_message = "max_receive_count must be between 2 and 1000."
  }
}

variable "message_retention_seconds" {
  description = "How long the work queue keeps a message (4 days)."
  type        = number
  default     = 345600
}

variable "dlq_retention_seconds" {
  description = "How long the DLQ keeps a message (14 days, the maximum, so failures can be replayed)."
  type        = number
  default     = 1209600
}

# --- Sink -----------------------------------------------------------------------------------------------------------

variable "opensearch_domain_arn" {
  description = "ARN of the Amazon OpenSearch Service domain (arn:aws:es:REGION:ACCOUNT:domain/NAME)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:es:[a-z0-9-]+:[0-9]{12}:domain/[a-z][a-z0-9-]+$", var.opensearch_domain_arn))
    error_message = "opensearch_domain_arn must be a domain ARN: arn:aws:es:REGION:ACCOUNT:domain/NAME."
  }
}

variable "opensearch_endpoint" {
  description = "HTTPS endpoint of the domain (OPENSEARCH_ENDPOINT), e.g. https://vpc-files-abc.ap-northeast-1.es.amazonaws.com."
  type        = string

  validation {
    condition     = can(regex("^https://[^[:space:]/]+/?$", var.opensearch_endpoint))
    error_message = "opensearch_endpoint must be an https:// URL with no path."
  }
}

variable "opensearch_index" {
  description = "Index name (OPENSEARCH_INDEX)."
  type        = string
  default     = "file-index"
}

# --- Worker settings (written to the env file by User Data) ---------------------------------------------------------

variable "log_level" {
  description = "LOG_LEVEL."
  type        = string
  default     = "INFO"

  validation {
    condition     = contains(["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"], var.log_level)
    error_message = "log_level must be DEBUG, INFO, WARNING, ERROR or CRITICAL."
  }
}

variable "max_file_size_mb" {
  description = "MAX_FILE_SIZE_MB: larger objects are recorded as too large without being downloaded."
  type        = number
  default     = 100
}

variable "max_workers" {
  description = "MAX_WORKERS: documents processed in parallel per instance (one per vCPU for OCR)."
  type        = number
  default     = 4

  validation {
    condition     = var.max_workers >= 1 && var.max_workers <= 64
    error_message = "max_workers must be between 1 and 64."
  }
}

variable "processing_timeout" {
  description = "PROCESSING_TIMEOUT in seconds: the hard limit for one document."
  type        = number
  default     = 300
}

variable "sqs_visibility_timeout" {
  description = "Visibility timeout of the work queue (SQS_VISIBILITY_TIMEOUT). It must exceed processing_timeout, so a message is never handed to a second worker while the first may still be working on it."
  type        = number
  default     = 360
}

variable "drain_timeout" {
  description = "DRAIN_TIMEOUT: seconds the worker finishes in-flight work after SIGTERM, a Spot notice or scale-in. The unit's TimeoutStopSec is 180, so keep it at 150 or less."
  type        = number
  default     = 120

  validation {
    condition     = var.drain_timeout >= 10 && var.drain_timeout <= 150
    error_message = "drain_timeout must be between 10 and 150 seconds (the unit stops the worker with SIGKILL at 180)."
  }
}

variable "lifecycle_heartbeat_timeout" {
  description = "Seconds the terminating lifecycle hook waits for the worker to complete it (after that, CONTINUE)."
  type        = number
  default     = 300
}

variable "cloudwatch_log_retention_days" {
  description = "Retention of the worker's log group."
  type        = number
  default     = 365
}

variable "cloudwatch_log_kms_key_arn" {
  description = "KMS key for the log group; null uses CloudWatch Logs' own encryption."
  type        = string
  default     = null
}

variable "agent_metrics_namespace" {
  description = "Namespace of the CloudWatch agent's host metrics (the agent config in the AMI uses FileProcessor)."
  type        = string
  default     = "FileProcessor"
}

variable "metrics_namespace" {
  description = "Namespace of the worker's own metrics: its embedded-metric records and the log metric filters."
  type        = string
  default     = "extractkit"
}

# --- Capacity and scaling -------------------------------------------------------------------------------------------

variable "min_size" {
  description = "Fewest instances."
  type        = number
  default     = 1
}

variable "max_size" {
  description = "Most instances."
  type        = number
  default     = 10
}

variable "desired_capacity" {
  description = "Instances at creation (scaling changes it afterwards)."
  type        = number
  default     = 2
}

variable "health_check_grace_period" {
  description = "Seconds after launch before EC2 health checks count (5 minutes)."
  type        = number
  default     = 300
}

variable "instance_warmup" {
  description = "Seconds a new instance needs before its metrics count for scaling and refreshes (boot, first-boot validation, worker start)."
  type        = number
  default     = 300
}

variable "acceptable_latency_seconds" {
  description = "The longest a new message should wait in the queue before a worker starts on it."
  type        = number
  default     = 600
}

variable "average_processing_seconds" {
  description = "Average seconds one worker slot spends on one message (measure it from the worker's latency metric and update)."
  type        = number
  default     = 24
}

variable "target_backlog_per_instance" {
  description = "Override the target of the backlog-per-instance policy; null derives it from acceptable_latency_seconds, average_processing_seconds and max_workers."
  type        = number
  default     = null
}

variable "emergency_queue_depth" {
  description = "Visible messages above which the emergency step policy adds capacity at once."
  type        = number
  default     = 500
}

variable "schedule_time_zone" {
  description = "Time zone of the morning and evening schedules (the seed's 08:00 and 20:00 are local times)."
  type        = string
  default     = "Asia/Tokyo"
}

variable "enable_schedules" {
  description = "Create the weekday-morning scale-up and evening scale-down schedules."
  type        = bool
  default     = true
}

# --- Alarms ---------------------------------------------------------------------------------------------------------

variable "alarm_actions" {
  description = "ARNs (e.g. an SNS topic) notified by the DLQ, queue-age and worker-error alarms."
  type        = list(string)
  default     = []
}

variable "oldest_message_alarm_seconds" {
  description = "Alarm when the oldest message in the work queue is older than this."
  type        = number
  default     = 1800
}

variable "worker_error_alarm_threshold" {
  description = "Alarm when the workers log more ERROR lines than this in 5 minutes."
  type        = number
  default     = 10
}
