"""The real test servers that ``scripts/services.sh run`` starts: their endpoints, a reset, and boto3 clients."""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config

ENVIRONMENT = {
    "opensearch_endpoint": "OPENSEARCH_ENDPOINT",
    "s3_endpoint": "AWS_ENDPOINT_URL_S3",
    "sqs_endpoint": "AWS_ENDPOINT_URL_SQS",
    "opensearch_pid_file": "EXTRACTKIT_TEST_OPENSEARCH_PID_FILE",
}

# Never through a proxy: every server listens on 127.0.0.1.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


@dataclass(frozen=True)
class Services:
    """Where the test servers listen, and the file holding the OpenSearch JVM's pid (to SIGSTOP/SIGCONT it)."""

    opensearch_endpoint: str
    s3_endpoint: str
    sqs_endpoint: str
    opensearch_pid_file: Path


def require_services() -> Services:
    """The running test servers, or a test failure that says how to start them (never a skip)."""
    missing = [name for name in ENVIRONMENT.values() if not os.environ.get(name)]
    if missing:
        pytest.fail(
            f"the test servers are not running ({', '.join(missing)} unset): run the tests with `make test`, "
            "or as `bash scripts/services.sh run -- .venv/bin/python -m pytest ...` "
            "(or `make services`, then `source .services/env` in the shell that runs pytest)",
            pytrace=False,
        )
    values = {field: os.environ[name] for field, name in ENVIRONMENT.items()}
    return Services(
        opensearch_endpoint=values["opensearch_endpoint"].rstrip("/"),
        s3_endpoint=values["s3_endpoint"].rstrip("/"),
        sqs_endpoint=values["sqs_endpoint"].rstrip("/"),
        opensearch_pid_file=Path(values["opensearch_pid_file"]),
    )


def opensearch_request(endpoint: str, method: str, path: str, body: Any = None, timeout: float = 30) -> Any:
    """Send one request to OpenSearch and return its decoded JSON answer; an HTTP error raises with its body."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        endpoint.rstrip("/") + path, data=data, method=method, headers={"Content-Type": "application/json"}
    )
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            text = response.read().decode()
    except urllib.error.HTTPError as error:
        raise AssertionError(f"{method} {path} -> {error.code}: {error.read().decode(errors='replace')}") from None
    return json.loads(text) if text else None


def reset_opensearch(endpoint: str) -> None:
    """Delete every data stream, index and template that is not a system one (those start with a dot)."""

    def names(path: str, key: str) -> list[str]:
        found = opensearch_request(endpoint, "GET", path).get(key, [])
        return [item["name"] for item in found if not item["name"].startswith(".")]

    def delete(path: str, items: list[str]) -> None:
        for item in items:
            opensearch_request(endpoint, "DELETE", f"{path}/{urllib.parse.quote(item, safe='')}")

    delete("/_data_stream", names("/_data_stream", "data_streams"))
    indices = opensearch_request(endpoint, "GET", "/_cat/indices?format=json&expand_wildcards=all&h=index")
    user_indices = [row["index"] for row in indices if not row["index"].startswith(".")]
    for start in range(0, len(user_indices), 50):
        joined = ",".join(urllib.parse.quote(index, safe="") for index in user_indices[start : start + 50])
        opensearch_request(endpoint, "DELETE", f"/{joined}")
    # Index templates first: a component template cannot go while an index template is composed of it.
    delete("/_index_template", names("/_index_template", "index_templates"))
    delete("/_component_template", names("/_component_template", "component_templates"))
    legacy = opensearch_request(endpoint, "GET", "/_template")
    delete("/_template", [name for name in legacy if not name.startswith(".")])


def boto3_client(service: str, **kwargs: Any) -> Any:
    """A boto3 client for ``s3`` or ``sqs`` against its test server, with the fake credentials of the env file."""
    services = require_services()
    endpoints = {"s3": services.s3_endpoint, "sqs": services.sqs_endpoint}
    if service not in endpoints:
        raise ValueError(f"no test server for {service!r}; there are {sorted(endpoints)}")
    config = Config(
        connect_timeout=5,
        read_timeout=30,
        retries={"max_attempts": 2, "mode": "standard"},
        s3={"addressing_style": "path"},
    )
    options = {
        "endpoint_url": endpoints[service],
        "region_name": os.environ.get("AWS_REGION", "ap-northeast-1"),
        "aws_access_key_id": os.environ.get("AWS_ACCESS_KEY_ID", "testing"),
        "aws_secret_access_key": os.environ.get("AWS_SECRET_ACCESS_KEY", "testing"),
        "config": config,
    }
    return boto3.client(service, **{**options, **kwargs})
