"""PDF extractors: pdfium text layers per page (core), OCR of unusable pages (extra ``ocr``) and pdfplumber (``pdf``)."""
