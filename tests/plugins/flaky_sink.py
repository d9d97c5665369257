"""A sink that fails transiently a set number of times before it accepts writes."""

from extractkit import Sink, hookimpl
from extractkit.errors import ServiceError


class FlakySink(Sink):
    """Raises ServiceError for the first ``failures`` writes, then records in memory."""

    name = "flaky"

    def __init__(self, options=None):
        super().__init__(options)
        self.remaining_failures = int(self.options.get("failures", 2))
        self.written = []
        self.failures = []

    def write(self, document, result):
        if self.remaining_failures > 0:
            self.remaining_failures -= 1
            raise ServiceError("sink answered 503")
        self.written.append(document.uri)

    def write_failure(self, failure):
        if self.remaining_failures > 0:
            self.remaining_failures -= 1
            raise ServiceError("sink answered 503")
        self.failures.append(failure)


@hookimpl
def register_sinks(register):
    register(FlakySink)
