"""The local failure log: where a failure record goes when the sink cannot take it."""

from __future__ import annotations

import json
import logging
import threading
from pathlib import Path

from .models import Failure

log = logging.getLogger("extractkit.pipeline")


class FailureLog:
    """Appends failure records as JSON lines to a file, or logs them when no file is configured."""

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path) if path else None
        self._lock = threading.Lock()

    def write(self, failure: Failure) -> None:
        """Keep one failure record."""
        line = json.dumps(failure.to_dict(), ensure_ascii=False)
        if self.path is None:
            log.error("failure record could not be stored: %s", line)
            return
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as handle:
                handle.write(line + "\n")
