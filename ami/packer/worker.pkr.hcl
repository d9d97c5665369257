# The file-processor worker AMI: Amazon Linux 2023 plus Tesseract (jpn, jpn_vert, eng), poppler, ImageMagick,
# libmagic, the CloudWatch agent, and extractkit installed from this repository's wheel with pinned dependencies.
#
#   bash ami/scripts/build-artifacts.sh               # the wheel, into ami/dist/
#   packer init ami/packer && packer build -var version=1.2.3 -var subnet_id=subnet-... ami/packer
#
# The builder is reached through Session Manager (no inbound port, no public IP, no stored SSH key: Packer
# creates a one-time key pair and deletes it), with a temporary instance profile that allows only that.

variable "region" {
  type        = string
  default     = "ap-northeast-1"
  description = "Region to build in."
}

variable "subnet_id" {
  type        = string
  description = "Private subnet for the builder; it needs a route to the dnf repositories, GitHub (Tesseract sources) and PyPI, and to SSM (NAT or VPC endpoints)."
}

variable "instance_type" {
  type        = string
  default     = "c5.xlarge"
  description = "Builder instance type (the worker's own type: Tesseract compiles with every core)."
}

variable "version" {
  type        = string
  description = "Release version of the image (for example the extractkit version or a git tag)."
}

variable "git_commit" {
  type        = string
  default     = "unknown"
  description = "Commit the image is built from (tagged on the AMI)."
}

variable "security_group_ids" {
  type        = list(string)
  default     = []
  description = "Security groups for the builder (egress only is enough); empty lets Packer create a temporary one."
}

variable "kms_key_id" {
  type        = string
  default     = ""
  description = "KMS key for the AMI's snapshots; empty uses the account's default EBS key."
}

variable "dist_dir" {
  type        = string
  default     = ""
  description = "Folder holding the wheel built by ami/scripts/build-artifacts.sh; empty means ami/dist."
}

variable "ami_users" {
  type        = list(string)
  default     = []
  description = "Accounts the AMI is shared with (for example the production account)."
}

locals {
  timestamp = formatdate("YYYYMMDD-hhmmss", timestamp())
  ami_name  = "file-processor-worker-${var.version}-${local.timestamp}"
  ami_dir   = "${path.root}/.."
  dist_dir  = var.dist_dir != "" ? var.dist_dir : "${path.root}/../dist"
  build_dir = "/tmp/ami-build"
  build_tags = {
    Application = "file-processor"
    Component   = "worker"
    Version     = var.version
    GitCommit   = var.git_commit
    BaseAMI     = "{{ .SourceAMI }}"
    BaseAMIName = "{{ .SourceAMIName }}"
    BuiltBy     = "packer"
  }
}

source "amazon-ebs" "worker" {
  region        = var.region
  subnet_id     = var.subnet_id
  instance_type = var.instance_type

  source_ami_filter {
    filters = {
      name                = "al2023-ami-2023.*-x86_64"
      architecture        = "x86_64"
      virtualization-type = "hvm"
      root-device-type    = "ebs"
    }
    owners      = ["amazon"]
    most_recent = true
  }

  # AL2023's default user (ec2-user) would take uid 1000, which the image gives to appuser: the builder's user
  # data moves ec2-user to uid 1001 before cloud-init creates it.
  user_data_file = "${path.root}/builder-user-data.yaml"

  communicator                = "ssh"
  ssh_username                = "ec2-user"
  ssh_interface               = "session_manager"
  associate_public_ip_address = false
  security_group_ids          = var.security_group_ids
  ssh_timeout                 = "15m"

  temporary_iam_instance_profile_policy_document {
    Version = "2012-10-17"
    Statement {
      Effect = "Allow"
      Action = [
        "ssm:UpdateInstanceInformation",
        "ssmmessages:CreateControlChannel",
        "ssmmessages:CreateDataChannel",
        "ssmmessages:OpenControlChannel",
        "ssmmessages:OpenDataChannel",
      ]
      Resource = ["*"]
    }
  }

  launch_block_device_mappings {
    device_name           = "/dev/xvda"
    volume_size           = 30
    volume_type           = "gp3"
    iops                  = 3000
    throughput            = 125
    encrypted             = true
    delete_on_termination = true
  }

  ami_name        = local.ami_name
  ami_description = "file-processor worker (extractkit ${var.version}) on Amazon Linux 2023"
  ami_users       = var.ami_users
  encrypt_boot    = true
  kms_key_id      = var.kms_key_id
  ena_support     = true
  sriov_support   = true

  tags          = local.build_tags
  snapshot_tags = local.build_tags
  run_tags = {
    Name        = "packer-file-processor-worker"
    Application = "file-processor"
  }
  run_volume_tags = {
    Name        = "packer-file-processor-worker"
    Application = "file-processor"
  }
}

build {
  name    = "file-processor-worker"
  sources = ["source.amazon-ebs.worker"]

  provisioner "shell" {
    inline = ["mkdir -p ${local.build_dir}"]
  }

  # The wheel and the lock (ami/scripts/build-artifacts.sh), the scripts, the unit and the agent config.
  provisioner "file" {
    source      = "${local.dist_dir}/"
    destination = "${local.build_dir}/dist"
  }

  provisioner "file" {
    source      = "${local.ami_dir}/requirements.lock"
    destination = "${local.build_dir}/requirements.lock"
  }

  provisioner "file" {
    source      = "${local.ami_dir}/scripts/"
    destination = "${local.build_dir}/scripts"
  }

  provisioner "file" {
    source      = "${local.ami_dir}/systemd/"
    destination = "${local.build_dir}/systemd"
  }

  provisioner "file" {
    source      = "${local.ami_dir}/cloudwatch/"
    destination = "${local.build_dir}/cloudwatch"
  }

  provisioner "file" {
    source      = "${local.ami_dir}/README.md"
    destination = "${local.build_dir}/README.md"
  }

  provisioner "shell" {
    execute_command  = "sudo -E env {{ .Vars }} bash '{{ .Path }}'"
    environment_vars = ["IMAGE_VERSION=${var.version}", "GIT_COMMIT=${var.git_commit}"]
    inline           = ["bash ${local.build_dir}/scripts/build-ami.sh ${local.build_dir}"]
  }

  # Last: nothing instance-specific, no credentials, no logs, no host keys, no caches.
  provisioner "shell" {
    execute_command = "sudo -E env {{ .Vars }} bash '{{ .Path }}'"
    inline          = ["bash ${local.build_dir}/scripts/ami-cleanup.sh"]
  }

  post-processor "manifest" {
    output     = "${local.dist_dir}/packer-manifest.json"
    strip_path = true
    custom_data = {
      version    = var.version
      git_commit = var.git_commit
    }
  }
}
