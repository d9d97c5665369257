"""A plugin that wrongly implements a register hook as a hook wrapper."""

from extractkit import hookimpl


@hookimpl(hookwrapper=True)
def register_extractors(register):
    yield
