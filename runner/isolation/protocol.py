"""What the worker, the template process and the children say to each other, and how it is read.

Every message is a pickled ``(kind, payload)`` pair whose kind is the plain
string value of one of the enums below (a ``StrEnum`` member compares equal to
its value, so a received kind is checked against the enum directly):

* worker → template (:class:`ToTemplate`, one packet each on a ``SOCK_SEQPACKET``
  socket): ``SPAWN`` with a socket attached, ``KILL`` with a pid, ``STOP``;
* template → worker (:class:`FromTemplate`): ``READY`` or ``ERROR`` once, then
  ``SPAWNED`` with the child's pid or ``SPAWN_FAILED`` with the reason, and
  ``EXITED`` with ``(pid, status)`` whenever a child is reaped;
* worker → child (:class:`ToChild`): ``JOB`` with a :class:`~runner.isolation.child.Job`, ``STOP``;
* child → worker (:class:`FromChild`): ``READY`` once, then per job ``EXTRACTOR``
  with a name each time an extractor starts, ``BUDGET`` with a page count when a
  per-page budget applies, and ``OUTCOME`` with ``(mime_type, result, failure)``.

The two ``STOP``\\ s are different orders: the template's kills every child, a
child's ends that child after its current document.

What the template and the children send is read with :class:`OutcomeUnpickler`,
which refuses every global except extractkit's result types and plain values, so
a child subverted by a hostile file cannot make the worker run code. The worker
is trusted, so what it sends is read with plain pickle.
"""

from __future__ import annotations

import io
import pickle
from enum import IntEnum, StrEnum
from typing import Any

from extractkit.errors import ExitCode

#: The largest control packet between the worker and the template.
MAX_PACKET = 1024 * 1024


class ToTemplate(StrEnum):
    """Orders from the worker to the template process."""

    SPAWN = "spawn"
    KILL = "kill"
    STOP = "stop"


class FromTemplate(StrEnum):
    """Answers and notices from the template process to the worker."""

    READY = "ready"
    ERROR = "error"
    SPAWNED = "spawned"
    SPAWN_FAILED = "spawn-failed"
    EXITED = "exited"


class ToChild(StrEnum):
    """Orders from the worker to one child."""

    JOB = "job"
    STOP = "stop"


class FromChild(StrEnum):
    """Messages from one child to the worker."""

    READY = "ready"
    EXTRACTOR = "extractor"
    BUDGET = "budget"
    OUTCOME = "outcome"


class ChildExit(IntEnum):
    """How the template process and the children end, as the worker reads their status.

    The values are those of :class:`~extractkit.errors.ExitCode`, the one table of exit statuses.
    """

    OK = ExitCode.OK
    #: A failure of the child's own (a bug, not a document).
    SOFTWARE_ERROR = ExitCode.INTERNAL
    #: The child ran out of memory outside any extractor.
    OUT_OF_MEMORY = ExitCode.MEMORY
    #: Not a real status: the template process went away before reporting the child's.
    UNKNOWN = 1 << 16


def message(kind: StrEnum, payload: object = None) -> tuple[str, object]:
    """The ``(kind, payload)`` pair to send, with the kind as a plain string the receiver may unpickle."""
    return (kind.value, payload)


class OutcomeUnpickler(pickle.Unpickler):
    """Rebuilds only extractkit results, failures and plain values."""

    ALLOWED: frozenset[tuple[str, str]] = frozenset(
        {
            ("extractkit.models", "ExtractionResult"),
            ("extractkit.models", "Page"),
            ("extractkit.models", "Failure"),
            ("extractkit.models", "Attempt"),
            ("extractkit.models", "EmbeddedFile"),
            ("pathlib", "PosixPath"),
            ("datetime", "datetime"),
            ("datetime", "date"),
            ("datetime", "time"),
            ("datetime", "timedelta"),
            ("datetime", "timezone"),
            ("builtins", "set"),
            ("builtins", "frozenset"),
        }
    )

    def find_class(self, module: str, name: str) -> Any:
        """Resolve a global only when it is on the allow-list."""
        if (module, name) in self.ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"{module}.{name} may not be sent by an extraction child")


def load_child_message(data: bytes) -> Any:
    """Unpickle one message from a child or the template with the restricted unpickler."""
    return OutcomeUnpickler(io.BytesIO(data)).load()
