"""A plugin that reports, from inside an extraction child, what PP-OCR had loaded before it ran.

Its extractor takes files named ``ppocr-probe*`` and returns JSON: the PP-OCR models the
process holds (empty when ``ppocr_engine`` was never imported), the onnxruntime sessions'
thread settings, and the process's OS thread count.
"""

from __future__ import annotations

import json
import os
import sys

from extractkit import hookimpl
from extractkit.interfaces import Extractor
from extractkit.models import Document, ExtractionResult

MODULE = "extractkit_plugins.image.ppocr_engine"


class PpOcrProbeExtractor(Extractor):
    """Describes the process's PP-OCR state."""

    name = "ppocr_probe"
    mime_types = ("text/plain",)
    priority = 0

    def accepts(self, document: Document) -> bool:
        """Only files named ``ppocr-probe*``."""
        return document.name.startswith("ppocr-probe")

    def extract(self, document: Document) -> ExtractionResult:
        """The loaded models, their sessions' thread settings and the thread count, as JSON."""
        engine = sys.modules.get(MODULE)
        loaded = dict(engine._MODELS) if engine is not None else {}
        threads = sorted(
            {
                (
                    model.session.get_session_options().intra_op_num_threads,
                    model.session.get_session_options().inter_op_num_threads,
                )
                for model in loaded.values()
            }
        )
        facts = {"models": sorted(loaded), "threads": threads, "os_threads": len(os.listdir("/proc/self/task"))}
        return ExtractionResult(text=json.dumps(facts), extractor=self.name)


@hookimpl
def register_extractors(register):
    """Register the probe."""
    register(PpOcrProbeExtractor)
