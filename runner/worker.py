"""The worker: builds plugins, source, sink and executor from a config, runs the pipeline, reports.

SIGTERM or SIGINT (and, on EC2, a Spot interruption or scale-in notice) stops
taking new items; items in flight finish within ``drain_timeout`` and the rest
are released back to their source before the worker exits with status 0.
"""

from __future__ import annotations

import contextlib
import json
import logging
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any, Callable, Iterator

from extractkit import Pipeline
from extractkit.errors import ServiceUnreachable, TransientError
from extractkit.executors import InProcessExecutor
from extractkit.interfaces import Sink, Source
from extractkit.models import Outcome
from extractkit.plugins import Plugins, PluginSpec
from extractkit.retry import RetryPolicy
from extractkit.stats import RunStats

from .config import WorkerConfig
from .health import HealthServer, Readiness
from .instance_events import InstanceEventWatcher, complete_lifecycle_action
from .isolation import IsolatedExecutor, IsolationLimits
from .leftovers import RunFolder, sweep_leftovers
from .logs import metrics_record
from .progress import ProgressBar

log = logging.getLogger("extractkit.worker")

DEFAULT_QUEUE_HEALTH_PORT = 8080


class Worker:
    """One configured worker process."""

    def __init__(
        self,
        config: WorkerConfig,
        *,
        extra_plugins: tuple[str, ...] = (),
        metrics_mode: str | None = None,
        force: bool = False,
    ) -> None:
        self.config = config
        #: Where the EMF record goes: ``auto`` (standard output when it is not a terminal), ``on`` or ``off``.
        self.metrics_mode = metrics_mode or str(config.worker["metrics"])
        #: Extract every document again, even those the sink holds unchanged.
        self.force = force
        self.plugin_spec = PluginSpec(extra=tuple(config.plugins["load"]) + tuple(extra_plugins))
        self.plugins = Plugins(self.plugin_spec)
        self.options = config.extract_options()
        for name in (*self.options.preferred_extractors, *self.options.disabled_extractors):
            self.plugins.make_extractor(name)  # raises ConfigError for an unknown name
        if self.options.ocr_enabled:
            from .ocr_languages import check_ocr_languages

            check_ocr_languages(self.options.ocr_languages)  # a missing traineddata is exit 78 now, not N failures
        self.source: Source = self.plugins.make_source(config.source_type, config.source_options())
        self.sink: Sink = self.plugins.make_sink(config.sink_type, config.sink_options())
        self.stats = RunStats()
        self.pipeline: Pipeline | None = None
        self.stop_reason: str | None = None
        self._last_progress = time.monotonic()
        self._stopped = threading.Event()

    @property
    def temp_dir(self) -> Path:
        """TEMP_DIR, as an absolute path (children run in other working directories)."""
        return Path(self.config.worker["temp_dir"]).absolute()

    def validate(self) -> list[str]:
        """Check that the source, the sink and TEMP_DIR can work, changing nothing; return what was checked."""
        checked = []
        for role, component in (("source", self.source), ("sink", self.sink)):
            component.check()
            checked.append(f"{role} '{component.name}' ok")
        existing = self.temp_dir
        while not existing.exists() and existing != existing.parent:
            existing = existing.parent
        if not existing.is_dir() or not _writable(existing):
            raise ServiceUnreachable(f"TEMP_DIR '{self.temp_dir}' cannot be created or written (check {existing})")
        checked.append(f"temp_dir '{self.temp_dir}' ok")
        return checked

    def _prepare_sink(self) -> None:
        """Let the sink create its indices or tables now; one that cannot yet does it on its first write."""
        try:
            self.sink.prepare()
        except TransientError as error:
            log.warning("the %s sink is not set up yet (%s); it will be on its first write", self.sink.name, error)

    def _executor(self, temp_dir: Path) -> InProcessExecutor | IsolatedExecutor:
        """The extraction step: isolated child processes unless ``isolation = false``."""
        if not self.config.worker["isolation"]:
            return InProcessExecutor(self.plugins, self.options)
        worker = self.config.worker
        limits = IsolationLimits(
            timeout_seconds=worker["processing_timeout"],
            memory_mb=worker["memory_limit_mb"],
            cpu_seconds=worker["cpu_seconds"] or None,
            recycle_after=worker["recycle_after"],
            seconds_per_page=worker["seconds_per_page"] or None,
        )
        return IsolatedExecutor(self.plugin_spec, self.options, limits, worker["max_workers"], temp_dir=temp_dir)

    def health_port(self) -> int:
        """The configured health port; by default 8080 for a queue source and off for a finite one."""
        port = int(self.config.worker["health_port"])
        if port == -1:
            return DEFAULT_QUEUE_HEALTH_PORT if self.source.redelivers else 0
        return port

    def run(self, *, progress: bool = False, emit_metrics: bool = True) -> RunStats:
        """Process the source until it is drained or a stop arrives."""
        self.source.check()
        self.sink.check()
        self._prepare_sink()
        sweep_leftovers(self.temp_dir)
        run_folder = RunFolder(self.temp_dir)
        bar = ProgressBar(self.source.count_items()) if progress else None
        try:
            with self._executor(run_folder.path) as executor, self._services():
                self.pipeline = Pipeline(
                    self.source,
                    self.sink,
                    plugins=self.plugins,
                    options=self.options,
                    executor=executor,
                    concurrency=self.config.worker["max_workers"],
                    prefetch=None if self.config.worker["prefetch"] == -1 else self.config.worker["prefetch"],
                    temp_dir=run_folder.path,
                    failure_log=self.config.worker["failure_log"] or None,
                    retry=RetryPolicy(attempts=self.config.worker["retry_attempts"]),
                    stats=self.stats,
                    drain_timeout=self.config.worker["drain_timeout"],
                    skip_unchanged=not self.force,
                )
                with self._stop_on_signals():
                    log.info(
                        "worker ready: %d extraction slot(s), reading %s into %s",
                        self.config.worker["max_workers"],
                        self.config.source_type,
                        self.config.sink_type,
                        extra={"event": "ready"},
                    )
                    try:
                        self.pipeline.run(self._reporter(bar))
                    finally:
                        if bar is not None:
                            bar.finish()
                        self.source.close()
                        self.sink.close()
        finally:
            self._stopped.set()
            run_folder.close()
        log.info("run finished", extra={"event": "summary", **self.stats.snapshot()})
        if emit_metrics:
            self._emit_metrics()
        self._complete_lifecycle_hook()
        return self.stats

    # -- around the run ------------------------------------------------------

    @contextlib.contextmanager
    def _services(self) -> Iterator[None]:
        """Health endpoints, instance notices and periodic metrics, for as long as the run lasts."""
        health: HealthServer | None = None
        port = self.health_port()
        if port:
            readiness = Readiness(
                self._checks,
                lambda: self._last_progress,
                lambda: self.pipeline is not None and self.pipeline.in_flight() > 0,
                stuck_after=max(300.0, 2 * self.config.worker["processing_timeout"]),
            )
            health = HealthServer(self.config.worker["health_host"], port, readiness).start()
        self._watcher: InstanceEventWatcher | None = None
        if self.source.redelivers and self.config.worker["instance_events"]:
            watcher = InstanceEventWatcher(
                lambda notice: self.request_stop(f"by a {notice}"),
                interval=self.config.worker["instance_event_interval"],
            )
            if watcher.start():
                self._watcher = watcher
        metrics_thread = None
        if self.source.redelivers:
            metrics_thread = threading.Thread(target=self._metrics_loop, name="extractkit-metrics", daemon=True)
            metrics_thread.start()
        try:
            yield
        finally:
            if self._watcher is not None:
                self._watcher.stop()
            if health is not None:
                health.close()

    def _checks(self) -> None:
        self.source.check()
        self.sink.check()

    def _metrics_loop(self) -> None:
        while not self._stopped.wait(self.config.worker["metrics_interval"]):
            self._emit_metrics()

    def _emit_metrics(self) -> None:
        """Print the CloudWatch EMF record where it is consumed, and nowhere else.

        ``metrics_mode`` (the CLI's ``--metrics/--no-metrics``; default ``auto``): ``auto`` prints
        to standard output only when it is not a terminal (systemd, the CloudWatch agent); ``on``
        prints even to a terminal; ``off`` never. When the sink writes its data to standard output
        (JSONL ``path = "-"``), the record goes to standard error so it never mixes into the data.
        """
        mode = self.metrics_mode
        stream = sys.stderr if self.sink.writes_to_stdout else sys.stdout
        if mode == "off" or (mode == "auto" and stream.isatty()):
            return
        extra: dict[str, float] = {}
        age = self.source.oldest_in_flight_seconds()
        if age is not None or self.source.redelivers:
            extra["OldestInFlightAgeSeconds"] = round(age or 0.0, 3)
        record = metrics_record(self.stats.snapshot(), {"Service": "extractkit"}, extra)
        print(json.dumps(record), file=stream, flush=True)

    def _complete_lifecycle_hook(self) -> None:
        hook = self.config.worker["lifecycle_hook_name"]
        watcher = getattr(self, "_watcher", None)
        if not hook or watcher is None or watcher.instance_id is None or self.stop_reason is None:
            return
        try:
            complete_lifecycle_action(hook, watcher.instance_id, self.config.aws["region"] or None)
        except Exception as exc:  # the hook's own timeout then lets the instance go
            log.error("could not complete lifecycle hook %s: %s", hook, exc)

    def request_stop(self, reason: str) -> None:
        """Stop taking new items and drain (signal handlers and instance notices call this)."""
        if self.stop_reason is None:
            self.stop_reason = reason
        log.info("stop requested %s; finishing documents in flight", reason, extra={"event": "stop"})
        if self.pipeline is not None:
            self.pipeline.stop()

    def _reporter(self, bar: ProgressBar | None) -> Callable[[Outcome], None]:
        def report(outcome: Outcome) -> None:
            self._last_progress = time.monotonic()
            if bar is not None:
                bar.update(outcome)
            fields: dict[str, Any] = {"event": "document", "uri": outcome.uri, "seconds": round(outcome.seconds, 3)}
            if outcome.result is not None:
                fields.update(status="ok", pages=len(outcome.result.pages), extractor=outcome.result.extractor)
                log.info("document indexed", extra=fields)
            elif outcome.failure is not None:
                failure = outcome.failure
                fields.update(
                    status="failed",
                    reason=failure.reason,
                    failure_class=failure.failure_class,
                    stage=failure.stage,
                    plugin=failure.plugin,
                )
                log.warning("%s: %s", failure.reason, failure.message, extra=fields)
            else:
                log.info("document deleted", extra={**fields, "status": "deleted"})

        return report

    @contextlib.contextmanager
    def _stop_on_signals(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return

        def stop(signum: int, _frame: object) -> None:
            self.request_stop(f"by signal {signal.Signals(signum).name}")

        previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


def _writable(folder: Path) -> bool:
    import os

    return os.access(folder, os.W_OK | os.X_OK)
