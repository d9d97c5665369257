"""A broken plugin: its hook name matches no spec, so loading must fail loudly."""

from extractkit import hookimpl


@hookimpl
def register_extractor(register):  # misspelt on purpose: the spec is register_extractors
    raise AssertionError("never called")
