"""A third-party detect_mime_type hook that knows only *.note files (and declines the rest)."""

from extractkit import hookimpl


@hookimpl
def detect_mime_type(path, name):
    return "text/plain" if name.endswith(".note") else None
