"""Notice, through instance metadata (IMDSv2), that this EC2 instance is about to go away.

Two notices lead to the same drain as SIGTERM:

- a Spot interruption (``/latest/meta-data/spot/instance-action`` answers 200
  about two minutes ahead);
- the Auto Scaling group moving the instance towards termination
  (``/latest/meta-data/autoscaling/target-lifecycle-state`` says ``Terminated``),
  which is what a terminating lifecycle hook holds the instance in.

Every request carries a session token (a PUT to ``/latest/api/token``), never a
plain GET. The endpoint is ``AWS_EC2_METADATA_SERVICE_ENDPOINT`` when set (the
standard variable botocore reads), else 169.254.169.254. Off EC2 the first token
request fails fast and the watcher stops.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import urllib.error
import urllib.request
from typing import Callable

from extractkit.errors import ConfigError

log = logging.getLogger("extractkit.worker")

DEFAULT_ENDPOINT = "http://169.254.169.254"
TOKEN_TTL_SECONDS = 21600


class InstanceMetadata:
    """A minimal IMDSv2 client."""

    def __init__(self, endpoint: str | None = None, timeout: float = 1.0) -> None:
        self.endpoint = (endpoint or os.environ.get("AWS_EC2_METADATA_SERVICE_ENDPOINT") or DEFAULT_ENDPOINT).rstrip(
            "/"
        )
        if not self.endpoint.startswith(("http://", "https://")):
            raise ConfigError("AWS_EC2_METADATA_SERVICE_ENDPOINT", f"expected an http:// URL, got {self.endpoint!r}")
        self.timeout = timeout
        self._token: str | None = None
        self._token_expires = 0.0

    def _fetch_token(self) -> str:
        request = urllib.request.Request(  # noqa: S310 (the scheme is checked in __init__)
            f"{self.endpoint}/latest/api/token",
            method="PUT",
            headers={"X-aws-ec2-metadata-token-ttl-seconds": str(TOKEN_TTL_SECONDS)},
        )
        with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310 (fixed scheme)
            return response.read().decode()

    def get(self, path: str) -> str | None:
        """The value at ``/latest/meta-data/<path>``, or None when it does not exist (404)."""
        if self._token is None or time.monotonic() > self._token_expires:
            self._token = self._fetch_token()
            self._token_expires = time.monotonic() + TOKEN_TTL_SECONDS - 60
        request = urllib.request.Request(  # noqa: S310 (the scheme is checked in __init__)
            f"{self.endpoint}/latest/meta-data/{path}", headers={"X-aws-ec2-metadata-token": self._token}
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310 (fixed scheme)
                return response.read().decode()
        except urllib.error.HTTPError as exc:
            if exc.code == 404:
                return None
            if exc.code == 401:  # token expired early: fetch a new one next time
                self._token = None
            raise


class InstanceEventWatcher:
    """Polls instance metadata and calls ``on_notice(reason)`` once when the instance is going away."""

    def __init__(
        self, on_notice: Callable[[str], None], *, interval: float = 5.0, metadata: InstanceMetadata | None = None
    ) -> None:
        self.on_notice = on_notice
        self.interval = interval
        self.metadata = metadata or InstanceMetadata()
        self.instance_id: str | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="extractkit-instance-events", daemon=True)

    def start(self) -> bool:
        """Start watching; False (and no thread) when there is no instance metadata service."""
        try:
            self.instance_id = self.metadata.get("instance-id")
        except (OSError, urllib.error.URLError):
            log.info("no instance metadata service; Spot and scale-in notices are not watched")
            return False
        self._thread.start()
        return True

    def stop(self) -> None:
        """Stop watching."""
        self._stop.set()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            reason = self._notice()
            if reason is not None:
                log.warning("instance is going away (%s); draining", reason, extra={"event": "instance_notice"})
                self.on_notice(reason)
                return

    def _notice(self) -> str | None:
        try:
            if self.metadata.get("spot/instance-action") is not None:
                return "spot interruption notice"
            state = self.metadata.get("autoscaling/target-lifecycle-state")
        except (OSError, urllib.error.URLError) as exc:
            log.debug("instance metadata not answering: %s", exc)
            return None
        if state is not None and state.strip() == "Terminated":
            return "auto scaling terminating the instance"
        return None


def complete_lifecycle_action(hook_name: str, instance_id: str, region: str | None = None) -> None:
    """Tell the Auto Scaling group that this instance's terminating hook may CONTINUE."""
    import boto3

    client = boto3.client("autoscaling", region_name=region or None)
    [instance] = client.describe_auto_scaling_instances(InstanceIds=[instance_id])["AutoScalingInstances"]
    client.complete_lifecycle_action(
        LifecycleHookName=hook_name,
        AutoScalingGroupName=instance["AutoScalingGroupName"],
        InstanceId=instance_id,
        LifecycleActionResult="CONTINUE",
    )
    log.info("lifecycle hook %s completed for %s", hook_name, instance_id)
