"""Checking OCR languages up front: a language Tesseract has no data for is a config error, not N failures.

``tesseract --list-langs`` is asked once per process. ``auto`` and
``+``-joined lists (``jpn+eng``) are accepted; each part must be installed.
"""

from __future__ import annotations

import functools
import re
import shutil
import subprocess

from extractkit.errors import ConfigError

#: Values that let the OCR engine choose (no traineddata is named).
AUTOMATIC = {"auto"}
_LANGUAGE = re.compile(r"^[A-Za-z0-9_]+$")


@functools.lru_cache(maxsize=1)
def installed_languages() -> frozenset[str] | None:
    """The languages Tesseract has data for; None when Tesseract is not installed or does not answer."""
    binary = shutil.which("tesseract")
    if binary is None:
        return None
    try:
        completed = subprocess.run([binary, "--list-langs"], capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    lines = (completed.stdout + "\n" + completed.stderr).splitlines()
    return frozenset(line.strip() for line in lines if _LANGUAGE.match(line.strip()))


def debian_package(language: str) -> str:
    """The Debian/Ubuntu package that provides a language's traineddata (``jpn_vert`` → ``tesseract-ocr-jpn-vert``)."""
    return "tesseract-ocr-" + language.lower().replace("_", "-")


def check_ocr_languages(value: str, key: str = "extract.ocr_languages") -> None:
    """Raise :class:`ConfigError` (exit 78) naming every language of ``value`` that Tesseract lacks.

    Nothing is checked when Tesseract itself is missing: the image extractor
    reports that per document, and a run without images needs no OCR.
    """
    text = value.strip()
    if text.lower() in AUTOMATIC:
        return
    parts = [part.strip() for part in text.split("+")]
    malformed = [part for part in parts if not _LANGUAGE.match(part)]
    if not text or malformed:
        raise ConfigError(key, f"'{value}' is not a Tesseract language list; write e.g. 'jpn+eng' or 'auto'")
    installed = installed_languages()
    if installed is None:
        return
    missing = [part for part in parts if part not in installed]
    if missing:
        files = ", ".join(f"{part}.traineddata" for part in missing)
        packages = " ".join(debian_package(part) for part in missing)
        raise ConfigError(
            key,
            f"Tesseract has no data for {', '.join(repr(p) for p in missing)} (missing {files}); "
            f"install it with 'apt-get install {packages}' (installed: {', '.join(sorted(installed))})",
        )
