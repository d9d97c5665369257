"""Turning botocore errors into extractkit's classified document errors.

* 404 / ``NoSuchKey`` / ``NoSuchBucket`` / ``NoSuchVersion`` → :class:`DocumentGone`
* 403 / ``AccessDenied`` → :class:`Forbidden`
* throttling / ``SlowDown`` / 429 → :class:`Throttled`
* 5xx, expired credentials, an object that changed under a conditional read → :class:`ServiceError`
* connection and read failures → :class:`NetworkError`
* any other 4xx → :class:`UnreadableDocument` (permanent: the request itself is wrong)

Messages name the operation and the error code, never a signed header or a URL
with credentials in it.
"""

from __future__ import annotations

from typing import Any

from extractkit.errors import (
    DocumentError,
    DocumentGone,
    Forbidden,
    NetworkError,
    ServiceError,
    Throttled,
    TransientError,
    UnreadableDocument,
)

GONE_CODES = frozenset({"404", "NoSuchKey", "NoSuchBucket", "NoSuchVersion", "NotFound"})
FORBIDDEN_CODES = frozenset({"403", "AccessDenied", "AllAccessDisabled", "AccountProblem"})
# An archived object (Glacier) answers 403 but is a storage-class problem, not a permission one.
ARCHIVED_CODES = frozenset({"InvalidObjectState"})
THROTTLED_CODES = frozenset(
    {
        "429",
        "SlowDown",
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottled",
        "RequestThrottledException",
        "RequestLimitExceeded",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "BandwidthLimitExceeded",
    }
)
# The instance role's credentials are refreshed by the chain: a later try succeeds.
RETRYABLE_CODES = frozenset(
    {"ExpiredToken", "ExpiredTokenException", "RequestExpired", "RequestTimeout", "RequestTimeTooSkewed"}
)
CHANGED_CODES = frozenset({"412", "PreconditionFailed"})


def error_code(error: Any) -> tuple[str, int]:
    """The (code, HTTP status) of a botocore ``ClientError``; ``("", 0)`` when it has none."""
    response = getattr(error, "response", None) or {}
    code = str((response.get("Error") or {}).get("Code") or "")
    status = int((response.get("ResponseMetadata") or {}).get("HTTPStatusCode") or 0)
    return code, status


def _is_client_error(error: BaseException) -> bool:
    from botocore.exceptions import ClientError

    return isinstance(error, ClientError)


def _is_connection_error(error: BaseException) -> bool:
    from botocore.exceptions import (
        ConnectionError as BotocoreConnectionError,
    )
    from botocore.exceptions import (
        HTTPClientError,
        IncompleteReadError,
        NoCredentialsError,
        PartialCredentialsError,
        ResponseStreamingError,
    )

    return isinstance(
        error,
        (
            BotocoreConnectionError,
            HTTPClientError,
            IncompleteReadError,
            ResponseStreamingError,
            NoCredentialsError,
            PartialCredentialsError,
        ),
    )


def is_aws_error(error: BaseException) -> bool:
    """True for the botocore errors :func:`map_error` understands."""
    from botocore.exceptions import BotoCoreError

    return _is_client_error(error) or isinstance(error, BotoCoreError)


def map_error(error: BaseException, what: str) -> DocumentError:
    """The extractkit error for a botocore error raised while doing ``what`` (e.g. "HEAD s3://b/k")."""
    if _is_client_error(error):
        code, status = error_code(error)
        label = f"{what}: {code or status}"
        detail = str((getattr(error, "response", {}).get("Error") or {}).get("Message") or "").strip()
        message = f"{label} ({detail})" if detail and detail != code else label
        if code in GONE_CODES or status == 404:
            return DocumentGone(f"{message}: the object does not exist")
        if code in ARCHIVED_CODES:
            return UnreadableDocument(f"{message}: the object is archived and must be restored first")
        if code in FORBIDDEN_CODES or status == 403:
            return Forbidden(f"{message}: access denied")
        if code in THROTTLED_CODES or status == 429 or (status == 503 and code == "SlowDown"):
            return Throttled(f"{message}: the service asked us to slow down")
        if code in CHANGED_CODES or status == 412:
            return ServiceError(f"{message}: the object changed while it was read")
        if code in RETRYABLE_CODES or status >= 500:
            return ServiceError(message)
        return UnreadableDocument(message)
    if _is_connection_error(error):
        return NetworkError(f"{what}: {type(error).__name__}: {error}")
    return TransientError(f"{what}: {type(error).__name__}: {error}")


def describe(error: BaseException) -> str:
    """One line about a botocore error, for ``check()`` and logs."""
    if _is_client_error(error):
        code, status = error_code(error)
        detail = str((getattr(error, "response", {}).get("Error") or {}).get("Message") or "").strip()
        text = code or f"HTTP {status}"
        return f"{text} ({detail})" if detail and detail != code else text
    return f"{type(error).__name__}: {error}"
