"""Outlook ``.msg`` extractor (extra ``mail``, python-oxmsg): headers as metadata, the body as text, attachments.

The parsing lives in :mod:`extractkit_plugins.mail.msg_reader`, loaded only when
an Outlook file is extracted. Attachments are listed in metadata and, when the
document has a workdir, written there as embedded documents under the archive
byte cap (an embedded Outlook message without a file form is only listed).
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
        payloads = (
            (attachment.name, attachment.path_in_parent, attachment.mime_type, data)
            for attachment, data in message.attachment_payloads()
        )
        children = write_attachments(document, self.options, payloads)
        return replace(text_result(message.body, metadata), children=children)


@hookimpl
def register_extractors(register: RegisterClass) -> None:
    """Register the Outlook message extractor."""
    register(MsgExtractor)
