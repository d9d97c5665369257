"""Error hierarchy: every failure carries a failure class, a reason and an exit code.

Document errors describe what went wrong with one document and never abort a batch.
Setup errors (configuration, plugins) stop the program with a distinct exit code.
"""

from __future__ import annotations

from enum import IntEnum
from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:
    from .models import Attempt


class ExitCode(IntEnum):
    """Every exit status extractkit uses: the CLI, the errors and the isolated children share these."""

    OK = 0
    FAILED = 1
    USAGE = 2
    PLUGIN = 3
    START_FAILED = 4
    UNSUPPORTED = 10
    CORRUPT = 11
    ENCRYPTED = 12
    TOO_LARGE = 13
    EMPTY = 14
    UNREADABLE = 15
    TIMEOUT = 16
    MEMORY = 17
    CRASHED = 18
    FORBIDDEN = 19
    INVALID_MESSAGE = 20
    GONE = 21
    SINK_ERROR = 22
    UNAVAILABLE = 69  # EX_UNAVAILABLE
    INTERNAL = 70  # EX_SOFTWARE
    TEMPFAIL = 75  # EX_TEMPFAIL
    CONFIG = 78  # EX_CONFIG
    INTERRUPTED = 130


TRANSIENT = "transient"
PERMANENT = "permanent"


class ExtractkitError(Exception):
    """Base class of every error extractkit raises on purpose."""

    exit_code: ClassVar[int] = ExitCode.FAILED


class ConfigError(ExtractkitError):
    """A configuration key is missing, misspelt or has a bad value."""

    exit_code = ExitCode.CONFIG

    def __init__(self, key: str, problem: str) -> None:
        self.key = key
        self.problem = problem
        super().__init__(f"config key '{key}': {problem}")


class PluginError(ExtractkitError):
    """A plugin could not be loaded, or its hooks do not match any spec."""

    exit_code = ExitCode.PLUGIN


class NoPluginAnswered(PluginError):
    """A hook that must be answered by some plugin had no implementation."""


class ServiceUnreachable(ExtractkitError):
    """A configured service (queue, bucket, search cluster) cannot be reached."""

    exit_code = ExitCode.UNAVAILABLE


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
    exit_code = ExitCode.UNSUPPORTED


class UnsupportedFormat(PermanentError):
    """No extractor handles the document's type."""

    reason = "unsupported"
    exit_code = ExitCode.UNSUPPORTED


class CorruptDocument(PermanentError):
    """The file is damaged or is not what its type claims."""

    reason = "corrupt"
    exit_code = ExitCode.CORRUPT


class EncryptedDocument(PermanentError):
    """The document needs a password."""

    reason = "encrypted"
    exit_code = ExitCode.ENCRYPTED


class TooLarge(PermanentError):
    """The document exceeds a size, page or pixel limit."""

    reason = "too_large"
    exit_code = ExitCode.TOO_LARGE


class EmptyDocument(PermanentError):
    """The file has no bytes at all."""

    reason = "empty"
    exit_code = ExitCode.EMPTY


class UnreadableDocument(PermanentError):
    """The path does not exist or cannot be read."""

    reason = "unreadable"
    exit_code = ExitCode.UNREADABLE


class Forbidden(PermanentError):
    """The document lies outside what this worker may read (another bucket, say)."""

    reason = "forbidden"
    exit_code = ExitCode.FORBIDDEN


class InvalidMessage(PermanentError):
    """A queue message that names no document this worker understands."""

    reason = "invalid_message"
    exit_code = ExitCode.INVALID_MESSAGE


class DocumentGone(PermanentError):
    """The document no longer exists at its origin: it is removed from the store, not recorded."""

    reason = "gone"
    exit_code = ExitCode.GONE


class SinkFailed(PermanentError):
    """The sink refused a record (a mapping error, say) or failed on it unexpectedly."""

    reason = "sink_error"
    exit_code = ExitCode.SINK_ERROR


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
    exit_code = ExitCode.TIMEOUT


class MemoryLimitExceeded(PermanentError):
    """Extraction went over its memory cap."""

    reason = "memory"
    exit_code = ExitCode.MEMORY


class ExtractorCrashed(PermanentError):
    """The process extracting the document died or the extractor raised unexpectedly."""

    reason = "crashed"
    exit_code = ExitCode.CRASHED


class TransientError(DocumentError):
    """A failure that may succeed later: network trouble, throttling, a sink that is down."""

    failure_class = TRANSIENT
    reason = "transient"
    exit_code = ExitCode.TEMPFAIL


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
