"""The plugin manager: loads builtins, entry points and ``--plugin`` modules in that order.

pluggy calls the most recently registered plugin first, so a third-party plugin
answers before a builtin. The manager can be rebuilt from a :class:`PluginSpec`,
which pickles, so a child process gets the same plugins as its parent.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, Callable, Iterable, Mapping

import pluggy

from . import hookspecs
from .errors import ConfigError, NoPluginAnswered, PluginError
from .interfaces import Extractor, Sink, Source
from .models import ExtractOptions

ENTRY_POINT_GROUP = "extractkit"
DISABLE_ENV = "EXTRACTKIT_DISABLE_PLUGINS"
LOAD_ENV = "EXTRACTKIT_LOAD_PLUGINS"
TRACE_ENV = "EXTRACTKIT_TRACE_PLUGINS"

BUILTIN = "builtin"
ENTRY_POINT = "entrypoint"
EXPLICIT = "explicit"

#: Builtin plugin modules, loaded first in this order.
BUILTIN_PLUGINS: tuple[str, ...] = (
    "extractkit_plugins.type_detection",
    "extractkit_plugins.local.folder_source",
    "extractkit_plugins.aws.s3_source",
    "extractkit_plugins.aws.sqs_source",
    "extractkit_plugins.text.text_extractor",
    "extractkit_plugins.text.warm_up",
    "extractkit_plugins.office.docx_extractor",
    "extractkit_plugins.office.xlsx_extractor",
    "extractkit_plugins.office.pptx_extractor",
    "extractkit_plugins.office.encrypted_ooxml_extractor",
    "extractkit_plugins.legacy_office.doc_extractor",
    "extractkit_plugins.legacy_office.xls_extractor",
    "extractkit_plugins.legacy_office.ppt_extractor",
    "extractkit_plugins.opendocument.odf_extractor",
    "extractkit_plugins.pdf.pdf_extractor",
    "extractkit_plugins.pdf.pdfplumber_extractor",
    "extractkit_plugins.image.image_extractor",
    "extractkit_plugins.mail.eml_extractor",
    "extractkit_plugins.mail.msg_extractor",
    "extractkit_plugins.markup.rtf_extractor",
    "extractkit_plugins.markup.epub_extractor",
    "extractkit_plugins.markup.xml_extractor",
    "extractkit_plugins.local.jsonl_sink",
    "extractkit_plugins.local.local_index_sink",
    "extractkit_plugins.opensearch.sink",
)


@dataclass(frozen=True)
class Registration:
    """A plugin class together with where it came from."""

    name: str
    cls: type
    plugin: str
    origin: str
    version: str


@dataclass(frozen=True)
class PluginInfo:
    """One loaded plugin, for ``extractkit plugins``."""

    name: str
    origin: str
    version: str
    hooks: tuple[str, ...]


@dataclass(frozen=True)
class PluginSpec:
    """Everything needed to rebuild the same plugin set (in a child process, say)."""

    builtins: bool = True
    entry_points: bool = True
    extra: tuple[str, ...] = ()
    disabled: tuple[str, ...] | None = None
    allowed: tuple[str, ...] | None = None
    environ: Mapping[str, str] = field(default_factory=dict)


def _split_env(value: str | None) -> tuple[str, ...] | None:
    if value is None:
        return None
    return tuple(part.strip() for part in value.split(",") if part.strip())


def _extractkit_version() -> str:
    try:
        return importlib.metadata.version("extractkit")
    except importlib.metadata.PackageNotFoundError:
        return "0+unknown"


class Plugins:
    """The loaded plugin set, with typed access to what plugins registered."""

    def __init__(self, spec: PluginSpec | None = None) -> None:
        self.spec = spec or PluginSpec()
        self.pm = pluggy.PluginManager(hookspecs.PROJECT_NAME)
        self.pm.add_hookspecs(hookspecs)
        self._info: dict[str, tuple[str, str]] = {}
        env = {**os.environ, **self.spec.environ}
        self._disabled = set(
            self.spec.disabled if self.spec.disabled is not None else _split_env(env.get(DISABLE_ENV)) or ()
        )
        self._allowed = self.spec.allowed if self.spec.allowed is not None else _split_env(env.get(LOAD_ENV))
        self._tracing = bool(env.get(TRACE_ENV))
        if self._tracing:
            self.pm.trace.root.setwriter(lambda message: sys.stderr.write(message))
            self.pm.enable_tracing()
        if self.spec.builtins:
            self._load_builtins()
        if self.spec.entry_points:
            self._load_entry_points()
        for target in self.spec.extra:
            self.load_plugin(target)
        self._check()
        self.extractors = self._collect("register_extractors", Extractor)
        self.sources = self._collect("register_sources", Source)
        self.sinks = self._collect("register_sinks", Sink)

    # -- loading ---------------------------------------------------------

    def _is_blocked(self, name: str) -> bool:
        return name in self._disabled or name.rsplit(".", 1)[-1] in self._disabled

    def _register(self, module: ModuleType, name: str, origin: str, version: str) -> None:
        try:
            self.pm.register(module, name=name)
        except ValueError as exc:
            raise PluginError(f"plugin '{name}' could not be registered: {exc}") from exc
        self._info[name] = (origin, version)

    def _load_builtins(self) -> None:
        version = _extractkit_version()
        for module_name in BUILTIN_PLUGINS:
            if self._is_blocked(module_name):
                continue
            module = importlib.import_module(module_name)
            self._register(module, module_name, BUILTIN, version)

    def _load_entry_points(self) -> None:
        for entry_point in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
            if self._is_blocked(entry_point.name):
                continue
            if self._allowed is not None and entry_point.name not in self._allowed:
                continue
            try:
                module = entry_point.load()
            except Exception as exc:  # a broken third-party package must say which one
                raise PluginError(
                    f"plugin '{entry_point.name}' ({entry_point.value}) failed to import: {exc}; "
                    f"fix or uninstall it, or set {DISABLE_ENV}={entry_point.name}"
                ) from exc
            dist = entry_point.dist
            version = dist.version if dist is not None else ""
            self._register(module, entry_point.name, ENTRY_POINT, version)

    def load_plugin(self, target: str) -> None:
        """Load a plugin from a dotted module name or a path to a ``.py`` file."""
        path = Path(target)
        try:
            if target.endswith(".py") or path.exists():
                if not path.is_file():
                    raise PluginError(f"plugin file '{target}' does not exist; check the --plugin path")
                module_name = f"extractkit_local_plugin_{path.stem}"
                spec = importlib.util.spec_from_file_location(module_name, path)
                if spec is None or spec.loader is None:
                    raise PluginError(f"plugin file '{target}' cannot be imported")
                module = importlib.util.module_from_spec(spec)
                sys.modules[module_name] = module
                spec.loader.exec_module(module)
            else:
                module = importlib.import_module(target)
        except PluginError:
            raise
        except Exception as exc:
            raise PluginError(f"plugin '{target}' failed to import: {exc}") from exc
        self._register(module, target, EXPLICIT, str(getattr(module, "__version__", "")))

    def _check(self) -> None:
        try:
            self.pm.check_pending()
        except pluggy.PluginValidationError as exc:
            name = self.pm.get_name(exc.plugin) or repr(exc.plugin)
            raise PluginError(
                f"plugin '{name}' has a hook that matches no spec ({exc}); "
                "check its spelling against extractkit.hookspecs"
            ) from exc

    def _collect(self, hook_name: str, base: type) -> dict[str, Registration]:
        registered: dict[str, Registration] = {}
        hook = getattr(self.pm.hook, hook_name)
        # get_hookimpls() is in registration order; walk it in call order (last first).
        for impl in reversed(hook.get_hookimpls()):
            origin, version = self._info.get(impl.plugin_name, (EXPLICIT, ""))

            def register(
                cls: type, _plugin: str = impl.plugin_name, _origin: str = origin, _version: str = version
            ) -> None:
                if not (isinstance(cls, type) and issubclass(cls, base)):
                    raise PluginError(f"plugin '{_plugin}' registered {cls!r}, which is not a {base.__name__} subclass")
                name = getattr(cls, "name", None)
                if not isinstance(name, str) or not name:
                    raise PluginError(f"plugin '{_plugin}' registered {cls.__name__} without a 'name'")
                if name in registered:
                    other = registered[name].plugin
                    raise PluginError(
                        f"{base.__name__.lower()} name '{name}' is registered by both '{other}' and '{_plugin}'; "
                        f"rename one or disable a plugin with {DISABLE_ENV}"
                    )
                registered[name] = Registration(name, cls, _plugin, _origin, _version)

            kwargs: dict[str, Callable[[type], None]] = {"register": register}
            if self._tracing:
                self.pm.trace.root.get("hook")(f"{hook_name} [plugin {impl.plugin_name}]")
            impl.function(*[kwargs[arg] for arg in impl.argnames])
        return registered

    # -- access ------------------------------------------------------------

    def info(self) -> list[PluginInfo]:
        """Every loaded plugin with its origin, version and the hooks it implements."""
        result = []
        for name, plugin in self.pm.list_name_plugin():
            origin, version = self._info.get(name, (EXPLICIT, ""))
            hooks = tuple(sorted(caller.name for caller in self.pm.get_hookcallers(plugin) or ()))
            result.append(PluginInfo(name, origin, version, hooks))
        return result

    def detect_mime_type(self, path: Path, name: str) -> str:
        """Ask the plugins for the file's MIME type."""
        answer = self.pm.hook.detect_mime_type(path=path, name=name)
        if answer is None:
            raise NoPluginAnswered("no plugin detects MIME types; enable extractkit_plugins.type_detection")
        return str(answer)

    def make_source(self, name: str, options: Mapping[str, Any]) -> Source:
        """Instantiate the source registered under ``name``."""
        return self._make(self.sources, "source", name, options)

    def make_sink(self, name: str, options: Mapping[str, Any]) -> Sink:
        """Instantiate the sink registered under ``name``."""
        return self._make(self.sinks, "sink", name, options)

    def make_extractor(self, name: str, options: ExtractOptions | None = None) -> Extractor:
        """Instantiate the extractor registered under ``name``."""
        if name not in self.extractors:
            raise ConfigError("extract.prefer", f"no extractor named '{name}'; see 'extractkit plugins'")
        return self.extractors[name].cls(options or ExtractOptions())

    @staticmethod
    def _make(table: Mapping[str, Registration], kind: str, name: str, options: Mapping[str, Any]) -> Any:
        if name not in table:
            known = ", ".join(sorted(table)) or "none"
            raise ConfigError(f"{kind}.type", f"unknown {kind} '{name}' (installed: {known})")
        return table[name].cls(options)


def load_plugins(*, extra: Iterable[str] = (), builtins: bool = True, entry_points: bool = True) -> Plugins:
    """Load the plugin set: builtins, then entry points, then ``extra`` modules or files."""
    return Plugins(PluginSpec(builtins=builtins, entry_points=entry_points, extra=tuple(extra)))
