"""Worker configuration: a TOML file, overridden by the seed's environment variables.

Every key can come from the file, from a seed variable (``MAX_WORKERS``,
``SQS_QUEUE_URL`` …) or from ``EXTRACTKIT__SECTION__KEY``. Errors name the key
and, when it came from the environment, the variable.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

from extractkit.errors import ConfigError
from extractkit.models import ExtractOptions

#: Seed environment variable -> (section, key).
SEED_VARIABLES: dict[str, tuple[str, str]] = {
    "AWS_REGION": ("aws", "region"),
    "S3_BUCKET": ("source", "bucket"),
    "SQS_QUEUE_URL": ("source", "queue_url"),
    "OPENSEARCH_ENDPOINT": ("sink", "endpoint"),
    "OPENSEARCH_INDEX": ("sink", "index"),
    "LOG_LEVEL": ("worker", "log_level"),
    "TEMP_DIR": ("worker", "temp_dir"),
    "MAX_FILE_SIZE_MB": ("worker", "max_file_size_mb"),
    "MAX_WORKERS": ("worker", "max_workers"),
    "PROCESSING_TIMEOUT": ("worker", "processing_timeout"),
    "SQS_VISIBILITY_TIMEOUT": ("worker", "sqs_visibility_timeout"),
    "SQS_DLQ_URL": ("source", "dlq_url"),
    "HEALTH_PORT": ("worker", "health_port"),
    "DRAIN_TIMEOUT": ("worker", "drain_timeout"),
    "LIFECYCLE_HOOK_NAME": ("worker", "lifecycle_hook_name"),
}
#: Seed variables that belong to particular source or sink plugins; they are ignored when the
#: config file chooses another plugin for that section.
SEED_VARIABLE_PLUGINS: dict[str, tuple[str, ...]] = {
    "S3_BUCKET": ("s3", "sqs"),
    "SQS_QUEUE_URL": ("sqs",),
    "SQS_DLQ_URL": ("sqs",),
    "OPENSEARCH_ENDPOINT": ("opensearch",),
    "OPENSEARCH_INDEX": ("opensearch",),
}
GENERIC_PREFIX = "EXTRACTKIT__"
#: Sources that take the worker's size limit, visibility timeout and region as options.
AWS_SOURCES = ("sqs", "s3")
SECTIONS = ("source", "sink", "extract", "worker", "aws", "plugins")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def _as_int(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError("expected a whole number")
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError(f"expected a whole number, got {value!r}")
        return int(value)
    if isinstance(value, str):
        value = value.strip()
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ValueError(f"expected a whole number, got {value!r}") from None


def _as_float(value: Any) -> float:
    if isinstance(value, bool):
        raise ValueError("expected a number")
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ValueError(f"expected a number, got {value!r}") from None


def _as_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"expected true or false, got {value!r}")


def _as_str(value: Any) -> str:
    if not isinstance(value, (str, int, float)) or isinstance(value, bool):
        raise ValueError(f"expected a string, got {value!r}")
    return str(value)


def _as_list(value: Any) -> list[str]:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    raise ValueError(f"expected a list of strings, got {value!r}")


def _positive(convert: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        number = convert(value)
        if number <= 0:
            raise ValueError(f"must be greater than 0, got {number}")
        return number

    return check


def _non_negative(convert: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        number = convert(value)
        if number < 0:
            raise ValueError(f"must be 0 (off) or more, got {number}")
        return number

    return check


def _progress_mode(value: Any) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    text = _as_str(value).strip().lower()
    if text == "auto":
        return "auto"
    try:
        return "on" if _as_bool(text) else "off"
    except ValueError:
        raise ValueError(f"expected auto, on or off, got {value!r}") from None


def _auto_or_count(value: Any) -> int:
    if isinstance(value, str) and value.strip().lower() == "auto":
        return -1
    number = _as_int(value)
    if number < -1:
        raise ValueError(f"expected auto or a count of 0 or more, got {number}")
    return number


def _port(value: Any) -> int:
    number = _as_int(value)
    if not -1 <= number <= 65535:
        raise ValueError(f"expected a TCP port (0 = off), got {number}")
    return number


def _log_level(value: Any) -> str:
    level = _as_str(value).upper()
    if level not in LOG_LEVELS:
        raise ValueError(f"expected one of {', '.join(LOG_LEVELS)}, got {value!r}")
    return level


#: Known keys of the fixed sections, with their converter and default.
WORKER_KEYS: dict[str, tuple[Callable[[Any], Any], Any]] = {
    "max_workers": (_positive(_as_int), 4),
    "processing_timeout": (_positive(_as_float), 300.0),
    "memory_limit_mb": (_positive(_as_int), 2048),
    "recycle_after": (_positive(_as_int), 50),
    "cpu_seconds": (_non_negative(_as_float), 0.0),
    "seconds_per_page": (_non_negative(_as_float), 0.0),
    "max_file_size_mb": (_positive(_as_float), 100.0),
    "temp_dir": (_as_str, "/tmp/file-processor"),
    "failure_log": (_as_str, ""),
    "isolation": (_as_bool, True),
    "log_level": (_log_level, "INFO"),
    "sqs_visibility_timeout": (_positive(_as_int), 600),
    "progress": (_progress_mode, "auto"),
    "retry_attempts": (_positive(_as_int), 4),
    "health_port": (_port, -1),
    "health_host": (_as_str, "127.0.0.1"),
    "drain_timeout": (_positive(_as_float), 120.0),
    "lifecycle_hook_name": (_as_str, ""),
    "instance_events": (_as_bool, True),
    "instance_event_interval": (_positive(_as_float), 5.0),
    "metrics_interval": (_positive(_as_float), 60.0),
    "metrics": (_progress_mode, "auto"),
    "prefetch": (_auto_or_count, -1),
}
#: ``[extract]`` keys whose name differs from their :class:`ExtractOptions` field.
EXTRACT_ALIASES = {"preferred_extractors": "prefer", "disabled_extractors": "disable"}
#: ExtractOptions fields set from other sections (``max_file_size`` from ``worker.max_file_size_mb``).
EXTRACT_DERIVED = {"max_file_size"}
#: Fields whose value may be 0 (off).
EXTRACT_MAY_BE_ZERO = {"max_archive_ratio"}


def _as_table(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ValueError(f"expected a table, e.g. [extract.extra], got {value!r}")
    return dict(value)


def _converter_for(annotation: str, may_be_zero: bool) -> Callable[[Any], Any]:
    number = _non_negative if may_be_zero else _positive
    return {
        "str": _as_str,
        "int": number(_as_int),
        "float": number(_as_float),
        "bool": _as_bool,
        "tuple[str, ...]": _as_list,
        "Mapping[str, Any]": _as_table,
    }[annotation]


def _extract_keys() -> dict[str, tuple[Callable[[Any], Any], Any]]:
    """The ``[extract]`` keys, derived from :class:`ExtractOptions` so defaults live in one place."""
    keys = {}
    for option in dataclasses.fields(ExtractOptions):
        if option.name in EXTRACT_DERIVED:
            continue
        default = option.default if option.default is not dataclasses.MISSING else option.default_factory()
        if isinstance(default, tuple):
            default = list(default)
        convert = _converter_for(str(option.type), option.name in EXTRACT_MAY_BE_ZERO)
        keys[EXTRACT_ALIASES.get(option.name, option.name)] = (convert, default)
    return keys


EXTRACT_KEYS: dict[str, tuple[Callable[[Any], Any], Any]] = _extract_keys()
AWS_KEYS: dict[str, tuple[Callable[[Any], Any], Any]] = {
    "region": (_as_str, ""),
    "endpoint_url": (_as_str, ""),
}
PLUGIN_KEYS: dict[str, tuple[Callable[[Any], Any], Any]] = {
    "load": (_as_list, []),
}
FIXED_SECTIONS = {"worker": WORKER_KEYS, "extract": EXTRACT_KEYS, "aws": AWS_KEYS, "plugins": PLUGIN_KEYS}


@dataclass(frozen=True)
class WorkerConfig:
    """The validated configuration of one worker."""

    source: Mapping[str, Any]
    sink: Mapping[str, Any]
    extract: Mapping[str, Any]
    worker: Mapping[str, Any]
    aws: Mapping[str, Any]
    plugins: Mapping[str, Any]
    origin: Mapping[str, str] = field(default_factory=dict)

    @property
    def source_type(self) -> str:
        """The source plugin's name."""
        return str(self.source.get("type", "folder"))

    @property
    def sink_type(self) -> str:
        """The sink plugin's name."""
        return str(self.sink.get("type", "local_index"))

    def source_options(self) -> dict[str, Any]:
        """Options handed to the source plugin, with the worker and AWS settings the AWS sources need."""
        options = {k: v for k, v in self.source.items() if k != "type"}
        if self.source_type in AWS_SOURCES:
            options.setdefault("max_file_size_mb", self.worker["max_file_size_mb"])
            if self.aws["region"]:
                options.setdefault("region", self.aws["region"])
            if self.source_type == "sqs":
                options.setdefault("visibility_timeout", self.worker["sqs_visibility_timeout"])
        return options

    def sink_options(self) -> dict[str, Any]:
        """Options handed to the sink plugin."""
        return {k: v for k, v in self.sink.items() if k != "type"}

    def extract_options(self) -> ExtractOptions:
        """The extractor settings, as :class:`ExtractOptions`."""
        values: dict[str, Any] = {}
        for option in dataclasses.fields(ExtractOptions):
            key = EXTRACT_ALIASES.get(option.name, option.name)
            if key in self.extract:
                value = self.extract[key]
                values[option.name] = tuple(value) if isinstance(value, list) else value
        values["max_file_size"] = int(self.worker["max_file_size_mb"] * 1024 * 1024)
        return ExtractOptions(**values)


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError("--config", f"file '{path}' does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError("--config", f"'{path}' is not valid TOML: {exc}") from exc
    except OSError as exc:
        raise ConfigError("--config", f"'{path}' cannot be read: {exc.strerror or exc}") from exc


def _environment_overrides(environ: Mapping[str, str]) -> list[tuple[str, str, str, str]]:
    """(section, key, value, variable) for every variable that sets a config key."""
    overrides = []
    for variable, (section, key) in SEED_VARIABLES.items():
        if environ.get(variable, "") != "":
            overrides.append((section, key, environ[variable], variable))
    for variable, value in environ.items():
        if variable.startswith(GENERIC_PREFIX):
            parts = variable[len(GENERIC_PREFIX) :].lower().split("__")
            if len(parts) != 2 or parts[0] not in SECTIONS:
                raise ConfigError(variable, f"expected {GENERIC_PREFIX}<SECTION>__<KEY> with a section of {SECTIONS}")
            overrides.append((parts[0], parts[1], value, variable))
    return overrides


def _validate_section(name: str, raw: Mapping[str, Any], keys: Mapping[str, tuple], origin: Mapping[str, str]) -> dict:
    result = {}
    for key, value in raw.items():
        where = f" (from {origin[f'{name}.{key}']})" if f"{name}.{key}" in origin else ""
        if key not in keys:
            raise ConfigError(f"{name}.{key}", f"unknown key{where}; known keys: {', '.join(sorted(keys))}")
        convert = keys[key][0]
        try:
            result[key] = convert(value)
        except ValueError as exc:
            raise ConfigError(f"{name}.{key}", f"{exc}{where}") from exc
    for key, (_, default) in keys.items():
        result.setdefault(key, default)
    return result


def load_config(path: str | Path | None = None, environ: Mapping[str, str] | None = None) -> WorkerConfig:
    """Load and validate the configuration."""
    environ = os.environ if environ is None else environ
    raw: dict[str, Any] = _read_toml(Path(path)) if path else {}
    for section, value in raw.items():
        if section not in SECTIONS:
            raise ConfigError(section, f"unknown section; known sections: {', '.join(SECTIONS)}")
        if not isinstance(value, dict):
            raise ConfigError(section, "must be a table, e.g. [" + section + "]")
    sections: dict[str, dict[str, Any]] = {name: dict(raw.get(name, {})) for name in SECTIONS}
    origin: dict[str, str] = {}
    for section, key, value, variable in _environment_overrides(environ):
        plugins = SEED_VARIABLE_PLUGINS.get(variable)
        chosen = sections[section].get("type")
        if plugins and chosen and chosen not in plugins:
            # The file chose another plugin (a folder source, a local index): this variable is not for it.
            continue
        sections[section][key] = value
        origin[f"{section}.{key}"] = variable
    # With no source/sink type chosen, the seed's variables pick the AWS plugins.
    if "type" not in sections["source"] and "queue_url" in sections["source"]:
        sections["source"]["type"] = "sqs"
    elif "type" not in sections["source"] and "bucket" in sections["source"]:
        sections["source"]["type"] = "s3"
    if "type" not in sections["sink"] and "endpoint" in sections["sink"]:
        sections["sink"]["type"] = "opensearch"
    if not path and "type" not in sections["source"]:
        raise ConfigError("source.type", "no config file and no SQS_QUEUE_URL or S3_BUCKET; pass --config FILE")
    fixed = {name: _validate_section(name, sections[name], keys, origin) for name, keys in FIXED_SECTIONS.items()}
    return WorkerConfig(
        source=sections["source"],
        sink=sections["sink"],
        extract=fixed["extract"],
        worker=fixed["worker"],
        aws=fixed["aws"],
        plugins=fixed["plugins"],
        origin=origin,
    )
