"""RFC 822 / MIME mail extractor: headers as metadata, the body as text, attachments as embedded documents.

Only the standard library's :mod:`email` package is needed. Attachments are
listed in ``metadata["attachments"]`` (name, type, size) and, when the document
has a workdir, written there as children (``mail.eml!/attachments/2/report.pdf``)
under the archive byte cap.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from extractkit import hookimpl
from extractkit.hookspecs import RegisterClass
from extractkit.interfaces import Extractor
from extractkit.models import Document, ExtractionResult
from extractkit_plugins.archive.member_files import write_attachments
from extractkit_plugins.text.results import read_document_bytes, text_result

from .mime_message import parse_mail


class EmlExtractor(Extractor):
    """Reads ``.eml`` messages: from, to, cc, date (ISO 8601), subject and message id; body text; attachments.

    Attachments become embedded documents when the document has a workdir.
    """

    name = "eml"
    mime_types = ("message/rfc822",)
    priority = 50

    def extract(self, document: Document) -> ExtractionResult:
        """Parse the message and return its body with the headers as metadata."""
        data = read_document_bytes(document)
        mail = parse_mail(data, document.name)
        metadata: dict[str, Any] = dict(mail.headers)
        if mail.body_type:
            metadata["body_type"] = mail.body_type
            metadata["encoding"] = mail.body_encoding
        if mail.attachments:
            metadata["attachments"] = [attachment.to_metadata() for attachment in mail.attachments]
        payloads = (
            (attachment.name, attachment.path_in_parent, attachment.mime_type, data)
            for attachment, data in mail.attachment_payloads()
        )
        children = write_attachments(document, self.options, payloads)
        return replace(text_result(mail.body, metadata), children=children)


@hookimpl
def register_extractors(register: RegisterClass) -> None:
    """Register the RFC 822 mail extractor."""
    register(EmlExtractor)
