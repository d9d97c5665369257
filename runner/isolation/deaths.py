"""How a child that was killed, or died, becomes a classified failure with a one-line message.

Every message names the file and the limit involved and says what to do, e.g.
``report.pdf: extraction exceeded the 300 s limit (PROCESSING_TIMEOUT); raise it
or split the file``.
"""

from __future__ import annotations

import signal
from dataclasses import dataclass

from extractkit.errors import DocumentError, ExtractionTimeout, ExtractorCrashed, MemoryLimitExceeded
from extractkit.models import Document, Failure, Outcome

from .limits import TreeMemory, describe_exit
from .protocol import ChildExit

#: A child that died by a signal while this close to its address-space limit is counted as out of memory.
ADDRESS_SPACE_NEAR_LIMIT = 0.9


@dataclass
class Watch:
    """What the worker knows about the document a child is busy with."""

    document: Document
    deadline: float
    extractor: str = ""
    pages: int = 0
    last_sample: TreeMemory | None = None


def failed(watch: Watch, error: DocumentError) -> Outcome:
    """The outcome recording ``error`` for the watched document."""
    document = watch.document
    failure = Failure.from_error(error, uri=document.uri, stage="extract", plugin=watch.extractor)
    return Outcome(document, document.uri, failure=failure)


def timeout_error(watch: Watch, timeout_seconds: float, seconds_per_page: float | None) -> ExtractionTimeout:
    """The wall-clock deadline passed."""
    limit = f"the {timeout_seconds:g} s limit (PROCESSING_TIMEOUT)"
    if watch.pages and seconds_per_page:
        limit = f"{limit} plus {watch.pages * seconds_per_page:g} s for {watch.pages} pages"
    return ExtractionTimeout(f"{watch.document.name}: extraction exceeded {limit}; raise it or split the file")


def memory_error(watch: Watch, memory_mb: int) -> MemoryLimitExceeded:
    """The watchdog saw the child's process tree pass the cap."""
    return MemoryLimitExceeded(
        f"{watch.document.name}: extraction used more than {memory_mb} MB of memory "
        f"(memory_limit_mb); raise the limit or split the file"
    )


def death_error(
    returncode: int, watch: Watch, *, cpu_seconds: float, memory_mb: int, address_space_limit: int | None
) -> DocumentError:
    """The failure for a child that died by itself with ``returncode``."""
    name = watch.document.name
    if returncode == -signal.SIGXCPU:
        return ExtractionTimeout(
            f"{name}: extraction used more than its {cpu_seconds:g} s of CPU time "
            f"(PROCESSING_TIMEOUT); raise it or split the file"
        )
    near_limit = (
        address_space_limit is not None
        and watch.last_sample is not None
        and watch.last_sample.leader_virtual >= ADDRESS_SPACE_NEAR_LIMIT * address_space_limit
    )
    if returncode == ChildExit.OUT_OF_MEMORY or near_limit:
        return MemoryLimitExceeded(
            f"{name}: extraction ran out of memory under the {memory_mb} MB limit "
            f"(memory_limit_mb); raise the limit or split the file"
        )
    if returncode == -signal.SIGKILL:
        return MemoryLimitExceeded(
            f"{name}: the extraction process was killed (SIGKILL), most likely by the kernel's "
            f"out-of-memory killer; lower max_workers or memory_limit_mb"
        )
    how = "with an unknown status" if returncode == ChildExit.UNKNOWN else f"({describe_exit(returncode)})"
    return ExtractorCrashed(f"{name}: the extraction process died {how}; the file probably triggers a parser bug")
