"""Markup formats: RTF (no extra library), EPUB and XML (extra ``markup``: lxml, parsed without entities)."""
