"""Email: RFC 822 ``.eml`` messages (standard library only) and Outlook ``.msg`` files (extra ``mail``)."""
