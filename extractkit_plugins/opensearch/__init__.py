"""The OpenSearch family: the ``opensearch`` sink, its index template and its search (extra ``opensearch``).

opensearch-py (and boto3, for SigV4) are imported only when a sink is built, so loading the
plugin costs nothing where the extra is not installed.
"""
