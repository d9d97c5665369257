"""A JSON Lines sink that raises OSError for documents named broken-*: an unexpected sink error for one record."""

from extractkit import hookimpl
from extractkit_plugins.local.jsonl_sink import JsonlSink


class OsErrorSink(JsonlSink):
    """Writes like the JSONL sink, except that a result for broken-* raises OSError (a sink bug, not a failure)."""

    name = "oserror"

    def write_batch(self, records):
        return super(JsonlSink, self).write_batch(records)  # record by record, through write()

    def write(self, document, result):
        if document.name.startswith("broken-"):
            raise OSError(28, "No space left on device")
        super().write(document, result)


@hookimpl
def register_sinks(register):
    register(OsErrorSink)
