"""Reading the AWS plugins' numeric and list options, which may arrive as strings from the environment."""

from __future__ import annotations

import os
from typing import Any, Mapping

from extractkit.errors import ConfigError

#: The seed's default size limit, in MB, when neither the option nor MAX_FILE_SIZE_MB sets it.
DEFAULT_MAX_FILE_SIZE_MB = 100.0


def int_option(
    section: str,
    options: Mapping[str, Any],
    key: str,
    default: int,
    *,
    minimum: int,
    maximum: int,
    variable: str = "",
) -> int:
    """An integer option within ``[minimum, maximum]``; ``variable`` names an environment fallback."""
    raw: Any = options.get(key)
    source = f"{section}.{key}"
    if raw is None and variable and os.environ.get(variable, "").strip():
        raw, source = os.environ[variable], variable
    if raw is None:
        return default
    try:
        if isinstance(raw, bool):
            raise ValueError
        value = int(str(raw).strip()) if isinstance(raw, str) else int(raw)
    except (TypeError, ValueError):
        raise ConfigError(f"{section}.{key}", f"expected a whole number, got {raw!r} (from {source})") from None
    if not minimum <= value <= maximum:
        raise ConfigError(f"{section}.{key}", f"must be between {minimum} and {maximum}, got {value} (from {source})")
    return value


def max_file_size_bytes(section: str, options: Mapping[str, Any]) -> int:
    """The size limit: option ``max_file_size_mb``, else ``MAX_FILE_SIZE_MB``, else 100 MB."""
    raw: Any = options.get("max_file_size_mb")
    source = f"{section}.max_file_size_mb"
    if raw is None and os.environ.get("MAX_FILE_SIZE_MB", "").strip():
        raw, source = os.environ["MAX_FILE_SIZE_MB"], "MAX_FILE_SIZE_MB"
    if raw is None:
        raw = DEFAULT_MAX_FILE_SIZE_MB
    try:
        if isinstance(raw, bool):
            raise ValueError
        megabytes = float(raw)
    except (TypeError, ValueError):
        raise ConfigError(
            f"{section}.max_file_size_mb", f"expected a number of MB, got {raw!r} (from {source})"
        ) from None
    if megabytes <= 0:
        raise ConfigError(f"{section}.max_file_size_mb", f"must be greater than 0, got {megabytes} (from {source})")
    return int(megabytes * 1024 * 1024)


def str_list_option(section: str, options: Mapping[str, Any], key: str) -> list[str]:
    """A list of strings, given as a TOML list or a comma-separated string."""
    raw = options.get(key)
    if raw is None:
        return []
    if isinstance(raw, str):
        return [part.strip() for part in raw.split(",") if part.strip()]
    if isinstance(raw, (list, tuple)) and all(isinstance(part, str) for part in raw):
        return [part.strip() for part in raw if part.strip()]
    raise ConfigError(f"{section}.{key}", f"expected a list of strings, got {raw!r}")


def optional_str(section: str, options: Mapping[str, Any], key: str) -> str:
    """A string option that may be absent (then ``""``)."""
    raw = options.get(key)
    if raw is None:
        return ""
    if not isinstance(raw, str):
        raise ConfigError(f"{section}.{key}", f"expected a string, got {raw!r}")
    return raw.strip()
