"""A third-party ``estimate_pages``: a text file named ``fault-slow-pages*`` has as many pages as its first line says.

With the ``fault_slow`` extractor (which takes ``fault-slow*`` files and sleeps)
this shows that the per-page time budget comes from the plugins' answer.
"""

from __future__ import annotations

from extractkit import hookimpl


@hookimpl
def estimate_pages(path, mime_type):
    """The page count written on the file's first line, for ``fault-slow-pages*`` text files only."""
    if mime_type != "text/plain" or not path.name.startswith("fault-slow-pages"):
        return None
    return int(path.read_text(encoding="utf-8").split()[0])
