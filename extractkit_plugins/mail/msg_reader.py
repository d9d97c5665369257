"""Reading an Outlook ``.msg`` file with python-oxmsg: headers, body and attachments.

Two things are corrected on the way:

- python-oxmsg names Windows code pages as Microsoft does (``windows-950``),
  which Python does not know; such names are resolved to Python's codec.
- 8-bit string properties of a message that declares no message code page are
  read by python-oxmsg as Latin-9. When the message's internet code page says
  otherwise (Big5 or Shift_JIS mail from an Asian Outlook), those strings are
  read again in that code page.
"""

from __future__ import annotations

import codecs
import re
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from extractkit.errors import CorruptDocument, EncryptedDocument
from extractkit_plugins.extras import require
from extractkit_plugins.text.charsets import codec_for_charset
from extractkit_plugins.text.html_text import html_to_text

from .mail_headers import decode_addresses, decode_header_value, iso_date
from .mime_message import MailAttachment

#: MAPI property ids read here that python-oxmsg has no accessor for.
PID_MESSAGE_CODEPAGE = 0x3FFD
PID_INTERNET_CODEPAGE = 0x3FDE
PID_INTERNET_MESSAGE_ID = 0x1035
PID_RECIPIENT_TYPE = 0x0C15
PID_ATTACH_METHOD = 0x3705
ATTACH_EMBEDDED_MESSAGE = 5
RECIPIENT_TYPES = {1: "to", 2: "cc", 3: "bcc"}
#: Latin-9, the code page python-oxmsg assumes when a message declares none.
OXMSG_DEFAULT_ENCODING = "iso-8859-15"
_WINDOWS_CODEPAGE = re.compile(r"^windows-(\d+)$")
_codec_alias_registered = False


def _register_windows_codepage_names() -> None:
    """Let Python resolve Microsoft's ``windows-NNN`` names that it lacks (``windows-950`` is ``cp950``)."""
    global _codec_alias_registered
    if _codec_alias_registered:
        return

    def search(name: str) -> codecs.CodecInfo | None:
        match = _WINDOWS_CODEPAGE.match(name.replace("_", "-"))
        if match is None:
            return None
        try:
            return codecs.lookup(f"cp{match.group(1)}")
        except LookupError:
            return None

    codecs.register(search)
    _codec_alias_registered = True


@dataclass
class OutlookMessage:
    """What an Outlook message holds, as text and metadata."""

    metadata: dict[str, Any]
    body: str
    body_type: str
    attachments: list[MailAttachment] = field(default_factory=list)
    _payloads: list[Any] = field(default_factory=list, repr=False)

    def attachment_payloads(self) -> Iterator[tuple[MailAttachment, bytes]]:
        """Each attachment with its bytes (empty for an embedded message, which has no file form)."""
        for attachment, payload in zip(self.attachments, self._payloads, strict=True):
            yield attachment, payload.file_bytes or b""


def read_msg(path: Path, name: str) -> OutlookMessage:
    """Read an Outlook message; raise ``corrupt`` for a damaged file and ``encrypted`` for S/MIME-encrypted mail."""
    oxmsg = require("oxmsg", "mail", "read Outlook .msg files")
    _register_windows_codepage_names()
    try:
        message = oxmsg.Message.load(str(path))
        return _OutlookReader(message, name).read()
    except EncryptedDocument:
        raise
    except (ValueError, KeyError, IndexError, OSError, struct.error, UnicodeError, LookupError, TypeError) as exc:
        raise CorruptDocument(f"{name} is not a readable Outlook message ({type(exc).__name__}: {exc})") from exc


class _OutlookReader:
    def __init__(self, message: Any, name: str) -> None:
        self.message = message
        self.name = name
        properties = message.properties
        self.string8_encoding = None
        if properties.int_prop_value(PID_MESSAGE_CODEPAGE) is None and not properties.string_props_are_unicode:
            internet = properties.int_prop_value(PID_INTERNET_CODEPAGE)
            codec = codec_for_charset(f"cp{internet}") if internet else None
            if codec and codec != codecs.lookup(OXMSG_DEFAULT_ENCODING).name:
                self.string8_encoding = codec

    def text(self, value: str | None) -> str:
        """A string property cleaned of NULs and re-read in the message's real code page where needed."""
        if not value:
            return ""
        if self.string8_encoding:
            try:
                value = value.encode(OXMSG_DEFAULT_ENCODING).decode(self.string8_encoding)
            except UnicodeError:
                pass
        return value.replace("\x00", "").strip()

    def read(self) -> OutlookMessage:
        message = self.message
        message_class = self.text(message.message_class).lower()
        if message_class.startswith("ipm.note.smime") and "multipartsigned" not in message_class:
            raise EncryptedDocument(f"{self.name} is S/MIME-encrypted Outlook mail; it needs the recipient's key")
        body, body_type = self._body()
        result = OutlookMessage(metadata=self._metadata(), body=body, body_type=body_type)
        for number, attachment in enumerate(message.attachments, start=1):
            self._add_attachment(result, number, attachment)
        return result

    def _body(self) -> tuple[str, str]:
        plain = self.text(self.message.body)
        if plain:
            return plain, "text/plain"
        html = self.message.html_body
        if html:
            return html_to_text(html).text, "text/html"
        return "", ""

    def _metadata(self) -> dict[str, Any]:
        message = self.message
        headers = message.message_headers
        metadata: dict[str, Any] = {"message_class": self.text(message.message_class)}
        sender = decode_addresses([self.text(message.sender)]) if message.sender else []
        if sender:
            metadata["from"] = sender[0]
        recipients: dict[str, list[str]] = {}
        for recipient in message.recipients:
            kind = RECIPIENT_TYPES.get(recipient.properties.int_prop_value(PID_RECIPIENT_TYPE) or 1, "to")
            name, address = self.text(recipient.name), self.text(recipient.email_address)
            entry = f"{name} <{address}>" if name and address and name != address else (address or name)
            if entry:
                recipients.setdefault(kind, []).append(entry)
        for kind in ("to", "cc", "bcc"):
            if kind in recipients:
                metadata[kind] = recipients[kind]
            elif headers.get(kind.capitalize()):
                metadata[kind] = decode_addresses([headers[kind.capitalize()]])
        subject = self.text(message.subject) or decode_header_value(headers.get("Subject"))
        if subject:
            metadata["subject"] = subject
        sent = message.sent_date
        date = sent.isoformat() if sent is not None else iso_date(headers.get("Date"))
        if date:
            metadata["date"] = date
        message_id = self.text(message.properties.str_prop_value(PID_INTERNET_MESSAGE_ID)) or headers.get(
            "Message-ID", ""
        )
        if message_id:
            metadata["message_id"] = " ".join(message_id.split())
        return metadata

    def _add_attachment(self, result: OutlookMessage, number: int, attachment: Any) -> None:
        method = attachment.properties.int_prop_value(PID_ATTACH_METHOD)
        embedded = method == ATTACH_EMBEDDED_MESSAGE
        name = self.text(attachment.file_name) or (f"message-{number}.msg" if embedded else f"attachment-{number}")
        mime_type = "application/vnd.ms-outlook" if embedded else (attachment.mime_type or "application/octet-stream")
        safe_name = name.replace("/", "_").replace("\\", "_")
        result.attachments.append(
            MailAttachment(
                name=name,
                mime_type=mime_type,
                size=attachment.size if not embedded else 0,
                path_in_parent=f"attachments/{number}/{safe_name}",
            )
        )
        result._payloads.append(attachment)
