# The bucket tells the work queue about created and removed objects (removed ones are deleted from the index).

resource "aws_s3_bucket_notification" "source" {
  count  = var.manage_bucket_notification ? 1 : 0
  bucket = var.s3_bucket

  queue {
    id            = "${var.name}-worker"
    queue_arn     = aws_sqs_queue.work.arn
    events        = ["s3:ObjectCreated:*", "s3:ObjectRemoved:*"]
    filter_prefix = var.s3_prefix == "" ? null : var.s3_prefix
  }

  # S3 checks at creation that it may send to the queue.
  depends_on = [aws_sqs_queue_policy.work]
}
