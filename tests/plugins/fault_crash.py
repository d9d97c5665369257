"""Fault-injection extractors that kill their own process: a segfault and an abort.

They claim ``text/plain`` with priority 0 but accept only files named
``fault-crash*`` (``SIGSEGV``) or ``fault-abort*`` (``os.abort``).
"""

from __future__ import annotations

import os
import signal

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


@hookimpl
def register_extractors(register):
    """Register the crashing extractors."""
    register(SegfaultExtractor)
    register(AbortExtractor)
