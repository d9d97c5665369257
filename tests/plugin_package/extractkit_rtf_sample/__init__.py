"""A third-party extractkit plugin: plain text out of RTF documents."""

from __future__ import annotations

import re

from extractkit import ExtractionResult, Extractor, Page, hookimpl
from extractkit.errors import CorruptDocument

__version__ = "1.2.3"

_GROUPS_TO_DROP = re.compile(r"\{\\(?:fonttbl|colortbl|stylesheet|info|\*)[^{}]*(?:\{[^{}]*\}[^{}]*)*\}")
_UNICODE = re.compile(r"\\u(-?\d+)\??")
_HEX = re.compile(r"\\'([0-9a-fA-F]{2})")
_CONTROL = re.compile(r"\\[a-zA-Z]+-?\d* ?")


class RtfExtractor(Extractor):
    """Strips RTF control words and keeps the text."""

    name = "rtf_sample"
    mime_types = ("text/rtf", "application/rtf")
    priority = 50  # the builtin rtf extractor's: at equal priority a third-party plugin wins

    def extract(self, document):
        raw = document.path.read_bytes().decode("latin-1")
        if not raw.startswith("{\\rtf"):
            raise CorruptDocument(f"{document.name}: not an RTF document (no {{\\rtf header)")
        body = _GROUPS_TO_DROP.sub("", raw)
        body = body.replace("\\par", "\n").replace("\\line", "\n").replace("\\tab", "\t")
        body = _UNICODE.sub(lambda m: chr(int(m.group(1)) % 65536), body)
        body = _HEX.sub(lambda m: bytes([int(m.group(1), 16)]).decode("cp1252"), body)
        body = _CONTROL.sub("", body)
        text = body.replace("{", "").replace("}", "").strip()
        return ExtractionResult(text=text, pages=(Page(1, text),), metadata={"format": "rtf"})


@hookimpl
def register_extractors(register):
    register(RtfExtractor)
