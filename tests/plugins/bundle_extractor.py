"""An extractor for ``bundle-*.txt`` files whose lines name embedded documents, for the embedded-document tests.

Each line ``path/in/parent.txt: content`` becomes an embedded file with that
content; a content starting with ``bundle:`` makes the child a bundle itself
(its ``|``-separated parts become its lines), so nesting can be tested.
"""

import os
import tempfile
from pathlib import Path

from extractkit import ExtractionResult, Extractor, Page, hookimpl
from extractkit.models import EmbeddedFile


class BundleExtractor(Extractor):
    name = "bundle"
    mime_types = ("text/plain",)
    priority = 0

    def accepts(self, document):
        return document.name.startswith("bundle-")

    def extract(self, document):
        text = document.path.read_text(encoding="utf-8")
        children = []
        for line in text.splitlines():
            path, _, content = line.partition(": ")
            if document.workdir is None or not path:
                continue
            if content.startswith("bundle:"):
                content = "\n".join(content[len("bundle:") :].split("|"))
            fd, written = tempfile.mkstemp(dir=document.workdir, suffix=".txt")
            with os.fdopen(fd, "wb") as handle:
                handle.write(content.encode())
            children.append(EmbeddedFile(Path(path).name, path, Path(written), len(content.encode())))
        listing = "\n".join(line.partition(": ")[0] for line in text.splitlines())
        return ExtractionResult(text=listing, pages=(Page(1, listing),), children=tuple(children))


@hookimpl
def register_extractors(register):
    register(BundleExtractor)
