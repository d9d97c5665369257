"""OpenDocument extractors: text, spreadsheet, presentation and drawing files (extra ``opendocument``)."""
