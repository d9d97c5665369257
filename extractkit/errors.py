"""Error hierarchy: every failure carries a failure class, a reason and an exit code.

Document errors describe what went wrong with one document and never abort a batch.
Setup errors (configuration, plugins) stop the program with a distinct exit code.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:
    from .models import Attempt

TRANSIENT = "transient"
PERMANENT = "permanent"


class ExtractkitError(Exception):
    """Base class of every error extractkit raises on purpose."""

    exit_code: ClassVar[int] = 1


class ConfigError(ExtractkitError):
    """A configuration key is missing, misspelt or has a bad value."""

    exit_code = 78  # EX_CONFIG

    def __init__(self, key: str, problem: str) -> None:
        self.key = key
        self.problem = problem
        super().__init__(f"config key '{key}': {problem}")


class PluginError(ExtractkitError):
    """A plugin could not be loaded, or its hooks do not match any spec."""

    exit_code = 3


class NoPluginAnswered(PluginError):
    """A hook that must be answered by some plugin had no implementation."""


class ServiceUnreachable(ExtractkitError):
    """A configured service (queue, bucket, search cluster) cannot be reached."""

    exit_code = 69  # EX_UNAVAILABLE


class DocumentError(ExtractkitError):
    """One document could not be processed.

    ``reason`` is a short machine-readable word; ``failure_class`` says whether a
    retry can help.
    """

    failure_class: ClassVar[str] = PERMANENT
    reason: ClassVar[str] = "error"

    def __init__(self, message: str, *, retryable_with_other_extractor: bool = False) -> None:
        super().__init__(message)
        self.message = message
        #: When true, the pipeline may try the next extractor for the same MIME type.
        self.retryable_with_other_extractor = retryable_with_other_extractor
        #: The plugin that raised it, once known.
        self.plugin: str = ""
        #: The detected MIME type of the document, once known.
        self.mime_type: str | None = None
        #: Every extractor's try at the document before this error.
        self.attempts: tuple[Attempt, ...] = ()
        #: How many times the failing call was made (set by the retry policy).
        self.attempts_made: int = 1


class PermanentError(DocumentError):
    """A failure that will happen again on every attempt: record it, never retry."""

    failure_class = PERMANENT
    exit_code = 10


class UnsupportedFormat(PermanentError):
    """No extractor handles the document's type."""

    reason = "unsupported"
    exit_code = 10


class CorruptDocument(PermanentError):
    """The file is damaged or is not what its type claims."""

    reason = "corrupt"
    exit_code = 11


class EncryptedDocument(PermanentError):
    """The document needs a password."""

    reason = "encrypted"
    exit_code = 12


class TooLarge(PermanentError):
    """The document exceeds a size, page or pixel limit."""

    reason = "too_large"
    exit_code = 13


class EmptyDocument(PermanentError):
    """The file has no bytes at all."""

    reason = "empty"
    exit_code = 14


class UnreadableDocument(PermanentError):
    """The path does not exist or cannot be read."""

    reason = "unreadable"
    exit_code = 15


class Forbidden(PermanentError):
    """The document lies outside what this worker may read (another bucket, say)."""

    reason = "forbidden"
    exit_code = 19


class InvalidMessage(PermanentError):
    """A queue message that names no document this worker understands."""

    reason = "invalid_message"
    exit_code = 20


class DocumentGone(PermanentError):
    """The document no longer exists at its origin: it is removed from the store, not recorded."""

    reason = "gone"
    exit_code = 21


class SinkFailed(PermanentError):
    """The sink refused a record (a mapping error, say) or failed on it unexpectedly."""

    reason = "sink_error"
    exit_code = 22


class MissingExtra(UnsupportedFormat):
    """Reading this document needs an optional extra that is not installed."""

    def __init__(self, extra: str, purpose: str) -> None:
        super().__init__(f"install extractkit[{extra}] to {purpose}")
        self.extra = extra
        self.purpose = purpose

    def __reduce__(self) -> tuple:
        return (type(self), (self.extra, self.purpose))


class ExtractionTimeout(PermanentError):
    """Extraction ran past its wall-clock or CPU budget."""

    reason = "timeout"
    exit_code = 16


class MemoryLimitExceeded(PermanentError):
    """Extraction went over its memory cap."""

    reason = "memory"
    exit_code = 17


class ExtractorCrashed(PermanentError):
    """The process extracting the document died or the extractor raised unexpectedly."""

    reason = "crashed"
    exit_code = 18


class TransientError(DocumentError):
    """A failure that may succeed later: network trouble, throttling, a sink that is down."""

    failure_class = TRANSIENT
    reason = "transient"
    exit_code = 75  # EX_TEMPFAIL


class NetworkError(TransientError):
    """A connection failed or timed out."""

    reason = "network"


class Throttled(TransientError):
    """A service asked us to slow down (HTTP 429, SlowDown)."""

    reason = "throttled"


class ServiceError(TransientError):
    """A service answered with a 5xx error."""

    reason = "unavailable"


PERMANENT_ERRORS: tuple[type[PermanentError], ...] = (
    UnsupportedFormat,
    CorruptDocument,
    EncryptedDocument,
    TooLarge,
    EmptyDocument,
    UnreadableDocument,
    Forbidden,
    InvalidMessage,
    DocumentGone,
    SinkFailed,
    ExtractionTimeout,
    MemoryLimitExceeded,
    ExtractorCrashed,
)

_BY_REASON: dict[str, type[DocumentError]] = {
    cls.reason: cls for cls in (*PERMANENT_ERRORS, NetworkError, Throttled, ServiceError, TransientError)
}


def error_for_reason(reason: str) -> type[DocumentError]:
    """Return the error class for a failure reason (``PermanentError`` when unknown)."""
    return _BY_REASON.get(reason, PermanentError)


def exit_code_for_reason(reason: str) -> int:
    """Return the process exit code that stands for a failure reason."""
    return error_for_reason(reason).exit_code
