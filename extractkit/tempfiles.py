"""Private temporary files for fetched documents.

A name that comes from a source (an S3 key, an e-mail attachment) is never used
as a path: the file gets a random name from ``mkstemp`` inside the job's own
folder, keeping at most a short, plain extension as a hint for humans.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

#: Where job folders go unless TEMP_DIR says otherwise (the seed's /tmp/file-processor).
DEFAULT_TEMP_DIR = Path(tempfile.gettempdir()) / "file-processor"

_SAFE_SUFFIX = re.compile(r"\.[A-Za-z0-9]{1,10}")


def safe_suffix(name: str) -> str:
    """The name's extension when it is short and plain, else an empty string."""
    suffix = os.path.splitext(name.replace("\\", "/").rsplit("/", 1)[-1])[1]
    return suffix if _SAFE_SUFFIX.fullmatch(suffix) else ""


def private_file(workdir: str | Path, name: str = "") -> Path:
    """Create an empty file, readable only by this user, inside ``workdir`` for a document called ``name``."""
    fd, path = tempfile.mkstemp(dir=workdir, prefix="doc-", suffix=safe_suffix(name))
    os.close(fd)
    return Path(path)
