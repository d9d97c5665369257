"""Word, Excel and PowerPoint extractors and the archive guard they share (extra ``office``)."""
