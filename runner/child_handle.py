"""The parent's handle on one extraction child: start, talk, wait, kill.

The child runs ``python -P -m runner.child_process FD`` in a new session
(``start_new_session``), so its pid is also its process group id. Killing always
targets the whole group, and happens before the child is reaped: while the dead
leader is a zombie its pid, and so the group id, cannot be reused.

Messages from the child are unpickled with :class:`OutcomeUnpickler`, which
refuses every global except extractkit's result types and plain values.
"""

from __future__ import annotations

import io
import os
import pickle
import socket
import subprocess
import sys
import threading
import time
from multiprocessing.connection import Connection
from typing import Any

import psutil

from .child_process import ERROR, JOB, READY, STOP, ChildSettings, Job
from .resource_limits import has_exited, kill_process_group

#: How long a child that was asked to stop may take before it is killed.
STOP_GRACE_SECONDS = 2.0


class ChildGone(Exception):
    """The child closed its end of the socket: it has died."""


class ChildStartError(Exception):
    """The child could not start (its plugins failed to load, or it died or hung on the way up)."""


class OutcomeUnpickler(pickle.Unpickler):
    """Rebuilds only extractkit results, failures and plain values."""

    ALLOWED: frozenset[tuple[str, str]] = frozenset(
        {
            ("extractkit.models", "ExtractionResult"),
            ("extractkit.models", "Page"),
            ("extractkit.models", "Failure"),
            ("extractkit.models", "Attempt"),
            ("datetime", "datetime"),
            ("datetime", "date"),
            ("datetime", "time"),
            ("datetime", "timedelta"),
            ("datetime", "timezone"),
            ("builtins", "set"),
            ("builtins", "frozenset"),
        }
    )

    def find_class(self, module: str, name: str) -> Any:
        """Resolve a global only when it is on the allow-list."""
        if (module, name) in self.ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"{module}.{name} may not be sent by an extraction child")


def load_child_message(data: bytes) -> Any:
    """Unpickle one message from a child with the restricted unpickler."""
    return OutcomeUnpickler(io.BytesIO(data)).load()


def _stdout_for_child() -> int:
    """Route the child's stray prints to the parent's stderr, never into its stdout."""
    try:
        os.fstat(2)
    except OSError:
        return subprocess.DEVNULL
    return 2


def _child_environment() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("OMP_THREAD_LIMIT", "1")
    return env


class ChildHandle:
    """One child process and the socket to it. Not thread-safe: one user at a time."""

    def __init__(self, settings: ChildSettings) -> None:
        parent_end, child_end = socket.socketpair()
        try:
            self.popen = subprocess.Popen(
                [sys.executable, "-P", "-m", "runner.child_process", str(child_end.fileno())],
                pass_fds=(child_end.fileno(),),
                start_new_session=True,
                stdin=subprocess.DEVNULL,
                stdout=_stdout_for_child(),
                env=_child_environment(),
            )
        except BaseException:
            parent_end.close()
            raise
        finally:
            child_end.close()
        self.conn = Connection(parent_end.detach())
        self.pid = self.popen.pid
        self.pgid = self.pid
        self.process = psutil.Process(self.pid)
        self.jobs_done = 0
        self.is_ready = False
        self.address_space_limit: int | None = None
        self._returncode: int | None = None
        self._end_lock = threading.Lock()
        self._stop_requested_at: float | None = None
        try:
            self.conn.send(settings)
        except OSError:
            pass  # it died already; wait_ready reports it

    # -- talking ---------------------------------------------------------------

    def receive(self, timeout: float) -> Any:
        """The next message, or ``None`` if none came within ``timeout``; raises :class:`ChildGone`."""
        try:
            if not self.conn.poll(timeout):
                return None
            return load_child_message(self.conn.recv_bytes())
        except (EOFError, OSError) as error:
            raise ChildGone(str(error)) from error

    def wait_ready(self, timeout: float) -> None:
        """Wait for the child's ready message; raise :class:`ChildStartError` otherwise."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise ChildStartError(f"the extraction child did not start within {timeout:g} s")
            try:
                message = self.receive(min(remaining, 0.5))
            except (ChildGone, pickle.UnpicklingError):
                returncode = self.kill()
                raise ChildStartError(f"the extraction child exited while starting (exit status {returncode})")
            if message is None:
                continue
            kind, payload = message
            if kind == ERROR:
                raise ChildStartError(str(payload))
            if kind == READY:
                self.address_space_limit = payload.get("address_space_limit")
                self.is_ready = True
                return

    def send_job(self, job: Job) -> None:
        """Hand the child a document; raises ``OSError`` if it is gone."""
        self.conn.send((JOB, job))

    # -- ending ----------------------------------------------------------------

    def has_exited(self) -> bool:
        """True once the child process has exited (it may not be reaped yet)."""
        return self._returncode is not None or has_exited(self.pid)

    def kill(self) -> int:
        """Kill the child's whole process group, reap the child and return its exit status."""
        with self._end_lock:
            if self._returncode is None:
                kill_process_group(self.pgid)
                self._returncode = self.popen.wait()
                self.conn.close()
            return self._returncode

    def request_stop(self) -> None:
        """Ask the child to exit once it has finished its current document."""
        if self._stop_requested_at is not None or self._returncode is not None:
            return
        self._stop_requested_at = time.monotonic()
        try:
            self.conn.send((STOP, None))
        except OSError:
            pass

    def stop(self) -> int:
        """Ask the child to exit, give it a short grace, then make sure nothing of its group survives."""
        self.request_stop()
        if self._stop_requested_at is not None:
            deadline = self._stop_requested_at + STOP_GRACE_SECONDS
            while self._returncode is None and not has_exited(self.pid) and time.monotonic() < deadline:
                time.sleep(0.01)
        return self.kill()
