"""Queue tools for operators: ``extractkit dlq replay`` and ``extractkit enqueue``.

``dlq replay`` moves messages from the dead-letter queue back to the main queue:
SendMessageBatch first, then each message is deleted from the DLQ only once ITS
send entry succeeded, so a failed send leaves the message where it was. The
bodies and message attributes travel unchanged. Each message is handled once
per run (a message that comes back to the DLQ during the run is left there).
``--dry-run`` receives the messages, lists what they name and makes them
visible again at once, moving nothing.

``enqueue s3://bucket/prefix`` seeds the queue with one ``{"bucket", "key"}``
message per object under the prefix (the backfill of a new deployment), ten per
SendMessageBatch with every entry checked and failed entries sent again, a
progress line on a terminal and a summary at the end.

Both read the queue URLs and the bucket from the worker's config
(``[source] queue_url``, ``dlq_url``, ``bucket``), or from the seed variables
when there is no file. Without ``dlq_url`` the DLQ is found through the main
queue's redrive policy.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping

import click

from extractkit.errors import ConfigError, ExtractkitError, InvalidMessage

from .config import WorkerConfig, load_config

BATCH_SIZE = 10
#: Rounds a failed SendMessageBatch entry is tried before it counts as failed.
SEND_ROUNDS = 3
#: How long a received DLQ message stays invisible while it is being moved.
REPLAY_VISIBILITY = 300

Echo = Callable[[str], None]


@dataclass
class ReplayReport:
    """What one ``dlq replay`` run did."""

    received: int = 0
    moved: int = 0
    send_failed: int = 0
    delete_failed: int = 0
    names: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when every received message was moved (or, in a dry run, nothing failed)."""
        return not self.send_failed and not self.delete_failed


@dataclass
class EnqueueReport:
    """What one ``enqueue`` run did."""

    listed: int = 0
    sent: int = 0
    failed: int = 0
    failures: list[str] = field(default_factory=list)


def _clients(config: WorkerConfig, queue_url: str) -> tuple[Any, Any]:
    from extractkit_plugins.aws.clients import make_client, region_for

    region = region_for({"region": config.source.get("region") or config.aws.get("region") or None}, queue_url)
    return make_client("sqs", region), make_client("s3", region)


def _queue_url(config: WorkerConfig) -> str:
    url = str(config.source.get("queue_url") or "")
    if not url:
        raise ConfigError("source.queue_url", "is required (SQS_QUEUE_URL)")
    return url


def dead_letter_queue_url(sqs: Any, config: WorkerConfig, queue_url: str) -> str:
    """``[source] dlq_url``, else the DLQ named by the main queue's redrive policy."""
    configured = str(config.source.get("dlq_url") or "")
    if configured:
        return configured
    attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["RedrivePolicy"]).get("Attributes", {})
    policy = json.loads(attributes.get("RedrivePolicy") or "{}")
    arn = str(policy.get("deadLetterTargetArn") or "")
    if not arn:
        raise ConfigError("source.dlq_url", "is not set and the queue has no redrive policy naming a DLQ")
    _, _, _, _, account, name = arn.split(":", 5)
    return sqs.get_queue_url(QueueName=name, QueueOwnerAWSAccountId=account)["QueueUrl"]


def _copied_attributes(message: Mapping[str, Any]) -> dict[str, Any]:
    copied = {}
    for name, value in (message.get("MessageAttributes") or {}).items():
        kept = {k: v for k, v in value.items() if k in ("DataType", "StringValue", "BinaryValue")}
        copied[name] = kept
    return copied


def _send_entry(message: Mapping[str, Any], index: int, fifo: bool) -> dict[str, Any]:
    entry: dict[str, Any] = {"Id": str(index), "MessageBody": message["Body"]}
    attributes = _copied_attributes(message)
    if attributes:
        entry["MessageAttributes"] = attributes
    if fifo:
        system = message.get("Attributes") or {}
        entry["MessageGroupId"] = system.get("MessageGroupId") or "extractkit-replay"
        entry["MessageDeduplicationId"] = message["MessageId"]
    return entry


def _describe_body(body: str) -> str:
    from extractkit_plugins.aws.sqs_messages import parse_body

    try:
        events = parse_body(body)
    except InvalidMessage as error:
        return f"(not understood: {error.message})"
    if not events:
        return "(s3:TestEvent)"
    return ", ".join(f"{event.event} s3://{event.bucket}/{event.key}" for event in events)


def replay_dlq(
    sqs: Any, dlq_url: str, queue_url: str, *, max_messages: int | None = None, dry_run: bool = False, echo: Echo
) -> ReplayReport:
    """Move up to ``max_messages`` messages from the DLQ to the main queue (see the module docstring)."""
    report = ReplayReport()
    seen: set[str] = set()
    held: list[str] = []  # receipt handles to make visible again at the end
    fifo = queue_url.endswith(".fifo")
    while max_messages is None or report.received < max_messages:
        want = BATCH_SIZE if max_messages is None else min(BATCH_SIZE, max_messages - report.received)
        response = sqs.receive_message(
            QueueUrl=dlq_url,
            MaxNumberOfMessages=want,
            WaitTimeSeconds=1,
            VisibilityTimeout=REPLAY_VISIBILITY,
            MessageAttributeNames=["All"],
            MessageSystemAttributeNames=["All"],
        )
        messages = response.get("Messages", [])
        fresh = [message for message in messages if message["MessageId"] not in seen]
        held.extend(message["ReceiptHandle"] for message in messages if message["MessageId"] in seen)
        if not fresh:
            break
        seen.update(message["MessageId"] for message in fresh)
        report.received += len(fresh)
        if dry_run:
            for message in fresh:
                report.names.append(f"{message['MessageId']}: {_describe_body(message.get('Body', ''))}")
            held.extend(message["ReceiptHandle"] for message in fresh)
            continue
        _move_batch(sqs, dlq_url, queue_url, fresh, fifo, report, held, echo)
    _make_visible(sqs, dlq_url, held, echo)
    return report


def _move_batch(
    sqs: Any,
    dlq_url: str,
    queue_url: str,
    messages: list[Mapping[str, Any]],
    fifo: bool,
    report: ReplayReport,
    held: list[str],
    echo: Echo,
) -> None:
    entries = [_send_entry(message, index, fifo) for index, message in enumerate(messages)]
    try:
        response = sqs.send_message_batch(QueueUrl=queue_url, Entries=entries)
    except Exception as error:
        echo(f"send of {len(messages)} message(s) failed: {error}; they stay in the DLQ")
        report.send_failed += len(messages)
        held.extend(message["ReceiptHandle"] for message in messages)
        return
    sent = {entry["Id"] for entry in response.get("Successful", [])}
    failed = {entry["Id"]: entry for entry in response.get("Failed", [])}
    to_delete = []
    for index, message in enumerate(messages):
        if str(index) in sent:
            to_delete.append(message)
        else:
            code = failed.get(str(index), {}).get("Code", "no answer for this entry")
            echo(f"message {message['MessageId']} was not sent ({code}); it stays in the DLQ")
            report.send_failed += 1
            held.append(message["ReceiptHandle"])
    if not to_delete:
        return
    deletes = [{"Id": str(index), "ReceiptHandle": message["ReceiptHandle"]} for index, message in enumerate(to_delete)]
    try:
        answer = sqs.delete_message_batch(QueueUrl=dlq_url, Entries=deletes)
    except Exception as error:
        echo(f"{len(to_delete)} message(s) were sent but not deleted from the DLQ ({error}); they may be duplicated")
        report.delete_failed += len(to_delete)
        return
    deleted = {entry["Id"] for entry in answer.get("Successful", [])}
    for index, message in enumerate(to_delete):
        if str(index) in deleted:
            report.moved += 1
        else:
            echo(f"message {message['MessageId']} was sent but not deleted from the DLQ; it may be duplicated")
            report.delete_failed += 1


def _make_visible(sqs: Any, queue_url: str, handles: list[str], echo: Echo) -> None:
    for start in range(0, len(handles), BATCH_SIZE):
        batch = handles[start : start + BATCH_SIZE]
        entries = [{"Id": str(i), "ReceiptHandle": handle, "VisibilityTimeout": 0} for i, handle in enumerate(batch)]
        try:
            response = sqs.change_message_visibility_batch(QueueUrl=queue_url, Entries=entries)
        except Exception as error:
            echo(f"{len(batch)} DLQ message(s) stay invisible for up to {REPLAY_VISIBILITY} s: {error}")
            continue
        for failed in response.get("Failed", []):
            echo(f"a DLQ message stays invisible for up to {REPLAY_VISIBILITY} s: {failed.get('Code')}")


def parse_s3_url(target: str) -> tuple[str, str]:
    """``s3://bucket/prefix`` → (bucket, prefix)."""
    if not target.startswith("s3://") or not target[5:].split("/", 1)[0]:
        raise click.BadParameter(f"expected s3://bucket/prefix, got {target!r}", param_hint="TARGET")
    bucket, _, prefix = target[5:].partition("/")
    return bucket, prefix


def _object_keys(s3: Any, bucket: str, prefix: str) -> Iterator[str]:
    paginator = s3.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
        for entry in page.get("Contents", []):
            if entry["Key"].endswith("/") and not entry.get("Size"):
                continue  # a console folder marker names no document
            yield entry["Key"]


def _send_bodies(sqs: Any, queue_url: str, bodies: list[tuple[str, str]], report: EnqueueReport) -> None:
    """Send (key, body) pairs as one batch, sending failed entries again up to SEND_ROUNDS times."""
    pending = list(bodies)
    for round_number in range(1, SEND_ROUNDS + 1):
        entries = [{"Id": str(index), "MessageBody": body} for index, (_, body) in enumerate(pending)]
        try:
            response = sqs.send_message_batch(QueueUrl=queue_url, Entries=entries)
        except Exception as error:
            failed_now = {str(index): {"Code": str(error)} for index in range(len(pending))}
        else:
            report.sent += len(response.get("Successful", []))
            answered = {entry["Id"] for entry in response.get("Successful", [])}
            failed_now = {entry["Id"]: entry for entry in response.get("Failed", [])}
            failed_now.update(
                {str(i): {"Code": "no answer"} for i in range(len(pending)) if str(i) not in answered | set(failed_now)}
            )
        retry = [pending[int(entry_id)] for entry_id in sorted(failed_now, key=int)]
        if not retry:
            return
        if round_number == SEND_ROUNDS:
            for (key, _), entry_id in zip(retry, sorted(failed_now, key=int), strict=True):
                report.failed += 1
                report.failures.append(f"{key}: {failed_now[entry_id].get('Code')}")
        pending = retry


def enqueue_prefix(
    sqs: Any, s3: Any, queue_url: str, bucket: str, prefix: str, *, progress: Echo | None = None
) -> EnqueueReport:
    """Send one ``{"bucket", "key"}`` message per object under the prefix, ten per batch."""
    report = EnqueueReport()
    batch: list[tuple[str, str]] = []
    for key in _object_keys(s3, bucket, prefix):
        report.listed += 1
        batch.append((key, json.dumps({"bucket": bucket, "key": key}, ensure_ascii=False)))
        if len(batch) == BATCH_SIZE:
            _send_bodies(sqs, queue_url, batch, report)
            batch = []
            if progress is not None:
                progress(f"enqueued {report.sent} of {report.listed} listed ({report.failed} failed)")
    if batch:
        _send_bodies(sqs, queue_url, batch, report)
    return report


# -- click commands ----------------------------------------------------------------

_CONFIG_OPTION = click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="The worker's TOML config (default: the seed's environment variables).",
)


def _aws_failure(error: Exception) -> click.ClickException:
    from extractkit_plugins.aws.error_mapping import describe, is_aws_error

    if isinstance(error, ExtractkitError) or not is_aws_error(error):
        raise error
    return click.ClickException(describe(error))


@click.group("dlq")
def dlq_group() -> None:
    """Work with the dead-letter queue."""


@dlq_group.command("replay")
@_CONFIG_OPTION
@click.option("--dry-run", is_flag=True, help="List the DLQ's messages and move nothing.")
@click.option("--max", "max_messages", type=click.IntRange(min=1), default=None, help="Move at most N messages.")
def replay_command(config_path: Path | None, dry_run: bool, max_messages: int | None) -> None:
    """Move messages from the DLQ back to the main queue (each deleted only after its send succeeded)."""
    config = load_config(config_path)
    queue_url = _queue_url(config)
    sqs, _ = _clients(config, queue_url)
    try:
        dlq_url = dead_letter_queue_url(sqs, config, queue_url)
        report = replay_dlq(
            sqs, dlq_url, queue_url, max_messages=max_messages, dry_run=dry_run, echo=lambda m: click.echo(m, err=True)
        )
    except Exception as error:
        raise _aws_failure(error) from error
    if dry_run:
        for line in report.names:
            click.echo(line)
        click.echo(f"dry run: {report.received} message(s) in {dlq_url} would be moved to {queue_url}")
        return
    click.echo(
        f"moved {report.moved} of {report.received} message(s) from {dlq_url} to {queue_url}; "
        f"{report.send_failed} not sent, {report.delete_failed} sent but not deleted"
    )
    if not report.ok:
        sys.exit(1)


@click.command("enqueue")
@click.argument("target")
@_CONFIG_OPTION
def enqueue_command(target: str, config_path: Path | None) -> None:
    """Send one message per object under TARGET (s3://bucket/prefix) to the worker's queue."""
    bucket, prefix = parse_s3_url(target)
    config = load_config(config_path)
    queue_url = _queue_url(config)
    from extractkit_plugins.aws.option_values import str_list_option

    allowed = {str(config.source.get("bucket") or ""), *str_list_option("source", config.source, "allowed_buckets")}
    allowed.discard("")
    if allowed and bucket not in allowed:
        raise ConfigError(
            "source.bucket", f"s3://{bucket} is not a bucket the worker reads ({', '.join(sorted(allowed))})"
        )
    sqs, s3 = _clients(config, queue_url)
    interactive = sys.stderr.isatty()

    def progress(line: str) -> None:
        click.echo(f"\r{line}", nl=False, err=True)

    try:
        report = enqueue_prefix(sqs, s3, queue_url, bucket, prefix, progress=progress if interactive else None)
    except Exception as error:
        raise _aws_failure(error) from error
    if interactive:
        click.echo("", err=True)
    for failure in report.failures:
        click.echo(f"not enqueued: {failure}", err=True)
    click.echo(f"enqueued {report.sent} of {report.listed} object(s) under {target} into {queue_url}")
    if report.failed:
        sys.exit(1)
