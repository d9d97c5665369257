"""pdfium's C functions as the PDF code calls them: bound once, without pypdfium2's argument checks.

pypdfium2's bindings check every pointer argument against its declared type, so one
``FPDFText_GetLooseCharBox`` call and reading its rectangle take about 10,000 instructions
(measured with callgrind). :func:`calls` binds the same functions again with no declared argument
types, which costs about a third of that: callers pass pointers as ``c_void_p``, indexes as Python
ints (C ``int``), outputs as ``byref`` offsets into one array, and the ``unsigned long`` of
``FPDF_GetMetaText`` as a ``c_ulong``. The caller holds the pdfium lock.
"""

from __future__ import annotations

import ctypes
from functools import lru_cache
from typing import Any, Callable, NamedTuple


class Calls(NamedTuple):
    """The bound functions, named after what they do (pdfium's names in :func:`calls`)."""

    loose_box: Callable[..., int]
    tight_box: Callable[..., int]
    angle: Callable[..., float]
    char_index: Callable[..., int]
    has_map_error: Callable[..., int]
    meta_text: Callable[..., int]
    count_chars: Callable[..., int]
    text_index: Callable[..., int]
    get_text: Callable[..., int]
    page_width: Callable[..., float]
    page_height: Callable[..., float]
    rotation: Callable[..., int]
    count_objects: Callable[..., int]
    page_count: Callable[..., int]
    file_version: Callable[..., int]
    load_page: Callable[..., int | None]
    load_text_page: Callable[..., int | None]
    close_text_page: Callable[..., None]
    close_page: Callable[..., None]
    # pypdfium2's own (checked) bindings, called once per document: kept here so that callers
    # need no ``import`` statement of their own on every call.
    close_document: Callable[..., None]
    security_revision: Callable[..., int]


def address_of(handle: Any) -> ctypes.c_void_p:
    """A text page's, page's or document's address as a ``c_void_p``: the one it keeps (:mod:`.pdfium_pages`),
    else one made from pypdfium2's typed pointer (``handle.raw``)."""
    pointer = getattr(handle, "pointer", None)
    return pointer if pointer is not None else ctypes.c_void_p.from_buffer(handle.raw)


def unchecked(function: Any, result: Any) -> Callable[..., Any]:
    """A pypdfium2 raw function bound again with no declared argument types, returning ``result``.

    PYFUNCTYPE keeps the GIL: these calls are shorter than releasing and taking it again, and the
    caller holds the pdfium lock anyway.
    """
    address = int(ctypes.cast(function, ctypes.c_void_p).value or 0)
    bound = ctypes.PYFUNCTYPE(result)(address)
    bound.argtypes = None
    return bound


@lru_cache(maxsize=1)
def calls() -> Calls:
    """The functions, bound on first use."""
    import pypdfium2.raw as pdfium_c

    return Calls(
        loose_box=unchecked(pdfium_c.FPDFText_GetLooseCharBox, ctypes.c_int),
        tight_box=unchecked(pdfium_c.FPDFText_GetCharBox, ctypes.c_int),
        angle=unchecked(pdfium_c.FPDFText_GetCharAngle, ctypes.c_float),
        char_index=unchecked(pdfium_c.FPDFText_GetCharIndexFromTextIndex, ctypes.c_int),
        has_map_error=unchecked(pdfium_c.FPDFText_HasUnicodeMapError, ctypes.c_int),
        meta_text=unchecked(pdfium_c.FPDF_GetMetaText, ctypes.c_ulong),
        count_chars=unchecked(pdfium_c.FPDFText_CountChars, ctypes.c_int),
        text_index=unchecked(pdfium_c.FPDFText_GetTextIndexFromCharIndex, ctypes.c_int),
        get_text=unchecked(pdfium_c.FPDFText_GetText, ctypes.c_int),
        page_width=unchecked(pdfium_c.FPDF_GetPageWidthF, ctypes.c_float),
        page_height=unchecked(pdfium_c.FPDF_GetPageHeightF, ctypes.c_float),
        rotation=unchecked(pdfium_c.FPDFPage_GetRotation, ctypes.c_int),
        count_objects=unchecked(pdfium_c.FPDFPage_CountObjects, ctypes.c_int),
        page_count=unchecked(pdfium_c.FPDF_GetPageCount, ctypes.c_int),
        file_version=unchecked(pdfium_c.FPDF_GetFileVersion, ctypes.c_int),
        load_page=unchecked(pdfium_c.FPDF_LoadPage, ctypes.c_void_p),  # an address (int), or None for NULL
        load_text_page=unchecked(pdfium_c.FPDFText_LoadPage, ctypes.c_void_p),
        close_text_page=unchecked(pdfium_c.FPDFText_ClosePage, None),
        close_page=unchecked(pdfium_c.FPDF_ClosePage, None),
        close_document=pdfium_c.FPDF_CloseDocument,
        security_revision=pdfium_c.FPDF_GetSecurityHandlerRevision,
    )
