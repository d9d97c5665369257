"""A probe extractor that reports the process it runs in, as JSON text.

It claims ``text/plain`` with priority 0 but accepts only files named
``probe*``. The JSON holds the pid, process group, session, temp directory,
working directory and resource limits, so tests can check where and how
documents are extracted.
"""

from __future__ import annotations

import json
import os
import resource
import tempfile

from extractkit import hookimpl
from extractkit.interfaces import Extractor
from extractkit.models import Document, ExtractionResult


class ChildProbeExtractor(Extractor):
    """Describes its own process instead of the document."""

    name = "child_probe"
    mime_types = ("text/plain",)
    priority = 0

    def accepts(self, document: Document) -> bool:
        """Only files named ``probe*``."""
        return document.name.startswith("probe")

    def extract(self, document: Document) -> ExtractionResult:
        """Return the process facts as JSON; also leaves a temp file behind on purpose."""
        handle, leftover = tempfile.mkstemp(suffix=".probe")
        os.close(handle)
        facts = {
            "pid": os.getpid(),
            "pgid": os.getpgrp(),
            "sid": os.getsid(0),
            "tmpdir_env": os.environ.get("TMPDIR"),
            "tempfile_dir": tempfile.gettempdir(),
            "leftover": leftover,
            "cwd": os.getcwd(),
            "rlimit_as": resource.getrlimit(resource.RLIMIT_AS)[0],
            "rlimit_cpu": resource.getrlimit(resource.RLIMIT_CPU)[0],
            "rlimit_core": resource.getrlimit(resource.RLIMIT_CORE)[0],
            "omp_thread_limit": os.environ.get("OMP_THREAD_LIMIT"),
        }
        return ExtractionResult(text=json.dumps(facts), extractor=self.name)


@hookimpl
def register_extractors(register):
    """Register the probe."""
    register(ChildProbeExtractor)
