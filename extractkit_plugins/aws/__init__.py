"""S3 and SQS sources (extra ``aws``: boto3), with the queue tools behind ``extractkit dlq`` and ``enqueue``.

boto3 is imported only when an AWS plugin is configured, so loading every builtin
plugin stays cheap and a missing extra is one line naming ``extractkit[aws]``.
"""
