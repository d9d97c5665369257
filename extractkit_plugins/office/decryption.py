"""Opening password-protected Office files with msoffcrypto-tool (MIT).

Office encrypts a whole file with a password: an OOXML package becomes an
OLE2 container holding ``EncryptionInfo`` and ``EncryptedPackage`` (libmagic's
"CDFV2 Encrypted"), and a legacy ``.doc``, ``.xls`` or ``.ppt`` keeps its OLE2
layout with RC4-encrypted streams. :func:`decrypted_copy` writes the plain file
to a private temporary folder for the usual reader and deletes it afterwards.

The password comes from ``ExtractOptions.office_password`` (``[extract] office_password``,
``EXTRACTKIT__EXTRACT__OFFICE_PASSWORD`` or ``extract --office-password-file``). Without
one, or when it is wrong, the document is ``encrypted``, a permanent failure.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from extractkit.errors import CorruptDocument, EncryptedDocument
from extractkit.models import Document, ExtractOptions
from extractkit_plugins.extras import require

#: The option that holds the password for encrypted Office files.
OFFICE_PASSWORD_OPTION = "office_password"  # noqa: S105 (an option name, not a password)
#: Excel encrypts a workbook whose structure alone is protected with this fixed password, and opens it unasked.
EXCEL_DEFAULT_PASSWORD = "VelvetSweatshop"  # noqa: S105 (Excel's published default)


def configured_password(options: ExtractOptions) -> str:
    """The configured Office password (``[extract] office_password``), or an empty string."""
    if options.office_password:
        return options.office_password
    value = options.extra.get(OFFICE_PASSWORD_OPTION)
    return value if isinstance(value, str) else ""


@contextmanager
def decrypted_copy(
    document: Document,
    options: ExtractOptions,
    kind: str,
    *,
    extra: str,
    default_passwords: Sequence[str] = (),
) -> Iterator[Path]:
    """Yield the path of a decrypted copy of ``document``, removed when the block ends.

    Tries ``default_passwords`` first, then the configured password. Raises
    :class:`EncryptedDocument` when none opens the file or the encryption is one
    msoffcrypto-tool cannot undo, :class:`CorruptDocument` when the container is damaged.
    """
    msoffcrypto = require("msoffcrypto", extra, "open password-protected Office files")
    from msoffcrypto.exceptions import DecryptionError, FileFormatError, InvalidKeyError, ParseError

    password = configured_password(options)
    candidates = [candidate for candidate in (*default_passwords, password) if candidate]
    if not candidates:
        raise EncryptedDocument(
            f"{document.name} is a password-protected {kind} file; configure office_password to open it"
        )
    with tempfile.TemporaryDirectory(prefix="extractkit-decrypted-") as folder:
        target = Path(folder) / f"decrypted{Path(document.name).suffix.lower()}"
        unsupported = ""
        for candidate in candidates:
            try:
                with document.path.open("rb") as source, target.open("wb") as sink:
                    office_file = msoffcrypto.OfficeFile(source)
                    office_file.load_key(password=candidate)
                    office_file.decrypt(sink)
                break
            except InvalidKeyError:
                continue
            except DecryptionError as error:
                unsupported = str(error)
                continue
            except (FileFormatError, ParseError, ValueError, KeyError, IndexError, EOFError, OSError) as error:
                raise CorruptDocument(
                    f"{document.name} is a damaged encrypted {kind} file ({type(error).__name__}: {error})"
                ) from error
        else:
            if unsupported:
                message = f"{document.name} uses a {kind} encryption that cannot be opened ({unsupported})"
            elif password:
                message = f"{document.name}: the configured office_password does not open this {kind} file"
            else:
                message = f"{document.name} is a password-protected {kind} file; configure office_password to open it"
            raise EncryptedDocument(message)
        yield target
