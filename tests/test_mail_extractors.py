"""Mail: Apache Tika's RFC 822 and Outlook test messages, plus generated Japanese, attachment and S/MIME mail."""

from __future__ import annotations

import base64
from email.message import EmailMessage

import pytest

from extractkit import extract
from extractkit.errors import DocumentError
from extractkit.testing import check_extractor
from extractkit_plugins.mail.eml_extractor import EmlExtractor
from extractkit_plugins.mail.msg_extractor import MsgExtractor
from extractkit_plugins.type_detection import detect

CIRCLED_ONE_JIS = b"\x1b$B-!\x1b(B"  # ① in ISO-2022-JP as Windows writes it (NEC row 13)


def _reason(path, plugins) -> str:
    with pytest.raises(DocumentError) as caught:
        extract(path, plugins=plugins)
    return caught.value.reason


# -- Tika's messages -----------------------------------------------------------


def test_rfc2047_headers_are_decoded(corpus, plugins):
    result = extract(corpus / "tika" / "testRFC822_i18nheaders", plugins=plugins)
    assert result.extractor == "eml"
    assert result.metadata["from"] == "Keld Jørn Simonsen <keld@dkuug.dk>"
    assert result.metadata["subject"] == "If you can read this you understand the example."
    assert result.text == "Examples taken from RFC 2047."


def test_quoted_printable_and_base64_bodies(corpus, plugins):
    quoted = extract(corpus / "tika" / "testRFC822_quoted", plugins=plugins)
    assert quoted.text.startswith("Düsseldorf has non-ascii. Lines can be split like this.")
    assert quoted.metadata["date"] == "2010-11-26T19:57:53+00:00"
    encoded = extract(corpus / "tika" / "testRFC822_base64", plugins=plugins)
    assert encoded.text == "Here is some text, with international characters, voilà!"


def test_mail_that_libmagic_calls_text_is_mail(corpus):
    for name in ("testThunderbirdEml.eml", "testRFC822_base64", "testEML_embedded_xhtml_and_img.eml"):
        assert detect(corpus / "tika" / name) == "message/rfc822", name


def test_attachments_are_listed_not_inlined(corpus, plugins):
    result = extract(corpus / "tika" / "testRFC822_multipart_attachments.eml", plugins=plugins)
    assert result.text == "Hi,\n\nThis is test email for EML1\n\nThanks,\nChetan"
    assert [a["name"] for a in result.metadata["attachments"]] == ["Test TxtA.txt", "Test TxtB.txt"]
    inline = extract(corpus / "tika" / "testEML_embedded_xhtml_and_img.eml", plugins=plugins)
    assert inline.metadata["attachments"] == [
        {"name": "testimage.jpeg", "mime_type": "image/jpeg", "size": 4699, "inline": True}
    ]
    assert "base64" not in inline.text and "Content-Type" not in inline.text


def test_attachment_inside_the_skipped_alternative_is_kept(corpus, plugins):
    result = extract(corpus / "tika" / "testRFC822-mixed-with-pdf-inline", plugins=plugins)
    assert result.text.startswith("Attachment in middle")
    assert [a["mime_type"] for a in result.metadata["attachments"]] == ["application/pdf"]


def test_outlook_messages(corpus, plugins):
    chinese = extract(corpus / "tika" / "testMSG_chinese.msg", plugins=plugins)
    assert chinese.extractor == "msg"
    assert chinese.metadata["subject"] == "Alfresco MSG format testing ( MSG 格式測試 )"
    assert "中文測試" in chinese.text
    assert chinese.metadata["to"] == ["Tests Chang@FT (張毓倫) <tests.chang@fengttt.com>"]
    with_files = extract(corpus / "tika" / "testMSG_att_doc.msg", plugins=plugins)
    assert with_files.metadata["subject"] == "test pièce jointe 1"
    assert [(a["name"], a["size"]) for a in with_files.metadata["attachments"]] == [
        ("test-unicode.doc", 24064),
        ("pj1.txt", 89),
    ]
    express = extract(corpus / "tika" / "test-outlook.msg", plugins=plugins)
    assert express.metadata["from"] == "L'Équipe Microsoft Outlook Express <msoe@microsoft.com>"
    assert express.metadata["message_class"] == "IPM.Note"
    plain = extract(corpus / "tika" / "testMSG.msg", plugins=plugins)
    assert plain.metadata["date"] == "2009-01-29T19:16:40+00:00"
    assert plain.metadata["message_id"].startswith("<510143ac0901291116")


def test_extractors_conform(corpus):
    check_extractor(
        EmlExtractor,
        [corpus / "tika" / "testRFC822_quoted", corpus / "tika" / "testThunderbirdEml.eml"],
        expected_text={"testRFC822_quoted": "Düsseldorf"},
    )
    check_extractor(MsgExtractor, [corpus / "tika" / "testMSG.msg"], expected_text={"testMSG.msg": "As discussed"})


# -- generated messages --------------------------------------------------------


def test_iso2022jp_with_cp50220_extensions(tmp_path, plugins):
    subject = "会議".encode("iso2022_jp") + CIRCLED_ONE_JIS + "のお知らせ".encode("iso2022_jp")
    body = "第".encode("iso2022_jp") + CIRCLED_ONE_JIS + "回　議事録です。".encode("iso2022_jp")
    path = tmp_path / "jis.eml"
    path.write_bytes(
        b"From: =?ISO-2022-JP?B?" + base64.b64encode("山田".encode("iso2022_jp")) + b"?= <yamada@example.jp>\r\n"
        b"To: suzuki@example.jp\r\nSubject: =?ISO-2022-JP?B?" + base64.b64encode(subject) + b"?=\r\n"
        b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=ISO-2022-JP\r\n"
        b"Content-Transfer-Encoding: 7bit\r\n\r\n" + body + b"\r\n"
    )
    result = extract(path, plugins=plugins)
    assert result.metadata["subject"] == "会議①のお知らせ"
    assert result.metadata["from"] == "山田 <yamada@example.jp>"
    assert result.text == "第①回　議事録です。"


def test_shift_jis_mail_with_raw_8bit_subject(tmp_path, plugins):
    path = tmp_path / "sjis.eml"
    path.write_bytes(
        b"From: tanaka@example.jp\r\nSubject: " + "見積書～再送".encode("cp932") + b"\r\n"
        b"Date: Tue, 1 Dec 2026 09:30:00 +0900\r\nMIME-Version: 1.0\r\n"
        b"Content-Type: text/plain; charset=Shift_JIS\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
        + "お世話になっております。①の件、～よろしくお願いします。".encode("cp932")
    )
    result = extract(path, plugins=plugins)
    assert result.metadata["subject"] == "見積書～再送"
    assert result.metadata["date"] == "2026-12-01T09:30:00+09:00"
    assert result.text == "お世話になっております。①の件、～よろしくお願いします。"


def test_utf8_mail_with_attachment_and_html_only_mail(tmp_path, plugins):
    message = EmailMessage()
    message["From"] = "Zoë <zoe@example.com>"
    message["To"] = 'a@example.com, "Doe, John" <john@example.com>'
    message["Cc"] = "c@example.com"
    message["Subject"] = "Quartalsbericht – Übersicht"
    message["Message-ID"] = "<q3@example.com>"
    message.set_content("Der Bericht liegt bei. 日本語も。")
    message.add_attachment(b"%PDF-1.4 fake", maintype="application", subtype="pdf", filename="bericht q3.pdf")
    path = tmp_path / "utf8.eml"
    path.write_bytes(message.as_bytes())
    result = extract(path, plugins=plugins)
    assert result.text == "Der Bericht liegt bei. 日本語も。"
    assert result.metadata["to"] == ["a@example.com", "Doe, John <john@example.com>"]
    assert result.metadata["cc"] == ["c@example.com"]
    assert result.metadata["subject"] == "Quartalsbericht – Übersicht"
    assert result.metadata["message_id"] == "<q3@example.com>"
    assert result.metadata["attachments"] == [{"name": "bericht q3.pdf", "mime_type": "application/pdf", "size": 13}]

    html = EmailMessage()
    html["From"] = "a@example.com"
    html["Subject"] = "Table"
    html.set_content("<html><body><p>Totals</p><table><tr><td>East</td><td>10</td></tr></table></body></html>", "html")
    (tmp_path / "html.eml").write_bytes(html.as_bytes())
    result = extract(tmp_path / "html.eml", plugins=plugins)
    assert result.text == "Totals\nEast\t10"
    assert result.metadata["body_type"] == "text/html"


def test_smime_enveloped_mail_is_encrypted(tmp_path, plugins):
    path = tmp_path / "smime.eml"
    path.write_bytes(
        b"From: a@example.com\r\nTo: b@example.com\r\nSubject: secret\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: application/pkcs7-mime; smime-type=enveloped-data; name="smime.p7m"\r\n'
        b"Content-Transfer-Encoding: base64\r\n\r\n" + base64.encodebytes(b"\x30\x82\x01\x00" + bytes(200))
    )
    assert _reason(path, plugins) == "encrypted"


def test_bom_less_utf16_mail(tmp_path, plugins):
    path = tmp_path / "utf16.eml"
    path.write_bytes(
        "From: a@example.jp\r\nSubject: 報告\r\nMIME-Version: 1.0\r\n\r\n本文です。\r\n".encode("utf-16-le")
    )
    assert detect(path) == "message/rfc822"
    result = extract(path, plugins=plugins)
    assert (result.metadata["subject"], result.text) == ("報告", "本文です。")


@pytest.mark.parametrize("first_header", ["Subject: hello", "MIME-Version: 1.0"])
def test_mail_starting_with_subject_or_mime_version_is_detected(tmp_path, first_header):
    path = tmp_path / "message.txt"
    other = "From: a@example.com" if first_header.startswith("Subject") else "Subject: hello"
    path.write_text(f"{first_header}\n{other}\n\nbody\n", encoding="ascii")
    assert detect(path) == "message/rfc822"


def test_empty_input_rule_for_mail(tmp_path, plugins):
    headers_only = tmp_path / "no-body.eml"
    headers_only.write_bytes(
        b"From: a@example.com\r\nSubject: nothing here\r\nDate: Mon, 6 Sep 2010 05:25:34 -0400\r\n\r\n"
    )
    result = extract(headers_only, plugins=plugins)
    assert result.text == ""
    assert result.metadata["empty_text"] is True
    assert result.metadata["subject"] == "nothing here"
    empty = tmp_path / "empty.eml"
    empty.write_bytes(b"")
    assert _reason(empty, plugins) == "empty"
