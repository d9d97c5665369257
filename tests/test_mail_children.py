"""Mail attachments as documents of their own: Tika's messages and generated mail, through the pipeline."""

from __future__ import annotations

import io
import zipfile
from email.message import EmailMessage
from pathlib import Path

from test_archive_extractors import content, failures, run, stored_uris

from extractkit import extract
from extractkit.models import ExtractOptions
from extractkit.plugins import PluginSpec

from hostile.generate import text_pdf

PDF_MIME = "application/pdf"
DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def docx_bytes(text: str) -> bytes:
    from docx import Document

    document = Document()
    document.add_paragraph(text)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def mail_with_attachments(
    path: Path, attachments: list[tuple[str, str, bytes]], body: str = "添付をご確認ください"
) -> Path:
    message = EmailMessage()
    message["From"] = "経理 <keiri@example.jp>"
    message["To"] = "reader@example.com"
    message["Subject"] = "第3四半期の資料"
    message["Message-ID"] = "<q3@example.jp>"
    message.set_content(body)
    for name, mime_type, data in attachments:
        maintype, subtype = mime_type.split("/")
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    path.write_bytes(message.as_bytes())
    return path


def test_tika_eml_attachments_are_stored_inside_their_message(tmp_path, corpus):
    mail = corpus / "tika" / "testRFC822_multipart_attachments.eml"
    index = run(tmp_path, [mail])
    parent = mail.as_uri()
    first, second = f"{parent}!/attachments/1/Test TxtA.txt", f"{parent}!/attachments/2/Test TxtB.txt"
    assert stored_uris(index) == {parent, first, second}
    assert content(index, parent) == "Hi,\n\nThis is test email for EML1\n\nThanks,\nChetan"
    assert content(index, first) == "This is Test TXTA File for parser"
    assert [hit.uri for hit in index.search("TXTB")] == [second]


def test_tika_msg_attachments_a_word_file_and_a_text_file(tmp_path, corpus):
    mail = corpus / "tika" / "testMSG_att_doc.msg"
    index = run(tmp_path, [mail])
    parent = mail.as_uri()
    word, text = f"{parent}!/attachments/1/test-unicode.doc", f"{parent}!/attachments/2/pj1.txt"
    assert stored_uris(index) == {parent, word, text}
    assert "euro : € (20AC)" in content(index, word)
    assert {hit.uri for hit in index.search("copyright")} == {word, text}


def test_tika_inline_image_is_a_child_too(tmp_path, corpus):
    mail = corpus / "tika" / "testEML_embedded_xhtml_and_img.eml"
    index = run(tmp_path, [mail])
    image = f"{mail.as_uri()}!/attachments/1/testimage.jpeg"
    assert stored_uris(index) == {mail.as_uri(), image} and failures(index) == {}
    row = index.db.execute("SELECT mime_type, extractor FROM documents WHERE uri = ?", (image,)).fetchone()
    assert row == ("image/jpeg", "image")


def test_generated_mail_with_a_pdf_and_a_docx(tmp_path):
    mail = mail_with_attachments(
        tmp_path / "q3.eml",
        [
            ("report.pdf", PDF_MIME, text_pdf(("Quarterly revenue grew", "in every region"))),
            ("議事録.docx", DOCX_MIME, docx_bytes("第3四半期の売上は前年を上回った")),
        ],
    )
    index = run(tmp_path, [mail])
    parent = mail.as_uri()
    pdf, docx = f"{parent}!/attachments/1/report.pdf", f"{parent}!/attachments/2/議事録.docx"
    assert stored_uris(index) == {parent, pdf, docx}
    assert failures(index) == {}
    assert [hit.uri for hit in index.search("Quarterly revenue")] == [pdf]
    assert [hit.uri for hit in index.search("前年を上回った")] == [docx]
    assert [hit.uri for hit in index.search("添付をご確認")] == [parent], "the body stays the message's own text"
    library = extract(mail)
    assert library.children == () and [a["name"] for a in library.metadata["attachments"]] == [
        "report.pdf",
        "議事録.docx",
    ]


def test_a_forwarded_message_and_a_mail_inside_a_zip(tmp_path):
    inner = EmailMessage()
    inner["From"] = "a@example.com"
    inner["Subject"] = "original"
    inner.set_content("the forwarded body")
    inner.add_attachment(b"nested attachment text", maintype="text", subtype="plain", filename="deep.txt")
    outer = EmailMessage()
    outer["From"] = "b@example.com"
    outer["To"] = "c@example.com"
    outer["Subject"] = "Fwd: original"
    outer.set_content("see below")
    outer.add_attachment(inner)
    forwarded = tmp_path / "forward.eml"
    forwarded.write_bytes(outer.as_bytes())
    archive = tmp_path / "mailbox.zip"
    with zipfile.ZipFile(archive, "w") as package:
        package.writestr("2024/forward.eml", forwarded.read_bytes())
    index = run(tmp_path, [archive])
    deep = f"{archive.as_uri()}!/2024/forward.eml!/attachments/1/original.eml!/attachments/1/deep.txt"
    assert deep in stored_uris(index)
    assert [hit.uri for hit in index.search("nested attachment text")] == [deep]


def test_attachments_count_against_the_byte_cap(tmp_path):
    mail = mail_with_attachments(tmp_path / "big.eml", [("data.bin", "application/octet-stream", bytes(300_000))])
    index = run(tmp_path, [mail], ExtractOptions(max_archive_uncompressed=100_000))
    assert failures(index) == {mail.as_uri(): "too_large"}


def test_mail_children_through_the_isolated_executor(tmp_path):
    from runner.isolation import IsolatedExecutor, IsolationLimits

    mail = mail_with_attachments(tmp_path / "iso.eml", [("memo.txt", "text/plain", "隔離された添付".encode())])
    spec = PluginSpec(entry_points=False)
    with IsolatedExecutor(
        spec, ExtractOptions(), IsolationLimits(timeout_seconds=60), 1, temp_dir=tmp_path / "w"
    ) as ex:
        index = run(tmp_path, [mail], executor=ex)
    memo = f"{mail.as_uri()}!/attachments/1/memo.txt"
    assert stored_uris(index) == {mail.as_uri(), memo}
    assert [hit.uri for hit in index.search("隔離された添付")] == [memo]
