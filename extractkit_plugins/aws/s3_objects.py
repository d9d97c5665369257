"""Reading one S3 object into a private temp file: one streamed GET, size checked first.

Shared by the ``s3`` and ``sqs`` sources. The object's key is never used as a
local path (keys may hold ``..`` segments or start with ``/``): the bytes go to
:func:`extractkit.tempfiles.private_file`, which only borrows a plain extension.

One GET gives the body and, in its headers, the size, ETag, version and type of
that same version, so the metadata can never belong to another version of the
object. An object announced over the limit is refused from those headers: the
body is closed unread. The download also stops at the limit, whatever the
headers said. The latest version is read, not the version named by an event: an
event for an object deleted since then must end in a deletion, not in a
resurrected old version.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Mapping

from extractkit.errors import NetworkError, TooLarge
from extractkit.models import Document
from extractkit.tempfiles import private_file

from .error_mapping import is_aws_error, map_error

log = logging.getLogger("extractkit.aws.s3")

#: Bytes read from the response stream at a time.
CHUNK_SIZE = 1024 * 1024


def s3_uri(bucket: str, key: str) -> str:
    """The document URI of an object: ``s3://bucket/key`` with the key as it is."""
    return f"s3://{bucket}/{key}"


def object_name(key: str) -> str:
    """The file name part of a key (a hint only, never a path)."""
    return key.rstrip("/").rsplit("/", 1)[-1] or key


def _iso_utc(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _epoch_ms(moment: datetime | None) -> int | None:
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def head_object(client: Any, bucket: str, key: str) -> Mapping[str, Any]:
    """HEAD the object; botocore errors become classified document errors."""
    return _object_call(client.head_object, "HEAD", bucket, key)


def _object_call(method: Any, verb: str, bucket: str, key: str) -> Mapping[str, Any]:
    """``method(Bucket=bucket, Key=key)``, with botocore errors turned into classified document errors."""
    try:
        return method(Bucket=bucket, Key=key)
    except Exception as error:
        if is_aws_error(error):
            raise map_error(error, f"{verb} {s3_uri(bucket, key)}") from error
        raise


def too_large_error(name: str, size: int, limit: int) -> TooLarge:
    """The failure for an object over the size limit (it was not downloaded)."""
    return TooLarge(
        f"{name} is {size / 1e6:.1f} MB, over the {limit / 1e6:.0f} MB limit (MAX_FILE_SIZE_MB); it was not downloaded"
    )


def source_metadata(bucket: str, key: str, headers: Mapping[str, Any]) -> dict[str, Any]:
    """What the store records about the object, from a HEAD's or GET's headers: bucket, key, ETag, version, size..."""
    last_modified = headers.get("LastModified")
    version_id = headers.get("VersionId")
    return {
        "bucket": bucket,
        "key": key,
        "etag": str(headers.get("ETag") or "").strip('"') or None,
        "version_id": version_id if version_id and version_id != "null" else None,
        "size": int(headers.get("ContentLength") or 0),
        "content_type": headers.get("ContentType"),
        "last_modified": _iso_utc(last_modified),
        "last_modified_ms": _epoch_ms(last_modified),
    }


def get_object(client: Any, bucket: str, key: str) -> Mapping[str, Any]:
    """GET the object (headers now, body as a stream); botocore errors become classified document errors."""
    return _object_call(client.get_object, "GET", bucket, key)


def fetch_object(client: Any, bucket: str, key: str, workdir: Path, *, max_bytes: int, uri: str = "") -> Document:
    """GET the object, refuse it unread when its size is over ``max_bytes``, else stream it into ``workdir``."""
    uri = uri or s3_uri(bucket, key)
    name = object_name(key)
    response = get_object(client, bucket, key)
    body = response["Body"]
    try:
        size = int(response.get("ContentLength") or 0)
        if size > max_bytes:
            raise too_large_error(name, size, max_bytes)
        path = private_file(workdir, name)
        written = copy_body(body, path, expected=size, name=name, max_bytes=max_bytes, what=f"GET {uri}")
    finally:
        body.close()
    metadata = source_metadata(bucket, key, response)
    metadata["size"] = written
    return Document(uri=uri, path=path, name=name, size=written, source_metadata=metadata)


def copy_body(body: Any, path: Path, *, expected: int, name: str, max_bytes: int, what: str) -> int:
    """Copy a response body to ``path`` chunk by chunk, at most ``max_bytes``; return the bytes written.

    A download that goes over the limit, breaks off, or ends short of ``expected`` leaves no file.
    """
    written = 0
    try:
        with path.open("wb") as handle:
            for chunk in body.iter_chunks(CHUNK_SIZE):
                written += len(chunk)
                if written > max_bytes:
                    raise too_large_error(name, written, max_bytes)
                handle.write(chunk)
    except TooLarge:
        path.unlink(missing_ok=True)
        raise
    except Exception as error:
        path.unlink(missing_ok=True)
        if is_aws_error(error):
            raise map_error(error, what) from error
        if isinstance(error, (ConnectionError, TimeoutError)) or type(error).__module__.startswith("urllib3"):
            raise NetworkError(f"{what}: {type(error).__name__}: {error}") from error
        raise
    if expected and written != expected:
        path.unlink(missing_ok=True)
        raise NetworkError(f"{what}: the download stopped after {written} of {expected} bytes")
    return written
