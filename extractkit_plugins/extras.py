"""Optional extras: import a family's library, or fail with one line naming the extra to install."""

from __future__ import annotations

import importlib
from types import ModuleType

from extractkit.errors import ConfigError, MissingExtra


def require(module: str, extra: str, purpose: str) -> ModuleType:
    """Import ``module``; raise :class:`MissingExtra` ("install extractkit[extra] to purpose") if it is absent."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingExtra(extra, purpose) from exc


def require_for_config(module: str, extra: str, key: str, purpose: str) -> ModuleType:
    """Like :func:`require`, for a configured plugin: the error is a config error on ``key``."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ConfigError(key, f"install extractkit[{extra}] to {purpose}") from exc
