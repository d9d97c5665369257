"""Per-run folders under TEMP_DIR, and sweeping the ones a killed worker left behind.

Each worker run owns ``TEMP_DIR/run-<pid>-<random>/`` and holds an exclusive
``flock`` on its ``owner.lock`` for as long as it lives; every job folder of
that run lives inside it. At start, a run folder whose lock can be taken has no
live owner (the kernel drops a dead process's locks, whatever its pid became),
so it is removed, as is any bare ``job-*`` folder directly under TEMP_DIR.
"""

from __future__ import annotations

import fcntl
import logging
import os
import shutil
import tempfile
from pathlib import Path
from typing import IO

log = logging.getLogger("extractkit.worker")

LOCK_NAME = "owner.lock"


class RunFolder:
    """The folder this run keeps its job folders in, locked while the run lives."""

    def __init__(self, temp_dir: Path) -> None:
        temp_dir.mkdir(parents=True, exist_ok=True)
        self.path = Path(tempfile.mkdtemp(prefix=f"run-{os.getpid()}-", dir=temp_dir))
        self._lock: IO[bytes] | None = open(self.path / LOCK_NAME, "wb")  # noqa: SIM115
        fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)

    def close(self) -> None:
        """Remove the folder and release its lock."""
        shutil.rmtree(self.path, ignore_errors=True)
        if self._lock is not None:
            self._lock.close()
            self._lock = None


def sweep_leftovers(temp_dir: Path) -> int:
    """Remove run and job folders under ``temp_dir`` that no live process owns; return how many."""
    if not temp_dir.is_dir():
        return 0
    removed = 0
    for entry in temp_dir.iterdir():
        if entry.is_symlink() or not entry.is_dir():
            continue
        if entry.name.startswith("job-") or (entry.name.startswith("run-") and _unowned(entry)):
            shutil.rmtree(entry, ignore_errors=True)
            removed += 1
    if removed:
        log.info("removed %d folders left by a stopped worker under %s", removed, temp_dir)
    return removed


def _unowned(run_folder: Path) -> bool:
    try:
        handle = open(run_folder / LOCK_NAME, "rb")  # noqa: SIM115
    except FileNotFoundError:
        return True
    except OSError:
        return False
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True
