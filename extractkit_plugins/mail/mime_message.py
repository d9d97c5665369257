"""Reading an RFC 822 / MIME message: headers, the body as text, and the attachments.

The body is every inline text part in order; of a ``multipart/alternative`` only
the best alternative counts (``text/plain``, else HTML converted to text). Every
other leaf (a file, an image, a forwarded message) is an attachment: listed with
its name, type and size, and handed out by :meth:`ParsedMail.attachment_payloads`
so each can later become a document of its own.
"""

from __future__ import annotations

import email.message
import email.parser
import email.policy
from dataclasses import dataclass, field
from typing import Any, Iterator

from extractkit.errors import CorruptDocument, EncryptedDocument
from extractkit_plugins.text.html_text import html_to_text
from extractkit_plugins.text.text_encoding import bom_encoding, decode, decode_declared, utf16_without_bom

from .mail_headers import decode_addresses, decode_header_value, iso_date

_ENCRYPTED_TYPES = ("application/pkcs7-mime", "application/x-pkcs7-mime")
_TEXT_BODY_TYPES = ("text/plain", "text/html")
#: S/MIME content that is signed or compressed, not encrypted (``enveloped-data`` and a missing type are).
_UNENCRYPTED_SMIME_TYPES = ("signed-data", "certs-only", "compressed-data")


@dataclass(frozen=True)
class MailAttachment:
    """One attachment of a message: what is known of it without reading it as a document."""

    name: str
    mime_type: str
    size: int
    #: Where the attachment sits inside its message, such as ``attachments/2/report.pdf``.
    path_in_parent: str
    inline: bool = False
    content_id: str = ""

    def to_metadata(self) -> dict[str, Any]:
        """The attachment as JSON-ready metadata."""
        entry: dict[str, Any] = {"name": self.name, "mime_type": self.mime_type, "size": self.size}
        if self.inline:
            entry["inline"] = True
        if self.content_id:
            entry["content_id"] = self.content_id
        return entry


@dataclass
class ParsedMail:
    """A parsed message: header metadata, body text and attachments."""

    headers: dict[str, Any]
    body: str
    body_type: str
    body_encoding: str
    attachments: list[MailAttachment] = field(default_factory=list)
    _payloads: list[email.message.Message] = field(default_factory=list, repr=False)

    def attachment_payloads(self) -> Iterator[tuple[MailAttachment, bytes]]:
        """Each attachment with its decoded bytes, one at a time."""
        for attachment, part in zip(self.attachments, self._payloads, strict=True):
            yield attachment, _part_bytes(part)


def parse_mail(data: bytes, name: str) -> ParsedMail:
    """Parse a message's bytes; raise :class:`EncryptedDocument` for S/MIME or PGP encrypted mail."""
    data, transcoded = _as_ascii_compatible(data)
    message = email.parser.BytesParser(policy=email.policy.compat32).parsebytes(data)
    if data.strip() and not message.keys():
        raise CorruptDocument(f"{name} is not an RFC 822 message: it starts with no header line")
    _refuse_encrypted(message, name)
    mail = ParsedMail(headers=_header_metadata(message), body="", body_type="", body_encoding="")
    texts: list[str] = []
    _walk(message, mail, texts, transcoded)
    mail.body = "\n\n".join(text for text in texts if text.strip())
    return mail


def _as_ascii_compatible(data: bytes) -> tuple[bytes, bool]:
    """A UTF-16 message (with or without BOM) re-encoded as UTF-8 so the MIME parser can read it."""
    encoding = bom_encoding(data)
    if encoding is None or not encoding.startswith("utf-16"):
        encoding = utf16_without_bom(data)
    if encoding is None:
        return data, False
    text = data.decode(encoding, errors="replace").lstrip("\ufeff")
    return text.encode("utf-8"), True


def _refuse_encrypted(message: email.message.Message, name: str) -> None:
    content_type = message.get_content_type()
    smime_type = (message.get_param("smime-type") or "").lower()
    if content_type in _ENCRYPTED_TYPES and smime_type not in _UNENCRYPTED_SMIME_TYPES:
        raise EncryptedDocument(f"{name} is S/MIME-encrypted mail; it can be read only with the recipient's key")
    if content_type == "multipart/encrypted":
        raise EncryptedDocument(f"{name} is encrypted mail (multipart/encrypted); it needs the recipient's key")


def _header_metadata(message: email.message.Message) -> dict[str, Any]:
    metadata: dict[str, Any] = {}
    senders = decode_addresses(message.get_all("from", []))
    if senders:
        metadata["from"] = senders[0] if len(senders) == 1 else senders
    for key in ("to", "cc", "bcc", "reply-to"):
        addresses = decode_addresses(message.get_all(key, []))
        if addresses:
            metadata[key.replace("-", "_")] = addresses
    subject = decode_header_value(message.get("subject"))
    if subject:
        metadata["subject"] = subject
    date = iso_date(message.get("date"))
    if date:
        metadata["date"] = date
    for header, key in (("message-id", "message_id"), ("in-reply-to", "in_reply_to")):
        value = " ".join(str(message.get(header) or "").split())
        if value:
            metadata[key] = value
    return metadata


def _walk(
    part: email.message.Message, mail: ParsedMail, texts: list[str], transcoded: bool, *, body: bool = True
) -> None:
    """Add the part's body text (when ``body``) and its attachments; a skipped alternative keeps its files."""
    content_type = part.get_content_type()
    if part.is_multipart() and content_type != "message/rfc822":
        children = part.get_payload()
        best = _best_alternative(children) if content_type == "multipart/alternative" else None
        for child in children:
            _walk(child, mail, texts, transcoded, body=body and (best is None or child is best))
        return
    if content_type in _TEXT_BODY_TYPES and not _is_attachment(part):
        if body:
            text, encoding = _part_text(part, transcoded)
            texts.append(text)
            if not mail.body_type:
                mail.body_type, mail.body_encoding = content_type, encoding
        return
    _add_attachment(part, mail)


def _best_alternative(children: list[email.message.Message]) -> email.message.Message | None:
    for wanted in ("text/plain", "multipart/related", "multipart/mixed", "text/html"):
        for child in children:
            if child.get_content_type() == wanted and not _is_attachment(child):
                return child
    return children[-1] if children else None


def _is_attachment(part: email.message.Message) -> bool:
    disposition = (part.get_content_disposition() or "").lower()
    return disposition == "attachment" or (disposition != "inline" and part.get_filename() is not None)


def _part_text(part: email.message.Message, transcoded: bool) -> tuple[str, str]:
    data = _part_bytes(part)
    declared = part.get_content_charset()
    if transcoded and (part.get("content-transfer-encoding") or "").lower() not in ("base64", "quoted-printable"):
        declared = "utf-8"  # the whole message was UTF-16 and has been re-encoded
    decoded = decode_declared(data, declared) if declared else None
    text, encoding = decoded if decoded is not None else decode(data)
    if part.get_content_type() == "text/html":
        return html_to_text(text).text, encoding
    return text, encoding


def _part_bytes(part: email.message.Message) -> bytes:
    if part.get_content_type() == "message/rfc822" or part.is_multipart():
        payload = part.get_payload()
        inner = payload[0] if isinstance(payload, list) and payload else payload
        return inner.as_bytes() if isinstance(inner, email.message.Message) else b""
    data = part.get_payload(decode=True)
    return data if isinstance(data, bytes) else b""


def _add_attachment(part: email.message.Message, mail: ParsedMail) -> None:
    number = len(mail.attachments) + 1
    content_type = part.get_content_type()
    name = decode_header_value(part.get_filename()) if part.get_filename() else ""
    if not name and content_type == "message/rfc822":
        payload = part.get_payload()
        inner = payload[0] if isinstance(payload, list) and payload else None
        subject = decode_header_value(inner.get("subject")) if isinstance(inner, email.message.Message) else ""
        name = f"{subject or 'message'}.eml"
    name = name or f"attachment-{number}"
    safe_name = name.replace("/", "_").replace("\\", "_")
    disposition = (part.get_content_disposition() or "").lower()
    mail.attachments.append(
        MailAttachment(
            name=name,
            mime_type=content_type,
            size=len(_part_bytes(part)),
            path_in_parent=f"attachments/{number}/{safe_name}",
            inline=disposition == "inline" or (disposition == "" and part.get("content-id") is not None),
            content_id=" ".join(str(part.get("content-id") or "").split()).strip("<>"),
        )
    )
    mail._payloads.append(part)
