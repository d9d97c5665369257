"""Outlook ``.msg`` extractor (extra ``mail``, python-oxmsg): headers as metadata, the body as text, attachments listed.

The parsing lives in :mod:`extractkit_plugins.mail.msg_reader`, loaded only when
an Outlook file is extracted.
"""

from __future__ import annotations

from typing import Any

from extractkit import hookimpl
from extractkit.interfaces import Extractor
from extractkit.models import Document, ExtractionResult
from extractkit_plugins.text.results import read_document_bytes, text_result


class MsgExtractor(Extractor):
    """Reads Outlook messages: sender, recipients, date (ISO 8601), subject, message id, body, attachments."""

    name = "msg"
    mime_types = ("application/vnd.ms-outlook", "application/x-ole-storage+msg")
    priority = 50

    def extract(self, document: Document) -> ExtractionResult:
        """Read the message with python-oxmsg."""
        from extractkit.errors import CorruptDocument

        from .msg_reader import read_msg

        head = read_document_bytes(document)[:8]
        if head != b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
            raise CorruptDocument(f"{document.name} is not an OLE2 compound file, so not an Outlook message")
        message = read_msg(document.path, document.name)
        metadata: dict[str, Any] = dict(message.metadata)
        if message.body_type:
            metadata["body_type"] = message.body_type
        if message.attachments:
            metadata["attachments"] = [attachment.to_metadata() for attachment in message.attachments]
        return text_result(message.body, metadata)


@hookimpl
def register_extractors(register: Any) -> None:
    """Register the Outlook message extractor."""
    register(MsgExtractor)
