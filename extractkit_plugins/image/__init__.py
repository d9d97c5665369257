"""The image extractor and the OCR engine it drives (extra ``ocr``: Pillow; Tesseract is a system program)."""
