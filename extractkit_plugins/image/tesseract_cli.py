"""Running the ``tesseract`` command: one thread, its own process group, killed at the deadline.

Every child runs with ``OMP_THREAD_LIMIT=1`` (one core per extraction child; with OpenMP's
default threads a page takes several times longer on a busy machine) in a new session, and the
whole group is killed when the deadline passes, so nothing outlives a timed-out page.
"""

from __future__ import annotations

import functools
import os
import signal
import subprocess
import time

from extractkit.errors import ConfigError, CorruptDocument, ExtractionTimeout

TESSERACT = "tesseract"
_UNREADABLE = ("Error in pix", "cannot be read", "Unsupported image type", "Error during processing")


def child_environment() -> dict[str, str]:
    """The environment for a tesseract child: the parent's, with OpenMP held to one thread."""
    return {**os.environ, "OMP_THREAD_LIMIT": "1"}


@functools.lru_cache(maxsize=1)
def installed_languages() -> frozenset[str]:
    """The traineddata packs tesseract has (``tesseract --list-langs``)."""
    try:
        completed = subprocess.run(
            [TESSERACT, "--list-langs"], capture_output=True, text=True, env=child_environment(), timeout=30
        )
    except (FileNotFoundError, subprocess.TimeoutExpired):
        return frozenset()
    lines = completed.stdout.splitlines()[1:]  # the first line names the tessdata folder
    return frozenset(line.strip() for line in lines if line.strip())


def run_tesseract(args: list[str], *, deadline: float, name: str = "image") -> subprocess.CompletedProcess[str]:
    """Run tesseract in its own process group; kill the whole group when the deadline passes."""
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise ExtractionTimeout(f"{name}: OCR ran out of time; raise ocr_timeout or lower ocr_dpi")
    try:
        process = subprocess.Popen(
            args,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            env=child_environment(),
            start_new_session=True,
            text=True,
            encoding="utf-8",
            errors="replace",
        )
    except FileNotFoundError as exc:
        raise ConfigError("ocr", f"the '{TESSERACT}' command is not installed (apt-get install tesseract-ocr)") from exc
    try:
        stdout, stderr = process.communicate(timeout=remaining)
    except subprocess.TimeoutExpired:
        _kill_group(process)
        raise ExtractionTimeout(
            f"{name}: tesseract took longer than the OCR timeout and was stopped; raise ocr_timeout or lower ocr_dpi"
        ) from None
    except BaseException:
        _kill_group(process)
        raise
    return subprocess.CompletedProcess(args, process.returncode, stdout, stderr)


def _kill_group(process: subprocess.Popen[str]) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    process.communicate()


def raise_for_failure(stderr: str, languages: str, name: str) -> None:
    """Raise the error a failed tesseract run stands for: a missing language pack or an unreadable image."""
    if "Failed loading language" in stderr or "Error opening data file" in stderr:
        raise ConfigError(
            "ocr_languages",
            f"tesseract has no traineddata for '{languages}'; install the language pack or change the setting",
        )
    if any(marker in stderr for marker in _UNREADABLE):
        raise CorruptDocument(f"{name}: tesseract cannot read the image; the file is damaged or not a picture")
    last_line = stderr.strip().splitlines()[-1] if stderr.strip() else "no message"
    raise CorruptDocument(f"{name}: tesseract failed ({last_line}); check that the file opens in an image viewer")
