"""A plugin that shows where ``warm_up`` runs and that its samples are extracted there.

Its ``warm_up`` records the pid of the process it runs in and registers a
sample, ``warm-probe-sample.txt``; its extractor takes files named
``warm-probe*``: for the sample it notes that it saw it, and for any other such
file it returns JSON saying in which process the plugin warmed up, which
samples that process extracted, and the pid of the extracting process's parent.
"""

from __future__ import annotations

import json
import os

from extractkit import hookimpl
from extractkit.interfaces import Extractor
from extractkit.models import Document, ExtractionResult

SAMPLE = "warm-probe-sample.txt"
warmed_in: list[int] = []
samples_seen: list[str] = []


class WarmProbeExtractor(Extractor):
    """Reports what happened during warm-up in the process that forked this one."""

    name = "warm_probe"
    mime_types = ("text/plain",)
    priority = 0

    def accepts(self, document: Document) -> bool:
        """Only files named ``warm-probe*``."""
        return document.name.startswith("warm-probe")

    def extract(self, document: Document) -> ExtractionResult:
        """Note the sample; for any other file, describe the warm-up as JSON."""
        if document.name == SAMPLE:
            samples_seen.append(document.name)
            return ExtractionResult(text="sample", extractor=self.name)
        facts = {"warmed_in": warmed_in, "samples_seen": samples_seen, "ppid": os.getppid(), "pid": os.getpid()}
        return ExtractionResult(text=json.dumps(facts), extractor=self.name)


@hookimpl
def register_extractors(register):
    """Register the probe."""
    register(WarmProbeExtractor)


@hookimpl
def warm_up(register_sample):
    """Record this process and register one sample."""
    warmed_in.append(os.getpid())
    register_sample(SAMPLE, b"a sample for the warm probe\n")
