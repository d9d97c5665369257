"""Documents, pages and text pages loaded through pdfium's C functions, without pypdfium2's objects.

pypdfium2 wraps every page and text page in an object with a weak-reference finalizer and a
parent registry, and its ``get_text_range`` makes several index look-ups before reading. The
extractor loads pages, reads them and closes them within one call, under the pdfium lock, so it
needs none of that: :class:`loaded_page` loads a page and its text page with ``FPDF_LoadPage``
and ``FPDFText_LoadPage`` and closes both when the block ends (a quarter of the cost of a
one-page document and a tenth of a text page's, measured against the page objects). Their other
calls go through :mod:`.pdfium_calls`.

:class:`TextPage` has the surface the layout code uses (``raw``, ``count_chars()``,
``get_text_range()``), so :mod:`.pdfium_bulk`, :mod:`.pdf_layout` and :mod:`.pdf_tables` take
either kind. :func:`load_document` opens a file likewise: a file of up to
:data:`MEMORY_LOAD_LIMIT` bytes is read whole in one call and opened from memory
(``FPDF_LoadMemDocument64``), since pdfium's own file reader asks the file's size and seeks before
each block it reads (about 5 % of a short document's time); a bigger one is opened by its path
(``FPDF_LoadDocument``), so its size never weighs on memory. Rendering,
which is rare and costs far more than loading, still goes through pypdfium2's objects: a
:class:`RawDocument` opens its file a second time through pypdfium2 the first time a page of it
must be rendered (:meth:`RawDocument.for_rendering`).
"""

from __future__ import annotations

import ctypes
import os
from pathlib import Path
from typing import Any, Iterator

from .pdfium_calls import address_of, calls

#: The box pypdfium2 (and PDF readers generally) assume when a page has no MediaBox: US Letter.
DEFAULT_MEDIA_BOX = (0.0, 0.0, 612.0, 792.0)
#: The largest file :func:`load_document` reads into memory to open; bigger ones are opened by path.
MEMORY_LOAD_LIMIT = 32 * 1024 * 1024


class DocumentLoadError(Exception):
    """pdfium could not open a document; ``code`` is its ``FPDF_GetLastError()`` (``FPDF_ERR_PASSWORD``...)."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


class RawDocument:
    """An open ``FPDF_DOCUMENT``: its page count and PDF version, and the file it came from."""

    __slots__ = ("_as_parameter_", "_contents", "_rendering", "password", "path", "pointer", "raw")

    def __init__(self, raw: Any, path: Path, password: str, contents: bytearray | None = None) -> None:
        self.raw = raw
        self._as_parameter_ = raw  # what ctypes passes when the object itself is an argument
        self.pointer = ctypes.c_void_p.from_buffer(raw)
        self.path = path
        self.password = password
        self._contents = contents  # the file's bytes pdfium reads from, when it was opened from memory
        self._rendering: Any = None

    def __len__(self) -> int:
        return int(calls().page_count(self.pointer))

    def get_version(self) -> int | None:
        """The PDF version (14 for 1.4), or ``None`` when pdfium cannot tell."""
        version = ctypes.c_int()
        return version.value if calls().file_version(self.pointer, ctypes.byref(version)) else None

    def for_rendering(self) -> Any:
        """The same file opened as a pypdfium2 ``PdfDocument`` (once), for rendering its pages."""
        if self._rendering is None:
            import pypdfium2 as pdfium

            self._rendering = pdfium.PdfDocument(str(self.path), password=self.password or None)
        return self._rendering

    def close(self) -> None:
        """Close the document (and its rendering twin); closing twice does nothing."""
        if self._rendering is not None:
            self._rendering.close()
            self._rendering = None
        if self.raw is not None:
            calls().close_document(self.raw)
            self.raw = self._as_parameter_ = self.pointer = None
            self._contents = None  # pdfium is done with the bytes only once the document is closed


def load_document(path: Path, password: str = "") -> RawDocument:
    """Open a PDF file with ``password`` (``""`` for none); raises :class:`DocumentLoadError`. Call under the lock.

    A file of up to :data:`MEMORY_LOAD_LIMIT` bytes is opened from memory; a bigger one, or one
    that cannot be read whole, is opened by its path, which reports any error as before.
    """
    import pypdfium2.raw as pdfium_c

    secret = password.encode("utf-8") + b"\x00" if password else None
    contents = _small_file_contents(path)
    if contents is None:
        raw = pdfium_c.FPDF_LoadDocument(os.fsencode(path) + b"\x00", secret)
    else:
        start = ctypes.addressof(ctypes.c_char.from_buffer(contents))
        raw = pdfium_c.FPDF_LoadMemDocument64(start, len(contents), secret)
    if not raw:
        raise DocumentLoadError(int(pdfium_c.FPDF_GetLastError()))
    return RawDocument(raw, path, password, contents)


def _small_file_contents(path: Path) -> bytearray | None:
    """The whole file, read in one call, if it is not empty and not over :data:`MEMORY_LOAD_LIMIT`; else ``None``."""
    try:
        with open(path, "rb", buffering=0) as handle:
            size = os.fstat(handle.fileno()).st_size
            if not 0 < size <= MEMORY_LOAD_LIMIT:
                return None
            contents = bytearray(size)
            view = memoryview(contents)
            done = 0
            while done < size:
                count = handle.readinto(view[done:])
                if not count:
                    return None  # the file shrank while it was read: pdfium reads it by path instead
                done += count
            return contents
    except OSError:
        return None


class PageLoadError(Exception):
    """pdfium could not load a page (``page``) or its text (``text``): the page tree or content is damaged."""

    def __init__(self, part: str) -> None:
        super().__init__(part)
        self.part = part


class _Handle:
    """A loaded pdfium object known by its address: ``pointer`` (a ``c_void_p``) for the unchecked calls.

    ``raw`` is the same address as pypdfium2's typed pointer (:attr:`TYPE_NAME` in ``pypdfium2.raw``),
    made on first use, for pypdfium2's checked functions; ctypes passes it when the object itself
    is an argument.
    """

    __slots__ = ("_typed", "pointer")
    TYPE_NAME = ""

    def __init__(self, address: int) -> None:
        self.pointer = ctypes.c_void_p(address)
        self._typed: Any = None

    @property
    def raw(self) -> Any:
        """The typed pointer, for pypdfium2's checked functions."""
        if self._typed is None:
            import pypdfium2.raw as pdfium_c

            self._typed = ctypes.cast(self.pointer, getattr(pdfium_c, self.TYPE_NAME))
        return self._typed

    _as_parameter_ = raw


class TextPage(_Handle):
    """A loaded ``FPDF_TEXTPAGE``: its character count and its whole text.

    ``pointer`` is its address as a ``c_void_p``, made once for the many calls of :mod:`.pdfium_bulk`.
    After :meth:`get_text_range`, ``indexes_are_offsets`` says whether pdfium's character index of
    every character equals its offset in that text (``None`` before).
    """

    __slots__ = ("_count", "indexes_are_offsets")
    TYPE_NAME = "FPDF_TEXTPAGE"

    def __init__(self, address: int) -> None:
        super().__init__(address)
        self.indexes_are_offsets: bool | None = None
        self._count: int | None = None

    def count_chars(self) -> int:
        """Characters pdfium lists on the page (generated spaces and line breaks included), asked once."""
        if self._count is None:
            self._count = int(calls().count_chars(self.pointer))
        return self._count

    def get_text_range(self) -> str:
        """The page's whole text, as ``PdfTextPage.get_text_range()`` gives it.

        Characters pdfium leaves out of its text at either end of the list are skipped first, so
        pdfium never reads past the range it was given (crbug.com/pdfium/2079). When every
        character gives one UTF-16 unit of the text (none left out, none outside the BMP),
        character indexes and text offsets are the same numbers: ``indexes_are_offsets``.
        """
        bound = calls()
        pointer = self.pointer
        count = self.count_chars()
        text_index = bound.text_index
        start, end = 0, count - 1
        first = last = -1
        while start <= end and (first := text_index(pointer, start)) == -1:
            start += 1
        while end >= start and (last := text_index(pointer, end)) == -1:
            end -= 1
        self.indexes_are_offsets = False
        if end < start:
            return ""
        size = last + 2 - first  # with the NUL terminator
        buffer = (ctypes.c_ushort * size)()
        written = bound.get_text(pointer, start, end - start + 1, buffer)
        if written <= 1:
            return ""
        text = ctypes.string_at(buffer, 2 * (written - 1)).decode("utf-16-le", "ignore")
        self.indexes_are_offsets = start == 0 and written - 1 == count == len(text)
        return text


class Page(_Handle):
    """A loaded ``FPDF_PAGE``: its size, rotation, crop box and the image objects on it."""

    __slots__ = ()
    TYPE_NAME = "FPDF_PAGE"

    def get_size(self) -> tuple[float, float]:
        """Width and height in points, as displayed (after ``/Rotate``)."""
        bound = calls()
        return (bound.page_width(self.pointer), bound.page_height(self.pointer))

    def get_rotation(self) -> int:
        """The page's ``/Rotate`` in degrees clockwise (0, 90, 180 or 270)."""
        quarter = calls().rotation(self.pointer)
        return 0 if quarter < 0 else quarter * 90

    def count_objects(self) -> int:
        """How many page objects (text, paths, images, forms) the page's content holds at its top level."""
        return int(calls().count_objects(self.pointer))

    def get_cropbox(self) -> tuple[float, float, float, float]:
        """The crop box (left, bottom, right, top), else the media box, else US Letter."""
        import pypdfium2.raw as pdfium_c

        for get_box in (pdfium_c.FPDFPage_GetCropBox, pdfium_c.FPDFPage_GetMediaBox):
            left, bottom, right, top = (ctypes.c_float() for _ in range(4))
            if get_box(self.raw, left, bottom, right, top):
                return (left.value, bottom.value, right.value, top.value)
        return DEFAULT_MEDIA_BOX

    def image_bounds(self, max_depth: int, max_objects: int) -> Iterator[tuple[float, float, float, float]]:
        """The bounds (left, bottom, right, top) of every image object, in form XObjects too.

        Forms are entered ``max_depth`` levels deep, and no more than ``max_objects`` objects
        are looked at in all, so a page of a million tiny objects costs a bounded time.
        """
        import pypdfium2.raw as pdfium_c

        stack: list[tuple[Any, int]] = [(None, 0)]
        seen = 0
        while stack:
            form, depth = stack.pop()
            if form is None:
                count, get = pdfium_c.FPDFPage_CountObjects(self.raw), pdfium_c.FPDFPage_GetObject
                parent = self.raw
            else:
                count, get, parent = pdfium_c.FPDFFormObj_CountObjects(form), pdfium_c.FPDFFormObj_GetObject, form
            for index in range(count):
                seen += 1
                if seen > max_objects:
                    return
                page_object = get(parent, index)
                kind = pdfium_c.FPDFPageObj_GetType(page_object)
                if kind == pdfium_c.FPDF_PAGEOBJ_FORM and depth < max_depth:
                    stack.append((page_object, depth + 1))
                elif kind == pdfium_c.FPDF_PAGEOBJ_IMAGE:
                    left, bottom, right, top = (ctypes.c_float() for _ in range(4))
                    if pdfium_c.FPDFPageObj_GetBounds(page_object, left, bottom, right, top):
                        yield (left.value, bottom.value, right.value, top.value)


class loaded_page:  # noqa: N801 (used as a function: ``with loaded_page(pdf, index) as (page, textpage)``)
    """Page ``index`` of an open document and its text page, closed when the ``with`` block ends.

    Entering raises :class:`PageLoadError` when pdfium cannot load either, and sets ``page`` and
    ``textpage``. Call under the pdfium lock. A class rather than a generator: it is entered once
    for every page read.
    """

    __slots__ = ("_index", "_pdf", "page", "textpage")

    def __init__(self, pdf: Any, index: int) -> None:
        self._pdf = pdf
        self._index = index
        self.page: Page | None = None
        self.textpage: TextPage | None = None

    def __enter__(self) -> tuple[Page, TextPage]:
        bound = calls()
        page_address = bound.load_page(address_of(self._pdf), self._index)  # a RawDocument or a PdfDocument
        if not page_address:
            raise PageLoadError("page")
        page = Page(page_address)
        text_address = bound.load_text_page(page.pointer)
        if not text_address:
            bound.close_page(page.pointer)
            raise PageLoadError("text")
        self.page, self.textpage = page, TextPage(text_address)
        return page, self.textpage

    def __exit__(self, *_: object) -> None:
        if self.textpage is not None:
            bound = calls()
            bound.close_text_page(self.textpage.pointer)
            bound.close_page(self.page.pointer)  # type: ignore[union-attr]
            self.page = self.textpage = None
