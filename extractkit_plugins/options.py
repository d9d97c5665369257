"""Reading a plugin's options with errors that name the config key."""

from __future__ import annotations

from typing import Any, Iterable, Mapping

from extractkit.errors import ConfigError


def reject_unknown(section: str, options: Mapping[str, Any], known: Iterable[str]) -> None:
    """Raise :class:`ConfigError` for an option the plugin does not understand."""
    known = set(known) | {"type"}
    for key in options:
        if key not in known:
            raise ConfigError(f"{section}.{key}", f"unknown option (known: {', '.join(sorted(known - {'type'}))})")


def required_str(section: str, options: Mapping[str, Any], key: str) -> str:
    """Return a required, non-empty string option."""
    value = options.get(key)
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{section}.{key}", "is required and must be a non-empty string")
    return value
