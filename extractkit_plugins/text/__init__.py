"""Plain text, CSV, HTML and Markdown, with the encoding detected (core dependencies only)."""
