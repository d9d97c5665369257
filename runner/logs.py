"""Structured logging: JSON lines for machines, and CloudWatch embedded-metric-format records."""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import Any, Mapping

METRICS_NAMESPACE = "FileProcessor"
QUIET_LOGGERS = ("botocore", "boto3", "urllib3", "opensearch", "s3transfer")
_RESERVED = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """Formats each record as one JSON object; ``extra=`` fields become keys."""

    def format(self, record: logging.LogRecord) -> str:
        """Render the record as a JSON line."""
        data: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _RESERVED and not key.startswith("_"):
                data[key] = value
        if record.exc_info:
            data["exception"] = self.formatException(record.exc_info)
        return json.dumps(data, ensure_ascii=False, default=str)


def configure_logging(level: str = "INFO", *, json_lines: bool = True) -> None:
    """Send log records to standard error, as JSON lines or as short text."""
    handler = logging.StreamHandler(sys.stderr)
    if json_lines:
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # The AWS SDK and the HTTP clients log every request and credential lookup at INFO.
    for chatty in QUIET_LOGGERS:
        logging.getLogger(chatty).setLevel(max(logging.WARNING, root.level))


def metrics_record(
    snapshot: Mapping[str, Any],
    dimensions: Mapping[str, str] | None = None,
    gauges: Mapping[str, float] | None = None,
) -> dict[str, Any]:
    """A CloudWatch embedded-metric-format record of a stats snapshot.

    The CloudWatch agent (or Lambda/ECS log drivers) turns it into metrics with
    no extra code.
    """
    dimensions = dict(dimensions or {})
    values = {
        "Documents": snapshot["documents"],
        "DocumentsIndexed": snapshot["indexed"],
        "DocumentsFailed": snapshot["failed"],
        "Pages": snapshot["pages"],
        "OcrPages": snapshot["ocr_pages"],
    }
    for reason, count in snapshot["failures"].items():
        values[f"Failures_{reason}"] = count
    latency = snapshot["latency_seconds"]["median"]
    metrics = [{"Name": name, "Unit": "Count"} for name in values]
    if latency is not None:
        values["LatencyMedianSeconds"] = latency
        metrics.append({"Name": "LatencyMedianSeconds", "Unit": "Seconds"})
    for name, value in (gauges or {}).items():
        values[name] = value
        metrics.append({"Name": name, "Unit": "Seconds" if name.endswith("Seconds") else "None"})
    return {
        "_aws": {
            "Timestamp": int(time.time() * 1000),
            "CloudWatchMetrics": [
                {"Namespace": METRICS_NAMESPACE, "Dimensions": [sorted(dimensions)], "Metrics": metrics}
            ],
        },
        **dimensions,
        **values,
    }
