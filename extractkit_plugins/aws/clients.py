"""boto3 clients for the AWS plugins, and which layer retries what.

Endpoints are never configured here: boto3 reads ``AWS_ENDPOINT_URL_S3``,
``AWS_ENDPOINT_URL_SQS`` and ``AWS_ENDPOINT_URL`` by itself, and credentials
come from the default chain (environment, instance role). The region is the
plugin's ``region`` option, else ``AWS_REGION`` / ``AWS_DEFAULT_REGION``, else the
region named in an SQS queue URL.

Who retries what, so that attempts never multiply:

* **botocore** retries each API call itself, in ``standard`` mode with
  :data:`BOTOCORE_MAX_ATTEMPTS` attempts in all: enough to ride over a dropped
  connection or one throttled call, never long enough to hide an outage.
* **extractkit.retry** (the pipeline's policy) retries a document's fetch when it
  raises a :class:`~extractkit.errors.TransientError`; :mod:`.error_mapping` turns
  what botocore finally gives up on into those errors.
* **the queue itself** retries across processes: a transiently failed SQS item is
  handed back with ChangeMessageVisibility, and the queue's redrive policy moves it
  to the DLQ after ``maxReceiveCount`` receives.

Heartbeats, deletes and receives are not retried by the pipeline; their own loops
log a failure and try again on their next round.
"""

from __future__ import annotations

import os
import re
from typing import Any, Mapping

from extractkit.errors import ConfigError

from ..extras import require_for_config

#: Attempts per API call made by botocore itself (the first try included).
BOTOCORE_MAX_ATTEMPTS = 3
#: Seconds to open a connection before botocore gives up on that attempt.
CONNECT_TIMEOUT = 5.0
#: Seconds to wait for response bytes; SQS long polls add their wait to this.
READ_TIMEOUT = 30.0
#: Connections kept per client: item threads, the heartbeat and the deleter share one client.
MAX_POOL_CONNECTIONS = 32

_QUEUE_URL_REGION = re.compile(r"^https://sqs\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?/")


def region_for(options: Mapping[str, Any], queue_url: str = "") -> str | None:
    """The region to use: the ``region`` option, ``AWS_REGION``, ``AWS_DEFAULT_REGION``, or the queue URL's."""
    for value in (options.get("region"), os.environ.get("AWS_REGION"), os.environ.get("AWS_DEFAULT_REGION")):
        if isinstance(value, str) and value.strip():
            return value.strip()
    match = _QUEUE_URL_REGION.match(queue_url)
    return match.group(1) if match else None


def make_client(
    service: str, region: str | None, *, section: str = "source", read_timeout: float = READ_TIMEOUT
) -> Any:
    """A thread-safe boto3 client for ``service`` with the retry and timeout settings described above."""
    boto3 = require_for_config("boto3", "aws", f"{section}.type", f"use {service.upper()} (boto3 is not installed)")
    botocore_config = require_for_config("botocore.config", "aws", f"{section}.type", f"use {service.upper()}")
    config = botocore_config.Config(
        retries={"mode": "standard", "max_attempts": BOTOCORE_MAX_ATTEMPTS},
        connect_timeout=CONNECT_TIMEOUT,
        read_timeout=read_timeout,
        max_pool_connections=MAX_POOL_CONNECTIONS,
    )
    session = boto3.session.Session(region_name=region)
    exceptions = require_for_config("botocore.exceptions", "aws", f"{section}.type", f"use {service.upper()}")
    try:
        return session.client(service, config=config)
    except exceptions.NoRegionError:
        raise ConfigError(f"{section}.region", "no AWS region is known: set AWS_REGION or the region option") from None
