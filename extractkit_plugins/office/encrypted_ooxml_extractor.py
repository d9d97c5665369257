"""Password-protected docx, xlsx and pptx (an OLE2 container with EncryptionInfo and EncryptedPackage).

Without ``office_password`` (or with a wrong one) the document is ``encrypted``.
With the right one, the package is decrypted to a private temporary file by
msoffcrypto-tool and read by the docx, xlsx or pptx reader, whichever its main
part calls for.
"""

from __future__ import annotations

from extractkit import hookimpl
from extractkit.errors import CorruptDocument
from extractkit.hookspecs import RegisterClass
from extractkit.interfaces import Extractor
from extractkit.models import Document, ExtractionResult

#: The MIME type type detection gives an encrypted OOXML package (Tika's name for it).
ENCRYPTED_OOXML = "application/x-tika-ooxml-protected"


class EncryptedOoxmlExtractor(Extractor):
    """Opens password-protected Word, Excel and PowerPoint files with the configured password."""

    name = "encrypted-ooxml"
    mime_types = (ENCRYPTED_OOXML,)
    priority = 50

    def extract(self, document: Document) -> ExtractionResult:
        """Decrypt the package, then read it with the reader its main part calls for."""
        from extractkit_plugins.type_detection import DOCX, PPTX, XLSX, detect

        from .decryption import decrypted_copy

        with decrypted_copy(document, self.options, "Office", extra="office") as path:
            inner_type = detect(path, path.name)
            plain = Document(
                uri=document.uri, path=path, name=document.name, size=path.stat().st_size, mime_type=inner_type
            )
            if inner_type == DOCX:
                from .docx_reader import DocxReader as Reader
            elif inner_type == XLSX:
                from .xlsx_reader import XlsxReader as Reader
            elif inner_type == PPTX:
                from .pptx_reader import PptxReader as Reader
            else:
                raise CorruptDocument(f"{document.name} decrypts to {inner_type}, not a Word, Excel or PowerPoint file")
            result = Reader(self.options).extract(plain)
        metadata = {**result.metadata, "encrypted": True, "decrypted_mime_type": inner_type}
        return ExtractionResult(text=result.text, pages=result.pages, metadata=metadata)


@hookimpl
def register_extractors(register: RegisterClass) -> None:
    """Register the encrypted-OOXML extractor."""
    register(EncryptedOoxmlExtractor)
