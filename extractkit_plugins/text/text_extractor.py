"""Text extractor: plain text, CSV, Markdown, JSON, XML and HTML, with the encoding detected."""

from __future__ import annotations

from html.parser import HTMLParser

from extractkit import Document, ExtractionResult, Extractor, Page, hookimpl
from extractkit.errors import UnreadableDocument

from .text_encoding import decode

HTML_TYPES = ("text/html", "application/xhtml+xml")
_SKIPPED_TAGS = {"script", "style", "noscript", "template"}
_BLOCK_TAGS = {
    "p",
    "div",
    "br",
    "li",
    "tr",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "section",
    "article",
    "header",
    "footer",
    "blockquote",
    "pre",
    "table",
    "ul",
    "ol",
    "title",
}


class _HtmlText(HTMLParser):
    """Collects visible text from HTML, one block per line."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.title = ""
        self._skip_depth = 0
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in _SKIPPED_TAGS:
            self._skip_depth += 1
        if tag == "title":
            self._in_title = True
        if tag in _BLOCK_TAGS:
            self.parts.append("\n")
        if tag in ("td", "th"):
            self.parts.append("\t")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED_TAGS and self._skip_depth:
            self._skip_depth -= 1
        if tag == "title":
            self._in_title = False
        if tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if self._skip_depth:
            return
        if self._in_title:
            self.title += data
        self.parts.append(data)

    def text(self) -> str:
        lines = (" ".join(line.split()) for line in "".join(self.parts).split("\n"))
        return "\n".join(line for line in lines if line)


class TextExtractor(Extractor):
    """Decodes text files and strips markup from HTML."""

    name = "text"
    mime_types = (
        "text/plain",
        "text/csv",
        "text/markdown",
        "text/tab-separated-values",
        "text/html",
        "application/xhtml+xml",
        "application/json",
        "text/xml",
        "application/xml",
        "text/*",
    )

    def extract(self, document: Document) -> ExtractionResult:
        """Decode the file; for HTML keep only the visible text."""
        try:
            data = document.path.read_bytes()
        except OSError as exc:
            raise UnreadableDocument(f"{document.name}: cannot be read: {exc.strerror or exc}") from exc
        text, encoding = decode(data)
        metadata: dict[str, object] = {"encoding": encoding}
        if (document.mime_type or "") in HTML_TYPES:
            parser = _HtmlText()
            parser.feed(text)
            parser.close()
            text = parser.text()
            if parser.title.strip():
                metadata["title"] = parser.title.strip()
        return ExtractionResult(text=text, pages=(Page(number=1, text=text),), metadata=metadata)


@hookimpl
def register_extractors(register):
    """Register the text extractor."""
    register(TextExtractor)
