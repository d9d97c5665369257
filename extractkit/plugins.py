"""The plugin manager: loads builtins, entry points and ``--plugin`` modules in that order.

pluggy calls the most recently registered plugin first, so a third-party plugin
answers before a builtin. The manager can be rebuilt from a :class:`PluginSpec`,
which pickles, so a child process gets the same plugins as its parent.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import logging
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

log = logging.getLogger("extractkit.plugins")

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
    "extractkit_plugins.archive.zip_extractor",
    "extractkit_plugins.archive.tar_extractor",
    "extractkit_plugins.markup.rtf_extractor",
    "extractkit_plugins.markup.epub_extractor",
    "extractkit_plugins.markup.xml_extractor",
    "extractkit_plugins.local.jsonl_sink",
    "extractkit_plugins.local.local_index_sink",
    "extractkit_plugins.opensearch.sink",
)


#: The OCR engines of the plugin set loaded last in this process (see :func:`ocr_engine_registrations`).
_ACTIVE_OCR_ENGINES: dict[str, Registration] = {}


def ocr_engine_registrations() -> Mapping[str, Registration]:
    """The OCR engines registered by the plugin set loaded last in this process (empty before any)."""
    return dict(_ACTIVE_OCR_ENGINES)


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
    #: Skip (and list in :attr:`Plugins.broken`) a plugin that fails to load, instead of raising.
    tolerate_broken: bool = False

    def __post_init__(self) -> None:
        # A child process starts in another working directory: resolve file paths here, in the caller's.
        object.__setattr__(self, "extra", tuple(_resolve_plugin_target(target) for target in self.extra))


def is_plugin_path(target: str) -> bool:
    """True when ``target`` names a file or folder (``x.py``, ``./x``, ``a/b``), False for a module name."""
    return target.endswith(".py") or "/" in target or os.sep in target or target.startswith(".")


def _resolve_plugin_target(target: str) -> str:
    return str(Path(target).absolute()) if is_plugin_path(target) else target


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
        #: Plugins skipped because they failed to load (only with ``spec.tolerate_broken``): name -> error.
        self.broken: dict[str, str] = {}
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
            self._guarded(target, lambda target=target: self.load_plugin(target))
        self._warn_unknown_names()
        self._check()
        self.extractors = self._collect("register_extractors", Extractor)
        self.sources = self._collect("register_sources", Source)
        self.sinks = self._collect("register_sinks", Sink)
        # OCR engines are looked up by the extractors that OCR, in whatever process runs them.
        self.ocr_engines = self._collect("register_ocr_engines", object)
        _ACTIVE_OCR_ENGINES.clear()
        _ACTIVE_OCR_ENGINES.update(self.ocr_engines)

    # -- loading ---------------------------------------------------------

    def _is_blocked(self, name: str) -> bool:
        return name in self._disabled or name.rsplit(".", 1)[-1] in self._disabled

    def _register(self, module: ModuleType, name: str, origin: str, version: str) -> None:
        if self.pm.is_registered(module):
            # The same module through two routes (an entry point and --plugin): load it once.
            log.warning(
                "plugin '%s' is already loaded as '%s'; loading it again does nothing", name, self.pm.get_name(module)
            )
            return
        try:
            self.pm.register(module, name=name)
        except pluggy.PluginValidationError as exc:
            raise PluginError(f"plugin '{name}' has an invalid hook: {_one_line(exc)}") from exc
        except ValueError as exc:
            raise PluginError(f"plugin '{name}' could not be registered: {_one_line(exc)}") from exc
        self._info[name] = (origin, version)

    def _guarded(self, name: str, load: Callable[[], None]) -> None:
        """Run one plugin's loading step; with ``tolerate_broken``, record its error instead of raising."""
        try:
            load()
        except PluginError as exc:
            if not self.spec.tolerate_broken:
                raise
            self.broken[name] = str(exc)

    def _load_builtins(self) -> None:
        version = _extractkit_version()
        for module_name in BUILTIN_PLUGINS:
            if self._is_blocked(module_name):
                self.pm.set_blocked(module_name)
                continue
            self._guarded(
                module_name,
                lambda name=module_name: self._register(importlib.import_module(name), name, BUILTIN, version),
            )

    def _load_entry_points(self) -> None:
        for entry_point in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
            if self._is_blocked(entry_point.name):
                self.pm.set_blocked(entry_point.name)
                continue
            if self._allowed is not None and entry_point.name not in self._allowed:
                continue
            self._guarded(entry_point.name, lambda entry_point=entry_point: self._load_entry_point(entry_point))

    def _load_entry_point(self, entry_point: importlib.metadata.EntryPoint) -> None:
        try:
            module = entry_point.load()
        except Exception as exc:  # a broken third-party package must say which one
            raise PluginError(
                f"plugin '{entry_point.name}' ({entry_point.value}) failed to import: {_one_line(exc)}; "
                f"fix or uninstall it, or set {DISABLE_ENV}={entry_point.name}"
            ) from exc
        dist = entry_point.dist
        version = dist.version if dist is not None else ""
        self._register(module, entry_point.name, ENTRY_POINT, version)

    def load_plugin(self, target: str) -> None:
        """Load a plugin from a dotted module name, a path to a ``.py`` file, or a package folder.

        A name without ``/`` and not ending in ``.py`` is always imported as a module, even when
        a folder of that name sits in the working directory (a plugin's own source tree).
        """
        try:
            if is_plugin_path(target):
                module = self._module_from_path(Path(target))
                if module is None:
                    return
            else:
                module = _import_module(target)
        except PluginError:
            raise
        except Exception as exc:
            raise PluginError(f"plugin '{target}' failed to import: {_one_line(exc)}") from exc
        self._register(module, target, EXPLICIT, str(getattr(module, "__version__", "")))

    def _module_from_path(self, path: Path) -> ModuleType | None:
        """Import a ``.py`` file or a package folder; None when that file is already loaded."""
        file = path / "__init__.py" if path.is_dir() else path
        if not file.is_file():
            raise PluginError(f"plugin file '{path}' does not exist; check the --plugin path")
        for name, plugin in self.pm.list_name_plugin():
            loaded = getattr(plugin, "__file__", None)
            if loaded and Path(loaded).resolve() == file.resolve():
                log.warning("plugin file '%s' is already loaded as '%s'; loading it again does nothing", path, name)
                return None
        module_name = f"extractkit_local_plugin_{(path if path.is_dir() else path.with_suffix('')).name}"
        locations = [str(path)] if path.is_dir() else None
        spec = importlib.util.spec_from_file_location(module_name, file, submodule_search_locations=locations)
        if spec is None or spec.loader is None:
            raise PluginError(f"plugin file '{path}' cannot be imported")
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        spec.loader.exec_module(module)
        return module

    def _check(self) -> None:
        while True:
            try:
                self.pm.check_pending()
                return
            except pluggy.PluginValidationError as exc:
                name = self.pm.get_name(exc.plugin) or repr(exc.plugin)
                error = PluginError(
                    f"plugin '{name}' has a hook that matches no spec ({_one_line(exc)}); "
                    "check its spelling against extractkit.hookspecs"
                )
                if not self.spec.tolerate_broken:
                    raise error from exc
                self.broken[name] = str(error)
                self.pm.unregister(exc.plugin)

    def _warn_unknown_names(self) -> None:
        """Say so when EXTRACTKIT_DISABLE_PLUGINS or EXTRACTKIT_LOAD_PLUGINS names no installed plugin."""
        known = {ep.name for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)}
        known |= {name for module in BUILTIN_PLUGINS for name in (module, module.rsplit(".", 1)[-1])}
        for variable, names in ((DISABLE_ENV, self._disabled), (LOAD_ENV, self._allowed or ())):
            for name in sorted(set(names) - known):
                log.warning(
                    "%s names '%s', which is no installed plugin; see 'extractkit plugins' for the names",
                    variable,
                    name,
                )

    def _collect(self, hook_name: str, base: type) -> dict[str, Registration]:
        registered: dict[str, Registration] = {}
        hook = getattr(self.pm.hook, hook_name)
        # get_hookimpls() is in registration order; walk it in call order (last first).
        for impl in reversed(hook.get_hookimpls()):
            origin, version = self._info.get(impl.plugin_name, (EXPLICIT, ""))
            if impl.hookwrapper or getattr(impl, "wrapper", False):
                error = PluginError(
                    f"plugin '{impl.plugin_name}' implements {hook_name} as a wrapper; "
                    "register hooks are plain calls: drop hookwrapper=True / wrapper=True"
                )
                if not self.spec.tolerate_broken:
                    raise error
                self.broken[impl.plugin_name] = str(error)
                continue

            def register(
                cls: type, _plugin: str = impl.plugin_name, _origin: str = origin, _version: str = version
            ) -> None:
                if not (isinstance(cls, type) and issubclass(cls, base)):
                    raise PluginError(f"plugin '{_plugin}' registered {cls!r}, which is not a {base.__name__} subclass")
                name = getattr(cls, "name", None)
                if not isinstance(name, str) or not name:
                    raise PluginError(f"plugin '{_plugin}' registered {cls.__name__} without a 'name'")
                if base is Extractor:
                    _check_mime_types(_plugin, cls)
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
            self._guarded(impl.plugin_name, lambda impl=impl, kwargs=kwargs: _call_register_hook(impl, kwargs))
        return registered

    # -- access ------------------------------------------------------------

    def info(self) -> list[PluginInfo]:
        """Every loaded plugin with its origin, version and the hooks it implements."""
        result = []
        for name, plugin in self.pm.list_name_plugin():
            if plugin is None:  # blocked (EXTRACTKIT_DISABLE_PLUGINS)
                continue
            origin, version = self._info.get(name, (EXPLICIT, ""))
            hooks = tuple(sorted(caller.name for caller in self.pm.get_hookcallers(plugin) or ()))
            result.append(PluginInfo(name, origin, version, hooks))
        return result

    def detect_mime_type(self, path: Path, name: str) -> str:
        """Ask the plugins for the file's MIME type."""
        if not self.pm.hook.detect_mime_type.get_hookimpls():
            builtin = "extractkit_plugins.type_detection"
            why = f"it is disabled by {DISABLE_ENV}" if self._is_blocked(builtin) else "enable it"
            raise NoPluginAnswered(f"no plugin detects MIME types; the builtin {builtin} does ({why})")
        answer = self.pm.hook.detect_mime_type(path=path, name=name)
        # Every detector declined: the type is unknown, which is the document's problem, not the setup's.
        return "application/octet-stream" if answer is None else str(answer)

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


def _one_line(error: BaseException) -> str:
    """An error's message on one line, without pluggy's dump of every registered plugin."""
    text = " ".join(str(error).split())
    return text if len(text) <= 300 else text[:297] + "..."


def _import_module(target: str) -> ModuleType:
    try:
        return importlib.import_module(target)
    except ModuleNotFoundError as exc:
        if exc.name == target.split(".")[0] and Path(f"{target}.py").is_file():
            raise PluginError(f"no module named '{target}'; to load the file, pass --plugin ./{target}.py") from exc
        raise


def _check_mime_types(plugin: str, cls: type) -> None:
    mime_types = getattr(cls, "mime_types", None)
    if not isinstance(mime_types, (tuple, list)) or not mime_types:
        raise PluginError(
            f"plugin '{plugin}': extractor '{cls.name}' has no mime_types; set a tuple such as ('text/x-note',)"
        )
    bad = [m for m in mime_types if not isinstance(m, str) or "/" not in m]
    if bad:
        raise PluginError(
            f"plugin '{plugin}': extractor '{cls.name}' has mime_types that are not 'type/subtype': {bad!r}"
        )


def _call_register_hook(impl: Any, kwargs: Mapping[str, Callable[[type], None]]) -> None:
    """Call one plugin's register_* hook; its own error names the plugin."""
    try:
        impl.function(*[kwargs[arg] for arg in impl.argnames])
    except PluginError:
        raise
    except Exception as exc:
        raise PluginError(f"plugin '{impl.plugin_name}' failed in {impl.function.__name__}: {_one_line(exc)}") from exc


def load_plugins(*, extra: Iterable[str] = (), builtins: bool = True, entry_points: bool = True) -> Plugins:
    """Load the plugin set: builtins, then entry points, then ``extra`` modules or files."""
    return Plugins(PluginSpec(builtins=builtins, entry_points=entry_points, extra=tuple(extra)))
