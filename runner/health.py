"""The health endpoints: ``/healthz`` (the process is alive) and ``/readyz`` (it can do its work).

``/readyz`` answers 200 only while the source and the sink pass their checks
(re-checked at most every ``check_interval`` seconds) and, while documents are
in flight, one of them has finished within ``stuck_after`` seconds (an idle
worker with nothing in flight is ready). Both answer a small JSON body.
The server binds to 127.0.0.1 unless configured otherwise.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable

from extractkit.errors import ConfigError, ExtractkitError

log = logging.getLogger("extractkit.health")


class Readiness:
    """Decides whether the worker is ready, caching the (network) checks."""

    def __init__(
        self,
        checks: Callable[[], None],
        last_progress: Callable[[], float],
        busy: Callable[[], bool] = lambda: True,
        *,
        check_interval: float = 30.0,
        stuck_after: float = 300.0,
    ) -> None:
        self._checks = checks
        self._last_progress = last_progress
        self._busy = busy
        self.check_interval = check_interval
        self.stuck_after = stuck_after
        self._checked_at = 0.0
        self._problem: str | None = "not checked yet"
        self._lock = threading.Lock()

    def problem(self) -> str | None:
        """None when ready, else one line saying why not."""
        with self._lock:
            now = time.monotonic()
            if now - self._checked_at >= self.check_interval or self._problem is not None:
                try:
                    self._checks()
                except ExtractkitError as exc:
                    self._problem = str(exc)
                except Exception as exc:  # a check that breaks means not ready, never a dead endpoint
                    self._problem = f"{type(exc).__name__}: {exc}"
                else:
                    self._problem = None
                self._checked_at = now
            if self._problem is not None:
                return self._problem
        idle = time.monotonic() - self._last_progress()
        if idle > self.stuck_after and self._busy():
            return f"the worker loop has made no progress for {idle:.0f} s"
        return None


class HealthServer:
    """A tiny HTTP server on its own thread."""

    def __init__(self, host: str, port: int, readiness: Readiness) -> None:
        self.readiness = readiness
        handler = self._handler_class()
        try:
            self.server = ThreadingHTTPServer((host, port), handler)
        except OSError as exc:
            raise ConfigError(
                "worker.health_port", f"cannot listen on {host}:{port} ({exc.strerror}); set HEALTH_PORT to a free port"
            ) from exc
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self._thread = threading.Thread(target=self.server.serve_forever, name="extractkit-health", daemon=True)

    def start(self) -> HealthServer:
        """Serve in the background."""
        self._thread.start()
        log.info("health endpoints on port %d", self.port, extra={"event": "health", "port": self.port})
        return self

    def close(self) -> None:
        """Stop serving."""
        self.server.shutdown()
        self.server.server_close()

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        readiness = self.readiness

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path == "/healthz":
                    self._answer(200, {"status": "alive"})
                elif self.path == "/readyz":
                    problem = readiness.problem()
                    if problem is None:
                        self._answer(200, {"status": "ready"})
                    else:
                        self._answer(503, {"status": "not ready", "reason": problem})
                else:
                    self._answer(404, {"status": "not found"})

            def _answer(self, status: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: object) -> None:
                """Silence the per-request access log."""

        return Handler
