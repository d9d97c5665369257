"""A plugin whose ``warm_up`` fails, as one with a broken optional library would."""

from __future__ import annotations

from extractkit import hookimpl


@hookimpl
def warm_up(register_sample):
    """Fail before registering anything."""
    raise RuntimeError("the warm-broken library is broken")
