"""S3 source: one object (``key``) or every object under a prefix (``prefix``) of ``bucket``.

Options: ``bucket`` (required; ``S3_BUCKET``), ``key`` or ``prefix`` (neither: the
whole bucket), ``region``, ``max_file_size_mb`` (default ``MAX_FILE_SIZE_MB`` or
100). Each item carries the size from the listing (or a HEAD for a single key),
so the pipeline refuses an object over the limit before fetching it; ``fetch``
checks the size its GET announces once more (closing the body unread when it is
over) before streaming it to a private temp file.
Folder markers (keys ending in ``/``) are skipped.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Iterator, Mapping

from extractkit import Document, Source, SourceItem, hookimpl
from extractkit.errors import ConfigError, DocumentError, ServiceUnreachable
from extractkit.hookspecs import RegisterClass
from extractkit.retry import RetryPolicy, call_with_retries

from ..options import reject_unknown, required_str
from .clients import make_client, region_for
from .error_mapping import describe, is_aws_error, map_error
from .option_values import max_file_size_bytes, optional_str
from .s3_objects import fetch_object, head_object, object_name, s3_uri

log = logging.getLogger("extractkit.aws.s3")

SECTION = "source"
OPTIONS = ("bucket", "prefix", "key", "region", "max_file_size_mb")
#: How patiently one listing page is asked for before the run gives up.
LISTING_RETRY = RetryPolicy(attempts=5, base_delay=1.0, max_delay=20.0)


class S3Source(Source):
    """Yields the objects of one bucket: a single key, or everything under a prefix."""

    name = "s3"
    redelivers = False

    def __init__(self, options: Mapping[str, Any] | None = None) -> None:
        super().__init__(options)
        reject_unknown(SECTION, self.options, OPTIONS)
        self.bucket = required_str(SECTION, self.options, "bucket")
        self.key = optional_str(SECTION, self.options, "key")
        self.prefix = optional_str(SECTION, self.options, "prefix")
        if self.key and self.prefix:
            raise ConfigError(f"{SECTION}.key", "set either 'key' (one object) or 'prefix' (many), not both")
        self.max_bytes = max_file_size_bytes(SECTION, self.options)
        self.client = make_client("s3", region_for(self.options))
        self._stopped = False

    # -- announcing ----------------------------------------------------------

    def _item(self, key: str, size: int | None, extra: Mapping[str, Any]) -> SourceItem:
        return SourceItem(
            uri=s3_uri(self.bucket, key),
            name=object_name(key),
            size=size,
            attributes={"bucket": self.bucket, "key": key, **extra},
        )

    def _single_item(self) -> SourceItem:
        try:
            head = head_object(self.client, self.bucket, self.key)
        except DocumentError as error:
            # fetch() raises it again where the pipeline records it (or deletes a gone document).
            log.info("HEAD of %s failed before fetch: %s", s3_uri(self.bucket, self.key), error)
            return self._item(self.key, None, {})
        return self._item(self.key, int(head.get("ContentLength") or 0), {"etag": str(head.get("ETag", "")).strip('"')})

    def _listing(self) -> Iterator[Mapping[str, Any]]:
        """Every object under the prefix, page by page; a page is retried, then the run stops with one line."""
        token: str | None = None
        while True:
            request: dict[str, Any] = {"Bucket": self.bucket, "Prefix": self.prefix}
            if token:
                request["ContinuationToken"] = token
            try:
                page = call_with_retries(lambda request=request: self._list_page(request), LISTING_RETRY)
            except DocumentError as error:
                raise ServiceUnreachable(f"cannot list s3://{self.bucket}/{self.prefix}: {error.message}") from error
            yield from page.get("Contents", [])
            if not page.get("IsTruncated"):
                return
            token = page.get("NextContinuationToken")

    def _list_page(self, request: Mapping[str, Any]) -> Mapping[str, Any]:
        try:
            return self.client.list_objects_v2(**request)
        except Exception as error:
            if is_aws_error(error):
                raise map_error(error, f"LIST s3://{self.bucket}/{self.prefix}") from error
            raise

    def items(self) -> Iterator[SourceItem]:
        """The configured object, or every object under the prefix in key order."""
        if self.key:
            if not self._stopped:
                yield self._single_item()
            return
        for entry in self._listing():
            if self._stopped:
                return
            key = entry["Key"]
            if key.endswith("/") and not entry.get("Size"):
                continue
            yield self._item(key, int(entry.get("Size") or 0), {"etag": str(entry.get("ETag", "")).strip('"')})

    def count_items(self) -> int:
        """How many objects :meth:`items` will yield (one more listing pass), for a progress bar."""
        if self.key:
            return 1
        return sum(1 for entry in self._listing() if not (entry["Key"].endswith("/") and not entry.get("Size")))

    # -- reading -------------------------------------------------------------

    def fetch(self, item: SourceItem, workdir: Path) -> Document:
        """GET the object, refuse it unread over the size limit, else stream it into ``workdir``."""
        return fetch_object(
            self.client, item.attributes["bucket"], item.attributes["key"], workdir, max_bytes=self.max_bytes
        )

    def check(self) -> None:
        """The bucket must be reachable with our credentials (HeadBucket); nothing is changed."""
        try:
            self.client.head_bucket(Bucket=self.bucket)
        except Exception as error:
            if is_aws_error(error):
                raise ServiceUnreachable(f"S3 bucket '{self.bucket}' is not reachable: {describe(error)}") from error
            raise

    def stop(self) -> None:
        """Stop yielding further objects."""
        self._stopped = True

    def close(self) -> None:
        """Release the client's connections."""
        self.client.close()


@hookimpl
def register_sources(register: RegisterClass) -> None:
    """Register the S3 source."""
    register(S3Source)
