"""PDF extractors: pdfium text layers per page, OCR of unusable pages (extra ``ocr``) and pdfplumber (extra ``pdf``)."""
