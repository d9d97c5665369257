"""Legacy Office extractors: Word, Excel and PowerPoint 97-2003 (.doc, .xls, .ppt; extra ``legacy_office``)."""
