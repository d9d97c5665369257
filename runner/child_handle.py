"""The parent's side of the children: the template (zygote) handle and one handle per worker.

The parent starts the template (:mod:`runner.zygote`) with ``subprocess`` in a
session of its own and asks it for workers over a ``SOCK_SEQPACKET`` socket,
handing over one end of a fresh socket pair per worker. A reader thread collects
the template's answers and exit notices. Killing a worker is always done by the
template, which is its parent: it kills the worker's whole process group while
the worker is still unreaped, so a recycled pid can never be hit.

Messages from workers are unpickled with :class:`OutcomeUnpickler`, which
refuses every global except extractkit's result types and plain values, so a
worker subverted by a hostile file cannot make the parent run code.
"""

from __future__ import annotations

import io
import os
import pickle
import queue
import socket
import subprocess
import sys
import threading
import time
from multiprocessing.connection import Connection
from typing import Any

import psutil

from .child_process import ERROR, JOB, READY, STOP, ChildSettings, Job
from .failures import UNKNOWN_EXIT
from .resource_limits import has_exited, kill_process_group
from .zygote import EXITED, KILL, MAX_PACKET, SPAWN, SPAWN_FAILED, SPAWNED
from .zygote import STOP as ZYGOTE_STOP

#: How long a worker asked to stop may take before it is killed.
STOP_GRACE_SECONDS = 2.0
#: How long to wait for the template to report a killed worker's exit.
EXIT_REPORT_SECONDS = 10.0


class ChildGone(Exception):
    """The worker closed its end of the socket: it has died."""


class ChildMisbehaved(Exception):
    """The worker sent a message the parent refuses (a forbidden type, or not a known shape)."""


class ChildStartError(Exception):
    """A child could not start (plugins failed to load, or it died or hung on the way up)."""


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


def _stdout_for_children() -> int:
    """Route the children's stray prints to the parent's stderr, never into its stdout."""
    try:
        os.fstat(2)
    except OSError:
        return subprocess.DEVNULL
    return 2


class ZygoteHandle:
    """The template process: starts workers, kills them and reports their exits."""

    def __init__(self, settings: ChildSettings, startup_timeout: float) -> None:
        parent_end, child_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            self.popen = subprocess.Popen(
                [sys.executable, "-P", "-m", "runner.zygote", str(child_end.fileno())],
                pass_fds=(child_end.fileno(),),
                start_new_session=True,
                stdin=subprocess.DEVNULL,
                stdout=_stdout_for_children(),
                env={**os.environ, "OMP_THREAD_LIMIT": os.environ.get("OMP_THREAD_LIMIT", "1")},
            )
        except BaseException:
            parent_end.close()
            raise
        finally:
            child_end.close()
        self.control = parent_end
        self._request_lock = threading.Lock()
        self._answers: queue.Queue[tuple[str, Any]] = queue.Queue()
        self._exits: dict[int, int] = {}
        self._exit_changed = threading.Condition()
        self.alive = True
        try:
            self.control.send(pickle.dumps(settings))
            self._wait_ready(startup_timeout)
        except BaseException:
            self.close()
            raise
        threading.Thread(target=self._read, daemon=True, name="extractkit-zygote-reader").start()

    def _wait_ready(self, timeout: float) -> None:
        self.control.settimeout(timeout)
        try:
            data = self.control.recv(MAX_PACKET)
        except (TimeoutError, OSError) as error:
            raise ChildStartError(f"the extraction template process did not start within {timeout:g} s") from error
        finally:
            self.control.settimeout(None)
        if not data:
            raise ChildStartError(f"the extraction template process exited while starting ({self.popen.wait()})")
        kind, payload = load_child_message(data)
        if kind == ERROR:
            raise ChildStartError(str(payload))
        if kind != READY:
            raise ChildStartError(f"the extraction template process sent {kind!r} instead of ready")

    def _read(self) -> None:
        while True:
            try:
                data = self.control.recv(MAX_PACKET)
            except OSError:
                data = b""
            if not data:
                break
            try:
                kind, payload = load_child_message(data)
            except Exception:
                break  # the template is broken; treat it as gone
            if kind == EXITED:
                pid, status = payload
                with self._exit_changed:
                    self._exits[int(pid)] = int(status)
                    self._exit_changed.notify_all()
            else:
                self._answers.put((kind, payload))
        with self._exit_changed:
            self.alive = False
            self._exit_changed.notify_all()
        self._answers.put((SPAWN_FAILED, "the extraction template process is gone"))

    def spawn(self, timeout: float) -> tuple[int, Connection]:
        """Ask for a new worker; return its pid and the connection to it."""
        ours, theirs = socket.socketpair()
        try:
            with self._request_lock:
                if not self.alive:
                    raise ChildStartError("the extraction template process is gone")
                socket.send_fds(self.control, [pickle.dumps((SPAWN, None))], [theirs.fileno()])
                try:
                    kind, payload = self._answers.get(timeout=timeout)
                except queue.Empty as error:
                    raise ChildStartError(f"no worker was started within {timeout:g} s") from error
        except BaseException:
            ours.close()
            raise
        finally:
            theirs.close()
        if kind != SPAWNED:
            ours.close()
            raise ChildStartError(f"the extraction template could not start a worker: {payload}")
        return int(payload), Connection(ours.detach())

    def exit_status(self, pid: int) -> int | None:
        """The worker's exit status once the template has reaped it (or is gone)."""
        with self._exit_changed:
            if pid in self._exits:
                return self._exits[pid]
            return None if self.alive else UNKNOWN_EXIT

    def wait_exit(self, pid: int, timeout: float) -> bool:
        """Wait until the template reports the worker's exit (or is gone); True if it did in time."""
        deadline = time.monotonic() + timeout
        with self._exit_changed:
            while pid not in self._exits and self.alive:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._exit_changed.wait(remaining)
            return True

    def kill_worker(self, pid: int) -> int:
        """Have the template kill the worker's group; wait for and return its exit status."""
        if self.exit_status(pid) is None:
            try:
                with self._request_lock:
                    self.control.send(pickle.dumps((KILL, pid)))
            except OSError:
                pass
            self.wait_exit(pid, EXIT_REPORT_SECONDS)
        with self._exit_changed:
            return self._exits.pop(pid, UNKNOWN_EXIT)

    def close(self) -> None:
        """Stop the template (it kills every worker's group), then make sure its own group is gone."""
        try:
            with self._request_lock:
                self.control.send(pickle.dumps((ZYGOTE_STOP, None)))
        except OSError:
            pass
        deadline = time.monotonic() + STOP_GRACE_SECONDS + EXIT_REPORT_SECONDS
        while self.popen.returncode is None and not has_exited(self.popen.pid) and time.monotonic() < deadline:
            time.sleep(0.01)
        if self.popen.returncode is None:
            kill_process_group(self.popen.pid)  # before reaping, while its group id cannot be reused
        self.popen.wait()
        self.control.close()


class ChildHandle:
    """One worker and the socket to it. Not thread-safe for talking: one caller at a time."""

    def __init__(self, zygote: ZygoteHandle, startup_timeout: float) -> None:
        self.zygote = zygote
        self.pid, self.conn = zygote.spawn(startup_timeout)
        try:
            self.process = psutil.Process(self.pid)
        except psutil.Error as error:
            self.conn.close()
            raise ChildStartError(f"the extraction worker {self.pid} exited at once") from error
        self.jobs_done = 0
        self.is_ready = False
        self.address_space_limit: int | None = None
        self._returncode: int | None = None
        self._end_lock = threading.Lock()
        self._stop_requested_at: float | None = None

    def receive(self, timeout: float) -> tuple[str, Any] | None:
        """The next ``(kind, payload)`` message, or ``None`` if none came within ``timeout``.

        Raises :class:`ChildGone` when the worker has died and :class:`ChildMisbehaved`
        when what it sent is refused.
        """
        try:
            if not self.conn.poll(timeout):
                return None
            data = self.conn.recv_bytes()
        except (EOFError, OSError) as error:
            raise ChildGone(str(error)) from error
        try:
            message = load_child_message(data)
        except Exception as error:
            raise ChildMisbehaved(f"{type(error).__name__}: {error}") from error
        if not (isinstance(message, tuple) and len(message) == 2 and isinstance(message[0], str)):
            raise ChildMisbehaved("a message that is not a (kind, payload) pair")
        return message

    def wait_ready(self, timeout: float) -> None:
        """Wait for the worker's ready message; raise :class:`ChildStartError` otherwise."""
        deadline = time.monotonic() + timeout
        while not self.is_ready:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise ChildStartError(f"the extraction worker did not start within {timeout:g} s")
            try:
                message = self.receive(min(remaining, 0.5))
            except (ChildGone, ChildMisbehaved):
                raise ChildStartError(f"the extraction worker exited while starting (status {self.kill()})")
            if message is not None and message[0] == READY and isinstance(message[1], dict):
                self.address_space_limit = message[1].get("address_space_limit")
                self.is_ready = True

    def send_job(self, job: Job) -> None:
        """Hand the worker a document; raises ``OSError`` if it is gone."""
        self.conn.send((JOB, job))

    def has_exited(self) -> bool:
        """True once the worker has exited (as reported by the template)."""
        return self._returncode is not None or self.zygote.exit_status(self.pid) is not None

    def kill(self) -> int:
        """Kill the worker's whole process group and return its exit status."""
        with self._end_lock:
            if self._returncode is None:
                self._returncode = self.zygote.kill_worker(self.pid)
                self.conn.close()
            return self._returncode

    def request_stop(self) -> None:
        """Ask the worker to exit once it has finished its current document."""
        if self._stop_requested_at is not None or self._returncode is not None:
            return
        self._stop_requested_at = time.monotonic()
        try:
            self.conn.send((STOP, None))
        except OSError:
            pass

    def stop(self) -> int:
        """Ask the worker to exit, give it a short grace, then make sure nothing of its group survives."""
        self.request_stop()
        if self._stop_requested_at is not None and self._returncode is None:
            remaining = self._stop_requested_at + STOP_GRACE_SECONDS - time.monotonic()
            self.zygote.wait_exit(self.pid, max(0.0, remaining))
        return self.kill()
