# No inbound rule at all (Session Manager needs none); outbound HTTPS to the AWS endpoints only.

resource "aws_security_group" "worker" {
  name_prefix = "${var.name}-worker-"
  description = "file-processor workers: no inbound, HTTPS out to AWS endpoints"
  vpc_id      = var.vpc_id

  tags = merge(local.tags, { Name = "${var.name}-worker" })

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_vpc_security_group_egress_rule" "https" {
  for_each = toset(var.egress_cidr_blocks)

  security_group_id = aws_security_group.worker.id
  description       = "HTTPS to S3, SQS, OpenSearch, CloudWatch, SSM and STS"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = each.value

  tags = local.tags
}
