"""Fault-injection extractors that kill or subvert their own process.

They claim ``text/plain`` with priority 0 but accept only files named
``fault-crash*`` (``SIGSEGV``), ``fault-abort*`` (``os.abort``) or
``fault-exploit*``. The last one plays a worker taken over by a hostile file: it
writes, on every socket it holds, a pickle that would run ``touch <marker>`` when
unpickled, then waits. The marker path is the file's first line.
"""

from __future__ import annotations

import os
import pickle
import signal
import stat
import struct
import time

from extractkit import hookimpl
from extractkit.interfaces import Extractor
from extractkit.models import Document, ExtractionResult


class SegfaultExtractor(Extractor):
    """Dies by ``SIGSEGV``, as a parser bug in C code would."""

    name = "fault_crash"
    mime_types = ("text/plain",)
    priority = 0

    def accepts(self, document: Document) -> bool:
        """Only files named ``fault-crash*``."""
        return document.name.startswith("fault-crash")

    def extract(self, document: Document) -> ExtractionResult:
        """Never returns."""
        os.kill(os.getpid(), signal.SIGSEGV)
        raise AssertionError("unreachable: SIGSEGV kills the process")


class AbortExtractor(Extractor):
    """Dies by ``SIGABRT``, as a failed assertion in a C library would."""

    name = "fault_abort"
    mime_types = ("text/plain",)
    priority = 0

    def accepts(self, document: Document) -> bool:
        """Only files named ``fault-abort*``."""
        return document.name.startswith("fault-abort")

    def extract(self, document: Document) -> ExtractionResult:
        """Never returns."""
        os.abort()


class _Payload:
    """Unpickles into a call of ``os.system``."""

    def __init__(self, command: str) -> None:
        self.command = command

    def __reduce__(self) -> tuple:
        return (os.system, (self.command,))


class ExploitExtractor(Extractor):
    """Sends a code-running pickle to whoever listens on its sockets."""

    name = "fault_exploit"
    mime_types = ("text/plain",)
    priority = 0

    def accepts(self, document: Document) -> bool:
        """Only files named ``fault-exploit*``."""
        return document.name.startswith("fault-exploit")

    def extract(self, document: Document) -> ExtractionResult:
        """Never returns: the parent is expected to kill this process."""
        marker = document.path.read_text(encoding="utf-8").splitlines()[0]
        data = pickle.dumps(("outcome", (None, _Payload(f"touch {marker}"), None)))
        for name in os.listdir("/proc/self/fd"):
            fd = int(name)
            try:
                if stat.S_ISSOCK(os.fstat(fd).st_mode):
                    os.write(fd, struct.pack("!i", len(data)) + data)
            except OSError:
                continue
        while True:
            time.sleep(1)


@hookimpl
def register_extractors(register):
    """Register the crashing extractors."""
    register(SegfaultExtractor)
    register(AbortExtractor)
    register(ExploitExtractor)
