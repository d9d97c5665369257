"""The worker: builds plugins, source, sink and executor from a config, runs the pipeline, reports.

SIGTERM or SIGINT stops taking new items; items in flight finish (or are
released back to their source) before the worker exits with status 0.
"""

from __future__ import annotations

import contextlib
import json
import logging
import signal
import sys
import threading
from pathlib import Path
from typing import Any, Callable, Iterator

from extractkit import Pipeline
from extractkit.errors import ServiceUnreachable
from extractkit.interfaces import Sink, Source
from extractkit.models import Outcome
from extractkit.plugins import Plugins, PluginSpec
from extractkit.retry import RetryPolicy
from extractkit.stats import RunStats

from .config import WorkerConfig
from .isolation import InProcessExecutor, IsolatedExecutor, IsolationLimits
from .logs import metrics_record
from .progress import ProgressBar

log = logging.getLogger("extractkit.worker")


class Worker:
    """One configured worker process."""

    def __init__(self, config: WorkerConfig, *, extra_plugins: tuple[str, ...] = ()) -> None:
        self.config = config
        self.plugin_spec = PluginSpec(extra=tuple(config.plugins["load"]) + tuple(extra_plugins))
        self.plugins = Plugins(self.plugin_spec)
        self.options = config.extract_options()
        for name in (*self.options.preferred_extractors, *self.options.disabled_extractors):
            self.plugins.make_extractor(name)  # raises ConfigError for an unknown name
        self.source: Source = self.plugins.make_source(config.source_type, config.source_options())
        self.sink: Sink = self.plugins.make_sink(config.sink_type, config.sink_options())
        self.stats = RunStats()
        self.pipeline: Pipeline | None = None

    def validate(self) -> list[str]:
        """Check that the source and sink are reachable; return what was checked."""
        checked = []
        for role, component in (("source", self.source), ("sink", self.sink)):
            component.check()
            checked.append(f"{role} '{component.name}' ok")
        temp_dir = Path(self.config.worker["temp_dir"])
        try:
            temp_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ServiceUnreachable(f"TEMP_DIR '{temp_dir}' cannot be created: {exc.strerror}") from exc
        checked.append(f"temp_dir '{temp_dir}' ok")
        return checked

    def _executor(self) -> InProcessExecutor | IsolatedExecutor:
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
        return IsolatedExecutor(
            self.plugin_spec, self.options, limits, worker["max_workers"], temp_dir=Path(worker["temp_dir"]).absolute()
        )

    def run(self, *, progress: bool = False) -> RunStats:
        """Process the source until it is drained or a stop signal arrives."""
        self.source.check()
        self.sink.check()
        bar = ProgressBar(getattr(self.source, "count_items", lambda: None)()) if progress else None
        on_outcome = self._reporter(bar)
        with self._executor() as executor:
            self.pipeline = Pipeline(
                self.source,
                self.sink,
                plugins=self.plugins,
                options=self.options,
                executor=executor,
                concurrency=self.config.worker["max_workers"],
                temp_dir=self.config.worker["temp_dir"],
                failure_log=self.config.worker["failure_log"] or None,
                retry=RetryPolicy(attempts=self.config.worker["retry_attempts"]),
                stats=self.stats,
            )
            with self._stop_on_signals():
                try:
                    self.pipeline.run(on_outcome)
                finally:
                    if bar is not None:
                        bar.finish()
                    self.source.close()
                    self.sink.close()
        log.info("run finished", extra={"event": "summary", **self.stats.snapshot()})
        print(json.dumps(metrics_record(self.stats.snapshot(), {"Service": "extractkit"})), file=sys.stderr)
        return self.stats

    def _reporter(self, bar: ProgressBar | None) -> Callable[[Outcome], None]:
        def report(outcome: Outcome) -> None:
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
                log.warning("document failed: %s", failure.message, extra=fields)
            else:
                log.info("document deleted", extra={**fields, "status": "deleted"})

        return report

    @contextlib.contextmanager
    def _stop_on_signals(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return

        def stop(signum: int, _frame: object) -> None:
            log.info("stop requested by signal %s; finishing documents in flight", signum)
            if self.pipeline is not None:
                self.pipeline.stop()

        previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
